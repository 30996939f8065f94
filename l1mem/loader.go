package l1mem

import (
	"context"
	"errors"
	"fmt"
)

// flight is one key's load in progress. Callers that join it wait for
// done; val and err are written before done is closed. The keys of one
// GetOrLoadMany load each have a flight, sharing done and cancel.
type flight[V any] struct {
	done   chan struct{}
	val    V
	err    error
	epoch  uint64             // the key's epoch when the load began
	ver    uint64             // the version GetOrLoadVersioned's loader returned
	cancel context.CancelFunc // ends the load's context (Close uses it)
}

// GetOrLoad returns the cached value of key, or calls load to produce it.
//
// Concurrent callers for the same key share one call of load. The load
// runs on its own goroutine, detached from every caller: its context
// carries the values of the ctx of the caller that started it but not
// that caller's cancellation or deadline, and is bounded instead by
// [Options.LoadTimeout]. Each caller, the one that started the load
// included, waits for the result or for its own ctx to end, whichever
// comes first; in the second case it returns ctx.Err() while the load goes
// on for the others and can still fill the cache. So one caller giving up
// never fails another.
//
// A caller joins a load in progress only if the key has not been written,
// deleted or cleared since that load began; otherwise it starts a new one.
// A read that begins after a Set or Delete of key returned therefore never
// gets a value loaded before it. (The older load's result still goes to
// the callers that were already waiting for it.)
//
// A successful result is stored with the default TTL, guarded by the
// key's epoch taken when the load began: if the key was written, deleted
// or cleared meanwhile, the result is returned to its callers but not
// cached. An error from load is returned to every waiting caller and
// nothing is cached, except that with [Options.NegativeTTL] set an error
// wrapping [ErrNotFound] is remembered under the same guard: later calls
// for key return [ErrNotFound] without loading until the TTL passes or
// key is written, deleted or cleared. A panic in load is returned as an error wrapping
// [ErrLoaderPanic]. A nil load is [ErrNilLoader], a nil ctx
// [ErrNilContext]; a ctx that has already ended returns its error without
// starting a load. load must not call GetOrLoad for the same key: it would
// wait for itself.
//
// A hit does not allocate when load is a function value that captures
// nothing; a closure that captures variables is allocated by the caller
// even on a hit, since a miss keeps it for the background load. [Cache.Get]
// first is the way to keep such a caller's hit path allocation-free.
func (c *Cache[K, V]) GetOrLoad(ctx context.Context, key K, load func(context.Context, K) (V, error)) (V, error) {
	return c.getOrLoad(ctx, key, load, nil)
}

// getOrLoad is GetOrLoad with either loader: load, or loadv, which also
// returns the value's version (see version.go).
func (c *Cache[K, V]) getOrLoad(ctx context.Context, key K, load func(context.Context, K) (V, error), loadv func(context.Context, K) (V, uint64, error)) (V, error) {
	h := c.hash(key)
	v, found := c.lookup(key, h)
	switch found {
	case lookupHit:
		return v, nil
	case lookupAbsent:
		return v, ErrNotFound
	}
	var zero V
	if load == nil && loadv == nil {
		return zero, ErrNilLoader
	}
	if ctx == nil {
		return zero, ErrNilContext
	}
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	s := c.shardOf(h)
	s.lock()
	// A flight that finished between the lookup above and this lock has
	// filled the entry: use it rather than loading again.
	if i := s.find(key, h); i >= 0 {
		if e := &s.entries[i]; e.expires == 0 || e.expires > c.now() {
			v, absent := e.val, e.absent()
			s.unlock()
			if absent {
				return zero, ErrNotFound
			}
			return v, nil
		}
	}
	epoch := s.epoch(h)
	f, ok := s.flights[key]
	start := !ok || f.epoch != epoch
	if start {
		// No load in progress, or one that began before the key's last
		// write or delete, whose result may predate it: start our own.
		// The older flight still serves its own waiters and removes
		// itself from the map only if it is still the one there.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.loadTimeout)
		f = &flight[V]{done: make(chan struct{}), epoch: epoch, cancel: cancel}
		if s.flights == nil {
			s.flights = make(map[K]*flight[V])
		}
		s.flights[key] = f
		c.loadMu.Lock()
		c.loading[f] = struct{}{}
		c.loadMu.Unlock()
		s.unlock()
		go c.runFlight(lctx, s, key, h, f, load, loadv)
	} else {
		s.unlock()
	}
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		select {
		case <-f.done: // both ready: the result is worth more
			return f.val, f.err
		default:
			return zero, ctx.Err()
		}
	}
}

// runFlight runs load for f, caches a result the key's epoch still
// allows, and releases f's waiters.
func (c *Cache[K, V]) runFlight(ctx context.Context, s *shard[K, V], key K, h uint64, f *flight[V], load func(context.Context, K) (V, error), loadv func(context.Context, K) (V, uint64, error)) {
	if loadv != nil {
		f.val, f.ver, f.err = callLoaderVersioned(ctx, key, loadv)
	} else {
		f.val, f.err = callLoader(ctx, key, load)
	}
	f.cancel()

	var ev evictList[K, V]
	collect := c.onEvict != nil
	s.lock()
	if s.flights[key] == f {
		delete(s.flights, key)
	}
	c.settle(s, key, h, f, &ev, collect)
	s.unlock()
	if collect {
		ev.fire(c.onEvict)
	}
	c.loadMu.Lock()
	delete(c.loading, f)
	c.loadMu.Unlock()
	close(f.done)
}

// settle stores a finished flight's outcome for key, if the key's epoch
// has not moved since the flight began: a value, or with NegativeTTL a
// remembered miss when the error wraps ErrNotFound. Called with the shard
// locked.
func (c *Cache[K, V]) settle(s *shard[K, V], key K, h uint64, f *flight[V], ev *evictList[K, V], collect bool) {
	if s.epoch(h) != f.epoch {
		return
	}
	switch {
	case f.err == nil:
		s.put(key, h, f.val, c.deadline(c.ttl), ev, collect)
		if f.ver != 0 {
			s.setVersion(s.find(key, h), f.ver)
		}
	case c.negTTL > 0 && errors.Is(f.err, ErrNotFound):
		now := c.now()
		s.putAbsent(key, h, now, now+c.negTTL, ev, collect)
	}
}

// cancelLoads cancels every load in progress and waits for each to
// finish (its goroutine does nothing after closing done).
func (c *Cache[K, V]) cancelLoads() {
	c.loadMu.Lock()
	fs := make([]*flight[V], 0, len(c.loading))
	for f := range c.loading {
		fs = append(fs, f)
	}
	c.loadMu.Unlock()
	for _, f := range fs {
		f.cancel()
	}
	for _, f := range fs {
		<-f.done
	}
}

func callLoader[K comparable, V any](ctx context.Context, key K, load func(context.Context, K) (V, error)) (V, error) {
	v, _, err := callLoaderVersioned(ctx, key, func(ctx context.Context, k K) (V, uint64, error) {
		v, err := load(ctx, k)
		return v, 0, err
	})
	return v, err
}

func callLoaderVersioned[K comparable, V any](ctx context.Context, key K, load func(context.Context, K) (V, uint64, error)) (v V, ver uint64, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero V
			v, ver, err = zero, 0, fmt.Errorf("%w: %v", ErrLoaderPanic, r)
		}
	}()
	return load(ctx, key)
}

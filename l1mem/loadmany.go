package l1mem

import (
	"context"
	"errors"
	"fmt"
)

// GetOrLoadMany returns the cached values of keys, calling load once for
// the keys that are neither cached nor being loaded, and waiting for the
// loads already under way for the others. The result maps each key that
// has a value to it; a key load leaves out of its map does not exist and
// is left out of the result too (with [Options.NegativeTTL] set, it is
// remembered as missing like a [Cache.GetOrLoad] miss). Repeated keys are
// looked up once.
//
// The rules are [Cache.GetOrLoad]'s, key by key. A key joins a load in
// progress (started by GetOrLoad or GetOrLoadMany) only if it has not
// been written, deleted or cleared since that load began; otherwise it is
// loaded anew. The load runs on its own goroutine, detached from every
// caller: its context carries the values of ctx but not its cancellation
// or deadline, and is bounded by [Options.LoadTimeout]. Each caller waits
// for all of its keys or for its own ctx to end, in which case it returns
// ctx.Err() while the loads go on and can still fill the cache. Each
// loaded value is stored with the default TTL under its key's epoch
// guard: a key written, deleted or cleared meanwhile gets the value in
// the result but not in the cache. Keys in load's map that were not asked
// for are ignored.
//
// If load returns an error, or a load this call joined failed, the call
// returns that error (the first one met) and no map; nothing is cached
// for the failed keys. A panic in load is an error wrapping
// [ErrLoaderPanic]. A nil load is [ErrNilLoader] and a nil ctx
// [ErrNilContext] unless every key is cached; a ctx that has already
// ended returns its error without starting a load.
func (c *Cache[K, V]) GetOrLoadMany(ctx context.Context, keys []K, load func(ctx context.Context, missing []K) (map[K]V, error)) (map[K]V, error) {
	out := make(map[K]V, len(keys))
	type miss struct {
		key K
		h   uint64
	}
	var misses []miss
	seen := make(map[K]struct{}, len(keys))
	for _, k := range keys {
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		h := c.hash(k)
		switch v, found := c.lookup(k, h); found {
		case lookupHit:
			out[k] = v
		case lookupMiss:
			misses = append(misses, miss{k, h})
		}
	}
	if len(misses) == 0 {
		return out, nil
	}
	if load == nil {
		return nil, ErrNilLoader
	}
	if ctx == nil {
		return nil, ErrNilContext
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Under each key's shard lock: take a value that appeared meanwhile,
	// join a flight of the same epoch, or open a flight of our own. Our
	// flights share one done channel and one context.
	type wait struct {
		key K
		f   *flight[V]
	}
	var (
		waits []wait
		mine  []bulkKey[K, V]
		done  chan struct{}
		lctx  context.Context
		stop  context.CancelFunc
	)
	for _, m := range misses {
		s := c.shardOf(m.h)
		s.lock()
		if i := s.find(m.key, m.h); i >= 0 {
			if e := &s.entries[i]; e.expires == 0 || e.expires > c.now() {
				if !e.absent() {
					out[m.key] = e.val
				}
				s.unlock()
				continue
			}
		}
		epoch := s.epoch(m.h)
		if f, ok := s.flights[m.key]; ok && f.epoch == epoch {
			s.unlock()
			waits = append(waits, wait{m.key, f})
			continue
		}
		if done == nil {
			done = make(chan struct{})
			lctx, stop = context.WithTimeout(context.WithoutCancel(ctx), c.loadTimeout)
		}
		f := &flight[V]{done: done, epoch: epoch, cancel: stop}
		if s.flights == nil {
			s.flights = make(map[K]*flight[V])
		}
		s.flights[m.key] = f
		s.unlock()
		mine = append(mine, bulkKey[K, V]{m.key, m.h, f})
		waits = append(waits, wait{m.key, f})
	}
	if len(mine) > 0 {
		// Close waits for one representative: every flight of this load
		// shares its done channel and cancel function.
		handle := &flight[V]{done: done, cancel: stop}
		c.loadMu.Lock()
		c.loading[handle] = struct{}{}
		c.loadMu.Unlock()
		go c.runBulk(lctx, mine, handle, load)
	}

	for _, w := range waits {
		select {
		case <-w.f.done:
		case <-ctx.Done():
			select {
			case <-w.f.done: // both ready: the result is worth more
			default:
				return nil, ctx.Err()
			}
		}
	}
	for _, w := range waits {
		switch {
		case w.f.err == nil:
			out[w.key] = w.f.val
		case errors.Is(w.f.err, ErrNotFound):
		default:
			return nil, w.f.err
		}
	}
	return out, nil
}

// bulkKey is one key of a GetOrLoadMany load and its flight.
type bulkKey[K comparable, V any] struct {
	key K
	h   uint64
	f   *flight[V]
}

// runBulk runs load for the keys of one GetOrLoadMany load, gives each
// key's flight its outcome (a value, ErrNotFound for a key load left out,
// or load's error), caches what the keys' epochs still allow, and
// releases the waiters.
func (c *Cache[K, V]) runBulk(ctx context.Context, keys []bulkKey[K, V], handle *flight[V], load func(context.Context, []K) (map[K]V, error)) {
	ask := make([]K, len(keys))
	for i, k := range keys {
		ask[i] = k.key
	}
	vals, err := callBulkLoader(ctx, ask, load)
	handle.cancel()

	var ev evictList[K, V]
	collect := c.onEvict != nil
	for _, k := range keys {
		f := k.f
		switch v, ok := vals[k.key]; {
		case err != nil:
			f.err = err
		case ok:
			f.val = v
		default:
			f.err = ErrNotFound
		}
		s := c.shardOf(k.h)
		s.lock()
		if s.flights[k.key] == f {
			delete(s.flights, k.key)
		}
		c.settle(s, k.key, k.h, f, &ev, collect)
		s.unlock()
		if collect {
			ev.fire(c.onEvict)
			ev = evictList[K, V]{}
		}
	}
	c.loadMu.Lock()
	delete(c.loading, handle)
	c.loadMu.Unlock()
	close(handle.done)
}

func callBulkLoader[K comparable, V any](ctx context.Context, keys []K, load func(context.Context, []K) (map[K]V, error)) (m map[K]V, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%w: %v", ErrLoaderPanic, r)
		}
	}()
	return load(ctx, keys)
}

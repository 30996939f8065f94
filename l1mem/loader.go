package l1mem

import (
	"context"
	"fmt"
)

// flight is one in-progress load shared by every caller of the key.
type flight[V any] struct {
	done chan struct{}
	val  V
	err  error
}

// GetOrLoad returns the cached value of key, or calls load to produce it.
// Concurrent callers for the same key share one call of load: one caller
// runs it and the others wait for its result (or for their own ctx to end,
// in which case they return ctx.Err()). load receives the ctx of the
// caller that runs it.
//
// A successful result is stored with the default TTL, guarded by the
// key's epoch taken before load started: if the key was written, deleted
// or cleared meanwhile, the result is returned to the callers but not
// cached. An error from load is returned to every waiting caller and
// nothing is cached. A panic in load is returned as an error wrapping
// [ErrLoaderPanic]. load must not call GetOrLoad for the same key: it would
// wait for itself.
func (c *Cache[K, V]) GetOrLoad(ctx context.Context, key K, load func(context.Context, K) (V, error)) (V, error) {
	if v, ok := c.Get(key); ok {
		return v, nil
	}
	var zero V
	if load == nil {
		return zero, ErrNilLoader
	}
	h := c.hash(key)
	s := c.shardOf(h)
	s.lk.lock()
	// A flight that finished between the Get above and this lock has
	// filled the entry: use it rather than loading again.
	if i := s.find(key, h); i >= 0 {
		if e := &s.entries[i]; e.expires == 0 || e.expires > c.now() {
			v := e.val
			s.lk.unlock()
			return v, nil
		}
	}
	if f, ok := s.flights[key]; ok {
		s.lk.unlock()
		select {
		case <-f.done:
			return f.val, f.err
		case <-ctx.Done():
			return zero, ctx.Err()
		}
	}
	if s.flights == nil {
		s.flights = make(map[K]*flight[V])
	}
	f := &flight[V]{done: make(chan struct{})}
	s.flights[key] = f
	epoch := s.epoch(h)
	s.lk.unlock()

	f.val, f.err = callLoader(ctx, key, load)

	var ev evictList[K, V]
	collect := c.onEvict != nil
	s.lk.lock()
	delete(s.flights, key)
	if f.err == nil && s.epoch(h) == epoch {
		s.put(key, h, f.val, c.deadline(c.ttl), &ev, collect)
	}
	s.lk.unlock()
	close(f.done)
	if collect {
		ev.fire(c.onEvict)
	}
	return f.val, f.err
}

func callLoader[K comparable, V any](ctx context.Context, key K, load func(context.Context, K) (V, error)) (v V, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero V
			v, err = zero, fmt.Errorf("%w: %v", ErrLoaderPanic, r)
		}
	}()
	return load(ctx, key)
}

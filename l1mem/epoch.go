package l1mem

import (
	"fmt"
	"time"
)

// epochSlots is the number of invalidation counters per shard. Keys of a
// shard share them by hash, so a write to one key can make a fill of
// another key in the same slot fail; it can never make a stale fill
// succeed.
const epochSlots = 64

func epochSlot(h uint64) uint64 { return (h >> 20) & (epochSlots - 1) }

// Epoch returns the fill-guard token of key. Take it before reading the
// value from a slower tier, then store the value with [Cache.SetIfEpoch].
//
// The guard does not live in the entry, so it survives the entry being
// evicted, expired or deleted: each shard keeps a counter that every Set,
// SetWithTTL, Delete and Clear advances, and a small table of the last
// counter value per hash slot.
func (c *Cache[K, V]) Epoch(key K) uint64 {
	h := c.hash(key)
	s := c.shardOf(h)
	st := s.lk.rlock()
	e := s.epoch(h)
	s.lk.runlock(st, outcomeNone)
	return e
}

// VoidFills advances key's fill-guard epoch and leaves its entry as it is:
// a fill that took its epoch before the call (SetIfEpoch, GetOrLoad, and
// the Refresh family's creation) stores nothing, and a load that starts
// after it does not join a flight begun before. A writer calls it before
// its write begins, so that no value read before the write can be stored
// while the write is under way; whatever the entry holds meanwhile stays
// readable. A remembered miss stays remembered.
func (c *Cache[K, V]) VoidFills(key K) {
	h := c.hash(key)
	s := c.shardOf(h)
	s.lock()
	s.bump(h)
	s.unlock()
}

// SetIfEpoch stores value under key with the default TTL only if key has
// not been invalidated since [Cache.Epoch] returned epoch, and reports
// whether it stored it.
//
// The guarantee: if any Set, SetWithTTL or Delete of key, or any Clear,
// completed after the Epoch call that produced epoch, SetIfEpoch returns
// false and stores nothing. It may also return false, rarely, when a
// different key sharing the same shard and hash slot (one in 64 keys of
// a shard) was written in that window. Fills themselves (SetIfEpoch,
// GetOrLoad) do not invalidate, so concurrent fills of one key do not
// refuse each other. Eviction and expiry do not invalidate either.
func (c *Cache[K, V]) SetIfEpoch(key K, value V, epoch uint64) bool {
	return c.setIfEpoch(key, value, epoch, c.deadline(c.ttl), 0)
}

// SetIfEpochWithTTL is [Cache.SetIfEpoch] with a per-entry TTL (0 means
// the entry never expires). A negative ttl is an error wrapping
// [ErrInvalidTTL] and stores nothing.
func (c *Cache[K, V]) SetIfEpochWithTTL(key K, value V, ttl time.Duration, epoch uint64) (bool, error) {
	if ttl < 0 {
		return false, fmt.Errorf("%w: %v is negative", ErrInvalidTTL, ttl)
	}
	return c.setIfEpoch(key, value, epoch, c.deadline(int64(ttl)), 0), nil
}

// setIfEpoch stores value with its version (0: unknown; see version.go).
func (c *Cache[K, V]) setIfEpoch(key K, value V, epoch uint64, exp int64, version uint64) bool {
	h := c.hash(key)
	s := c.shardOf(h)
	var ev evictList[K, V]
	collect := c.onEvict != nil
	s.lock()
	ok := s.epoch(h) == epoch
	if ok {
		s.put(key, h, value, exp, &ev, collect)
		if version != 0 {
			s.setVersion(s.find(key, h), version)
		}
	}
	s.unlock()
	if collect {
		ev.fire(c.onEvict)
	}
	return ok
}

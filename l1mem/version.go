package l1mem

import "context"

// Versions: a writer that knows the version of what it wrote (a row
// version its database assigns in commit order) can refresh a cached copy
// instead of dropping it, safely against other writers and readers racing
// it, if the cache knows the version of what it holds.
//
// The version of an entry lives beside the slab, not in the entry: each
// shard keeps a slice parallel to its slab, allocated by the first
// versioned store, so a cache that never stores a version pays nothing for
// it, the entry keeps its size, and Get, which never reads a version,
// keeps its cost. Version 0 means unknown: every plain store (Set,
// SetIfEpoch, GetOrLoad, SetIfAbsent) records it, and a refresh drops an
// entry of unknown version rather than guess.

// GetOrLoadVersioned is [Cache.GetOrLoad] with a loader that also returns
// the version of the value it loaded (0: unknown). The value is cached
// under the same epoch guard, with its version, which [Cache.Refresh]
// compares against.
func (c *Cache[K, V]) GetOrLoadVersioned(ctx context.Context, key K, load func(context.Context, K) (V, uint64, error)) (V, error) {
	if load == nil {
		var zero V
		return zero, ErrNilLoader
	}
	return c.getOrLoad(ctx, key, nil, load)
}

// SetIfEpochVersion is [Cache.SetIfEpoch] for a value of a known version.
func (c *Cache[K, V]) SetIfEpochVersion(key K, value V, epoch, version uint64) bool {
	return c.setIfEpoch(key, value, epoch, c.deadline(c.ttl), version)
}

// Refresh is a writer's compare-and-replace: it stores value, of version
// version, under key with the default TTL only if key holds an unexpired
// value of a known, lower version, and reports whether it did. It never
// creates an entry, so a refresh that arrives after a Delete of key cannot
// bring the key back; it leaves a value of the same or a higher version as
// it is (a newer write or fill got there first); and it removes a value of
// unknown version (version 0), which may be newer than this one. Like
// Delete, it always advances key's fill-guard epoch, so a fill that began
// before it (and may carry an older value) is not stored. version 0 is
// not a version: the entry is removed.
func (c *Cache[K, V]) Refresh(key K, value V, version uint64) bool {
	return c.refresh(key, value, version, 0, false)
}

// RefreshIfEpoch is [Cache.Refresh] for a writer that took key's
// [Cache.Epoch] before its write began: where Refresh never creates an
// entry, RefreshIfEpoch also stores value, of version version, under a key
// that holds no value (or an expired one) if nothing has invalidated key
// since that Epoch call — no Set, Delete, Clear or Refresh of key
// completed in between. That is the fill guard of [Cache.SetIfEpoch], for
// a value the writer itself committed after taking the epoch: a Delete or
// a newer write that reaches the cache after the commit advances the
// epoch, so the older value is not created after it. A remembered miss
// (negative caching) and a value of unknown version are removed, as by
// Refresh. It reports whether it stored value.
func (c *Cache[K, V]) RefreshIfEpoch(key K, value V, version, epoch uint64) bool {
	return c.refresh(key, value, version, epoch, true)
}

// refresh is Refresh, and RefreshIfEpoch when create.
func (c *Cache[K, V]) refresh(key K, value V, version, epoch uint64, create bool) bool {
	h := c.hash(key)
	s := c.shardOf(h)
	var ev evictList[K, V]
	collect := c.onEvict != nil
	s.lock()
	create = create && version != 0 && s.epoch(h) == epoch // (before this write's own bump)
	s.bump(h)
	i := s.find(key, h)
	stored := false
	var e *entry[K, V]
	if i >= 0 {
		e = &s.entries[i]
	}
	switch {
	case (i < 0 || (!e.absent() && e.expires != 0 && e.expires <= c.now())) && create:
		s.put(key, h, value, c.deadline(c.ttl), &ev, collect)
		s.setVersion(s.find(key, h), version)
		stored = true
	case i < 0:
	case e.absent() || (e.expires != 0 && e.expires <= c.now()) || s.versionAt(i) == 0 || version == 0:
		if s.track {
			s.drain()
		}
		s.removeAt(i, ReasonDeleted, &ev, collect)
	case s.versionAt(i) < version:
		s.put(key, h, value, c.deadline(c.ttl), &ev, collect)
		s.setVersion(i, version)
		stored = true
	}
	s.unlock()
	if collect {
		ev.fire(c.onEvict)
	}
	return stored
}

// DeleteBelow is Delete for a change of key known to be at version
// version: it removes key's entry unless that holds an unexpired value of a
// known version at least as new (a writer's refresh or a fill that read
// this change or a later one), and, like Delete, always advances key's
// fill-guard epoch, so that a fill begun before it, which may carry an
// older value, is not stored. Version 0 removes whatever key holds. It
// reports whether it removed a value.
func (c *Cache[K, V]) DeleteBelow(key K, version uint64) bool {
	live := false
	_, removed := c.deleteUnless(key, func(s *shard[K, V], i int32) bool {
		e := &s.entries[i]
		live = !e.absent() && (e.expires == 0 || e.expires > c.now())
		return live && version != 0 && s.versionAt(i) >= version
	})
	return removed && live
}

// Version returns the version recorded with key's unexpired value (0 when
// unknown) and whether key holds one.
func (c *Cache[K, V]) Version(key K) (uint64, bool) {
	h := c.hash(key)
	s := c.shardOf(h)
	s.lock()
	defer s.unlock()
	i := s.find(key, h)
	if i < 0 {
		return 0, false
	}
	if e := &s.entries[i]; e.absent() || (e.expires != 0 && e.expires <= c.now()) {
		return 0, false
	}
	return s.versionAt(i), true
}

// versionAt returns slot i's version. Called with the shard locked.
func (s *shard[K, V]) versionAt(i int32) uint64 {
	if int(i) >= len(s.vers) {
		return 0
	}
	return s.vers[i]
}

// setVersion records slot i's version, allocating the versions beside the
// slab on the first known one. Called with the shard locked.
func (s *shard[K, V]) setVersion(i int32, v uint64) {
	if i < 0 || (v == 0 && int(i) >= len(s.vers)) {
		return
	}
	if int(i) >= len(s.vers) {
		vers := make([]uint64, cap(s.entries))
		copy(vers, s.vers)
		s.vers = vers
	}
	s.vers[i] = v
}

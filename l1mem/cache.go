package l1mem

import (
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"time"
)

// Cache is a sharded in-memory cache from K to V. It is safe for concurrent
// use. Create one with [New]; stop its background sweep with [Cache.Close].
type Cache[K comparable, V any] struct {
	shards  []shard[K, V]
	mask    uint64
	hash    func(K) uint64
	now     nanoClock
	ttl     int64 // default TTL in ns; 0 = none
	onEvict func(K, V, EvictReason)

	loadTimeout time.Duration
	negTTL      int64 // Options.NegativeTTL in ns; 0 = misses are not remembered
	loadMu      sync.Mutex
	loading     map[*flight[V]]struct{} // GetOrLoad's loads in progress

	closeOnce sync.Once
	stop      chan struct{}
	done      chan struct{}
}

// New returns a cache configured by opts; nil opts means all defaults (256
// unbounded LRU shards, no TTL). It fails with an error wrapping
// [ErrInvalidOptions] when an option is out of range.
func New[K comparable, V any](opts *Options[K, V]) (*Cache[K, V], error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Cache[K, V]{
		shards:  make([]shard[K, V], o.Shards),
		mask:    uint64(o.Shards - 1),
		hash:    hasher[K](),
		now:     newNanoClock(o.Clock),
		ttl:     int64(o.DefaultTTL),
		onEvict: o.OnEvict,

		loadTimeout: o.LoadTimeout,
		negTTL:      int64(o.NegativeTTL),
		loading:     make(map[*flight[V]]struct{}),

		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for i := range c.shards {
		c.shards[i].init(o.Eviction, o.shardCapacity(i))
	}
	if o.DisableSweep {
		close(c.done)
	} else {
		go c.sweepLoop(o.SweepInterval)
	}
	return c, nil
}

func (c *Cache[K, V]) shardOf(h uint64) *shard[K, V] { return &c.shards[h&c.mask] }

// deadline converts a TTL into an expiry deadline; 0 means never.
func (c *Cache[K, V]) deadline(ttl int64) int64 {
	if ttl <= 0 {
		return 0
	}
	return c.now() + ttl
}

// Get returns the value stored under key and whether it was found. An
// expired entry is never returned. A hit does not allocate and holds the
// shard's read lock only while the value is copied.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	v, _, ok := c.get(key, outcomeHit)
	return v, ok
}

// GetTallied is [Cache.Get] that also adds one to the cache's tally
// ([Cache.Tally]) on a hit, in the atomic operation that ends the read: it
// adds no atomic operation to Get's. A caller that must count a class of its own
// reads exactly (a data store counting the reads it serves from this
// cache) reads them with GetTallied and sums Tally, instead of adding to a
// counter of its own on every hit. Its hits also count in Stats.Hits.
func (c *Cache[K, V]) GetTallied(key K) (V, bool) {
	v, _, ok := c.get(key, outcomeTallied)
	return v, ok
}

// Tally returns how many hits GetTallied has served. It reads every shard,
// so it is for reports, not for the read path.
func (c *Cache[K, V]) Tally() uint64 {
	var t uint64
	for i := range c.shards {
		t += c.shards[i].lk.tallied()
	}
	return t
}

// get is the body of Get, GetTallied and GetWithTTL: the value under key,
// the nanoseconds it has left to live (0 for an entry that never expires),
// and whether it was found; a hit is counted as outcome says.
func (c *Cache[K, V]) get(key K, outcome int) (V, int64, bool) {
	h := c.hash(key)
	s := c.shardOf(h)
	st := s.lk.rlock()
	i := s.find(key, h)
	var zero V
	if i < 0 {
		s.lk.runlock(st, outcomeMiss)
		return zero, 0, false
	}
	e := &s.entries[i]
	var left int64
	if e.expires != 0 {
		if left = e.expires - c.now(); left <= 0 {
			gen := e.gen
			s.lk.runlock(st, outcomeMiss)
			c.expire(s, i, gen)
			return zero, 0, false
		}
	}
	m := atomic.LoadUint32(&e.mark)
	if m&markAbsent != 0 {
		s.lk.runlock(st, outcomeMiss)
		return zero, 0, false
	}
	v := e.val
	drain := false
	if s.clock {
		touch(&e.mark, m)
	} else if s.track {
		drain = s.lk.bufOf(st).note(i, e.gen, s.filter, s.shift, s.lk.inserts.Load())
	}
	s.lk.runlock(st, outcome)
	if drain {
		s.tryDrain()
	}
	return v, left, true
}

// lookupResult is what lookup found.
type lookupResult uint8

const (
	lookupMiss   lookupResult = iota
	lookupHit                 // a value
	lookupAbsent              // a remembered miss
)

// lookup is Get for the loaders: it also tells a remembered miss from a
// plain one. Both count as misses.
func (c *Cache[K, V]) lookup(key K, h uint64) (V, lookupResult) {
	s := c.shardOf(h)
	st := s.lk.rlock()
	i := s.find(key, h)
	var zero V
	if i < 0 {
		s.lk.runlock(st, outcomeMiss)
		return zero, lookupMiss
	}
	e := &s.entries[i]
	if e.expires != 0 && e.expires <= c.now() {
		gen := e.gen
		s.lk.runlock(st, outcomeMiss)
		c.expire(s, i, gen)
		return zero, lookupMiss
	}
	m := atomic.LoadUint32(&e.mark)
	if m&markAbsent != 0 {
		s.lk.runlock(st, outcomeMiss)
		return zero, lookupAbsent
	}
	v := e.val
	drain := false
	if s.clock {
		touch(&e.mark, m)
	} else if s.track {
		drain = s.lk.bufOf(st).note(i, e.gen, s.filter, s.shift, s.lk.inserts.Load())
	}
	s.lk.runlock(st, outcomeHit)
	if drain {
		s.tryDrain()
	}
	return v, lookupHit
}

// Has reports whether key is present and unexpired. It does not count as a
// use of the entry nor as a hit or miss. A remembered miss (see
// [Options.NegativeTTL]) is not present.
func (c *Cache[K, V]) Has(key K) bool {
	h := c.hash(key)
	s := c.shardOf(h)
	st := s.lk.rlock()
	i := s.find(key, h)
	ok := i >= 0
	if ok {
		e := &s.entries[i]
		ok = !e.absent() && (e.expires == 0 || e.expires > c.now())
	}
	s.lk.runlock(st, outcomeNone)
	return ok
}

// expire removes slot i if it still holds the same, expired entry. It
// runs after the caller's read section ended, so anything may have
// happened to the slot meanwhile: a Clear may have shrunk the slab below
// i, or the slot may have been freed or reused (then its gen differs).
func (c *Cache[K, V]) expire(s *shard[K, V], i int32, gen uint32) {
	var ev evictList[K, V]
	collect := c.onEvict != nil
	s.lock()
	if int(i) >= len(s.entries) {
		s.unlock()
		return
	}
	if e := &s.entries[i]; e.gen == gen && e.expires != 0 && e.expires <= c.now() {
		s.drain()
		s.removeAt(i, ReasonExpired, &ev, collect)
	}
	s.unlock()
	if collect {
		ev.fire(c.onEvict)
	}
}

// Set stores value under key with the default TTL, replacing any previous
// value. Overwriting an existing key does not allocate.
func (c *Cache[K, V]) Set(key K, value V) {
	c.set(key, value, c.deadline(c.ttl))
}

// SetWithTTL stores value under key for ttl; a ttl of 0 means the entry
// never expires. A negative ttl is an error wrapping [ErrInvalidTTL] and
// stores nothing.
func (c *Cache[K, V]) SetWithTTL(key K, value V, ttl time.Duration) error {
	if ttl < 0 {
		return fmt.Errorf("%w: %v is negative", ErrInvalidTTL, ttl)
	}
	c.set(key, value, c.deadline(int64(ttl)))
	return nil
}

func (c *Cache[K, V]) set(key K, value V, exp int64) {
	h := c.hash(key)
	s := c.shardOf(h)
	var ev evictList[K, V]
	collect := c.onEvict != nil
	s.lock()
	s.bump(h)
	s.put(key, h, value, exp, &ev, collect)
	s.unlock()
	if collect {
		ev.fire(c.onEvict)
	}
}

// SetIfAbsent stores value under key with the default TTL unless key
// already holds an unexpired value. It returns the value key holds
// afterwards and whether it was stored. Storing counts as a write for the
// fill guard, like Set, and ends a remembered miss of key; finding a
// value changes nothing (it is not a use of the entry either).
func (c *Cache[K, V]) SetIfAbsent(key K, value V) (actual V, stored bool) {
	h := c.hash(key)
	s := c.shardOf(h)
	var ev evictList[K, V]
	collect := c.onEvict != nil
	s.lock()
	if i := s.find(key, h); i >= 0 {
		if e := &s.entries[i]; !e.absent() && (e.expires == 0 || e.expires > c.now()) {
			v := e.val
			s.unlock()
			return v, false
		}
	}
	s.bump(h)
	s.put(key, h, value, c.deadline(c.ttl), &ev, collect)
	s.unlock()
	if collect {
		ev.fire(c.onEvict)
	}
	return value, true
}

// put writes key under mu: in place when present, else as a new entry.
func (s *shard[K, V]) put(key K, h uint64, value V, exp int64, ev *evictList[K, V], collect bool) {
	if s.track {
		s.drain()
	}
	if i := s.find(key, h); i >= 0 {
		e := &s.entries[i]
		if collect && !e.absent() {
			ev.add(key, e.val, ReasonReplaced)
		}
		e.val, e.expires = value, exp
		e.setAbsent(false)
		s.setVersion(i, 0) // a plain store: the version is unknown
		switch {
		case !s.track && !s.clock:
		case uint32(uint16(s.tick)-e.stamp()) >= s.skip:
			s.hit(i)
			e.setStamp(uint16(s.tick))
			e.setRef(false) // clock mode: at the head, a new round
		case s.clock:
			// Overwritten lately, so near the head: the mark keeps it
			// from being evicted before an entry nobody used.
			e.setRef(true)
		}
		return
	}
	s.insert(key, h, value, exp, false, ev, collect)
}

// putAbsent remembers that key does not exist, until exp, unless the key
// holds a live value (a fill that raced with the loader that found
// nothing). Called with the shard locked.
func (s *shard[K, V]) putAbsent(key K, h uint64, now, exp int64, ev *evictList[K, V], collect bool) {
	if s.track {
		s.drain()
	}
	if i := s.find(key, h); i >= 0 {
		e := &s.entries[i]
		if !e.absent() {
			if e.expires == 0 || e.expires > now {
				return
			}
			s.removeAt(i, ReasonExpired, ev, collect)
		} else {
			e.expires = exp
			return
		}
	}
	var zero V
	s.insert(key, h, zero, exp, true, ev, collect)
}

// Delete removes key and reports whether it was present. It always
// invalidates the key's fill-guard epoch, present or not, and ends a
// remembered miss of key (which does not count as present).
func (c *Cache[K, V]) Delete(key K) bool {
	present, _ := c.deleteUnless(key, nil)
	return present
}

// deleteUnless advances key's fill-guard epoch and removes its entry
// unless keep, called with the shard locked and the entry's slot, says to
// keep it. It reports whether key held a value (a remembered miss is none)
// and whether the entry was removed.
func (c *Cache[K, V]) deleteUnless(key K, keep func(s *shard[K, V], i int32) bool) (present, removed bool) {
	h := c.hash(key)
	s := c.shardOf(h)
	var ev evictList[K, V]
	collect := c.onEvict != nil
	s.lock()
	s.bump(h)
	i := s.find(key, h)
	present = i >= 0 && !s.entries[i].absent()
	if i >= 0 && (keep == nil || !keep(s, i)) {
		if s.track {
			s.drain()
		}
		s.removeAt(i, ReasonDeleted, &ev, collect)
		removed = true
	}
	s.unlock()
	if collect {
		ev.fire(c.onEvict)
	}
	return present, removed
}

// Len returns the number of entries held, including expired entries that
// have not been removed yet and remembered misses (see
// [Options.NegativeTTL]), which take room like any entry.
func (c *Cache[K, V]) Len() int {
	n := 0
	for i := range c.shards {
		n += int(c.shards[i].size.Load())
	}
	return n
}

// Clear removes every entry (reason [ReasonCleared]) and invalidates every
// fill-guard epoch. Shards are cleared one at a time.
func (c *Cache[K, V]) Clear() {
	collect := c.onEvict != nil
	var out []evicted[K, V]
	for si := range c.shards {
		s := &c.shards[si]
		s.lock()
		s.seq++
		s.floor = s.seq
		if collect {
			for i := range s.entries {
				if e := &s.entries[i]; e.live() && !e.absent() {
					out = append(out, evicted[K, V]{e.key, e.val, ReasonCleared})
				}
			}
		}
		s.drain()
		clear(s.index)
		s.clearSlab()
		s.free = s.free[:0]
		s.pol.reset()
		s.count = 0
		s.size.Store(0)
		s.unlock()
		if collect {
			for _, e := range out {
				c.onEvict(e.key, e.val, e.reason)
			}
			out = out[:0]
		}
	}
}

// All returns an iterator over the unexpired entries, as [Cache.Range]
// visits them: shard by shard, each shard copied under its read lock and
// yielded with no lock held, so the loop body may use the cache.
func (c *Cache[K, V]) All() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) { c.Range(yield) }
}

// Range calls fn for each unexpired entry until fn returns false. Each
// shard is copied under its read lock and fn runs without any lock held,
// so fn may use the cache; entries written during Range may or may not be
// seen.
func (c *Cache[K, V]) Range(fn func(key K, value V) bool) {
	type kv struct {
		k K
		v V
	}
	var buf []kv
	for si := range c.shards {
		s := &c.shards[si]
		buf = buf[:0]
		st := s.lk.rlock()
		now := c.now()
		for i := range s.entries {
			e := &s.entries[i]
			if e.live() && !e.absent() && (e.expires == 0 || e.expires > now) {
				buf = append(buf, kv{e.key, e.val})
			}
		}
		s.lk.runlock(st, outcomeNone)
		for _, p := range buf {
			if !fn(p.k, p.v) {
				return
			}
		}
	}
}

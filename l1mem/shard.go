package l1mem

import (
	"sync"
	"sync/atomic"

	"github.com/AndrewDonelson/strata/l1mem/internal/ilist"
)

const (
	// rbSize is the number of slots in a shard's read buffer. A reader that
	// fills the last slot tries to drain the buffer; writers drain it
	// before they change the eviction order.
	rbSize = 128
	rbMask = rbSize - 1
)

// entry is one slot of a shard's slab. gen is odd while the slot holds a
// live entry and is bumped on every allocation and release, so a stale
// reference from the read buffer can be recognised.
type entry[K comparable, V any] struct {
	key     K
	val     V
	expires int64 // deadline on the cache's clock; 0 = never
	gen     uint32
}

func (e *entry[K, V]) live() bool { return e.gen&1 == 1 }

// evicted is an entry on its way to Options.OnEvict.
type evicted[K comparable, V any] struct {
	key    K
	val    V
	reason EvictReason
}

// evictList gathers evictions under a shard lock so the callback can run
// after the lock is released. The first two need no allocation.
type evictList[K comparable, V any] struct {
	n    int
	a    [2]evicted[K, V]
	more []evicted[K, V]
}

func (l *evictList[K, V]) add(k K, v V, r EvictReason) {
	if l.n < len(l.a) {
		l.a[l.n] = evicted[K, V]{k, v, r}
		l.n++
		return
	}
	l.more = append(l.more, evicted[K, V]{k, v, r})
}

func (l *evictList[K, V]) fire(fn func(K, V, EvictReason)) {
	for i := range l.n {
		fn(l.a[i].key, l.a[i].val, l.a[i].reason)
	}
	for _, e := range l.more {
		fn(e.key, e.val, e.reason)
	}
}

// shard is one independently locked part of the cache. Fields are grouped
// so that what readers write (the lock, counters, buffer head) does not
// share a cache line with what they only read.
type shard[K comparable, V any] struct {
	// Written by readers.
	mu     sync.RWMutex
	hits   atomic.Uint64
	misses atomic.Uint64
	rbHead atomic.Uint64
	_      [64]byte

	// Read by readers, written under mu.
	m       map[K]int32
	entries []entry[K, V]
	track   bool // readers record hits in rb
	_       [64]byte

	// Only under mu (or atomics read by Stats).
	pol         policy
	capacity    int
	count       int
	free        []int32
	rbTail      uint64
	seq         uint64
	flights     map[K]*flight[V]
	evictions   atomic.Uint64
	expirations atomic.Uint64
	size        atomic.Int64

	epochs [epochSlots]atomic.Uint64
	floor  atomic.Uint64
	rb     [rbSize]uint64
}

func (s *shard[K, V]) init(p EvictionPolicy, capacity int) {
	s.m = make(map[K]int32)
	s.capacity = capacity
	s.pol, s.track = newPolicy(p, capacity)
}

// record notes a read of slot i for the eviction policy and reports whether
// the buffer is full and due for a drain. Called with mu held for reading:
// rbTail cannot change meanwhile, so each reader that wins a ticket below
// rbTail+rbSize owns its slot outright and writes it without atomics; the
// drain reads the slots under the exclusive lock. Readers past the end of
// the buffer drop their read (the buffer is lossy) but still count as hits.
func (s *shard[K, V]) record(i int32, gen uint32) bool {
	n := s.rbHead.Add(1) - 1
	if d := n - s.rbTail; d < rbSize {
		s.rb[n&rbMask] = uint64(gen)<<32 | uint64(uint32(i))
		return d == rbSize-1
	}
	return true
}

// tryDrain applies buffered reads if the lock is free; readers never wait.
func (s *shard[K, V]) tryDrain() {
	if s.mu.TryLock() {
		s.drain()
		s.mu.Unlock()
	}
}

// drain applies buffered reads to the policy, oldest first, and empties
// the buffer. Reads whose slot has since been freed or reused are dropped.
// Called with mu held.
func (s *shard[K, V]) drain() {
	head := s.rbHead.Load()
	t := s.rbTail
	if head == t {
		return
	}
	end := min(head, t+rbSize)
	for ; t != end; t++ {
		v := s.rb[t&rbMask]
		i, gen := int32(uint32(v)), uint32(v>>32)
		if int(i) < len(s.entries) && s.entries[i].gen == gen {
			s.pol.hit(i)
		}
	}
	s.rbTail = head
}

// alloc returns a free slot for a new entry. Called with mu held.
func (s *shard[K, V]) alloc() int32 {
	if n := len(s.free); n > 0 {
		i := s.free[n-1]
		s.free = s.free[:n-1]
		return i
	}
	i := int32(len(s.entries))
	s.entries = append(s.entries, entry[K, V]{})
	s.pol.grow(len(s.entries))
	return i
}

// insert adds a new key (known absent) and evicts down to capacity.
// Called with mu held.
func (s *shard[K, V]) insert(key K, h uint64, val V, exp int64, ev *evictList[K, V], collect bool) {
	if s.capacity > 0 && s.count >= s.capacity && !s.pol.admitsFirst() {
		s.evictOne(ev, collect)
	}
	i := s.alloc()
	e := &s.entries[i]
	e.key, e.val, e.expires = key, val, exp
	e.gen++
	s.m[key] = i
	s.pol.add(i, uint32(h>>32))
	s.count++
	for s.capacity > 0 && s.count > s.capacity {
		if !s.evictOne(ev, collect) {
			break
		}
	}
	s.size.Store(int64(s.count))
}

// evictOne removes the policy's victim for capacity. Called with mu held.
func (s *shard[K, V]) evictOne(ev *evictList[K, V], collect bool) bool {
	v := s.pol.victim()
	if v == ilist.Nil {
		return false
	}
	ve := &s.entries[v]
	if collect {
		ev.add(ve.key, ve.val, ReasonCapacity)
	}
	s.evictions.Add(1)
	s.release(v)
	return true
}

// release frees slot i, which the policy has already forgotten. Called
// with mu held.
func (s *shard[K, V]) release(i int32) {
	e := &s.entries[i]
	delete(s.m, e.key)
	*e = entry[K, V]{gen: e.gen + 1}
	s.free = append(s.free, i)
	s.count--
}

// removeAt deletes live slot i for reason r. Called with mu held.
func (s *shard[K, V]) removeAt(i int32, r EvictReason, ev *evictList[K, V], collect bool) {
	e := &s.entries[i]
	if collect {
		ev.add(e.key, e.val, r)
	}
	if r == ReasonExpired {
		s.expirations.Add(1)
	}
	s.pol.remove(i)
	s.release(i)
	s.size.Store(int64(s.count))
}

// bump records a write or delete of the key with hash h for the fill
// guard. Called with mu held.
func (s *shard[K, V]) bump(h uint64) {
	s.seq++
	s.epochs[epochSlot(h)].Store(s.seq)
}

// epoch returns the fill-guard token for the key with hash h.
func (s *shard[K, V]) epoch(h uint64) uint64 {
	return max(s.epochs[epochSlot(h)].Load(), s.floor.Load())
}

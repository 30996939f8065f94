package l1mem

import (
	"sync/atomic"
	"unsafe"

	"github.com/AndrewDonelson/strata/l1mem/internal/ilist"
)

// entry is one slot of a shard's slab. gen is odd while the slot holds a
// live entry and is bumped on every allocation and release, so a stale
// reference from the read buffer can be recognised.
type entry[K comparable, V any] struct {
	key     K
	val     V
	expires int64 // deadline on the cache's clock; 0 = never
	gen     uint32
	// stamp is the shard's tick when the policy last settled this entry
	// (see shard.hit); readers skip recording reads soon after.
	stamp uint32
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
// share a cache line with what they only read. The padding is computed, so
// the layout holds on 32-bit platforms too (TestShardLayout checks it).
type shard[K comparable, V any] struct {
	// Written by readers.
	lk readLock

	// Read by readers, written under the exclusive lock: exactly one
	// cache line, after the lock's whole lines.
	index   []uint64 // see index.go
	entries []entry[K, V]
	track   bool   // readers record hits in the stripe buffers
	tick    uint32 // advanced by every policy update
	skip    uint32 // reads within skip ticks of settling are not recorded
	_       [cacheLine - unsafe.Sizeof(readerLine{})]byte

	// Only under the exclusive lock (or atomics read by Stats).
	shardState
	flights map[K]*flight[V]
	_       [shardTailPad]byte // a whole number of cache lines per shard
}

const cacheLine = 64

// readerLine has the layout of the shard fields readers read (a slice's
// header does not depend on its element type), to size their padding.
type readerLine struct {
	index   []uint64
	entries []struct{}
	track   bool
	tick    uint32
	skip    uint32
}

// shardTailPad rounds the shard's tail (shardState and the flights map)
// up to whole cache lines.
const shardTailPad = (cacheLine - (unsafe.Sizeof(shardState{})+unsafe.Sizeof(map[int]int(nil)))%cacheLine) % cacheLine

// shardState is the part of a shard that only the exclusive lock holder
// touches (and Stats, through atomics). The 64-bit atomics are
// atomic.Uint64 and atomic.Int64, which are 8-byte aligned on 32-bit
// platforms as well.
type shardState struct {
	pol         policy
	capacity    int
	count       int
	free        []int32
	seq         uint64
	evictions   atomic.Uint64
	expirations atomic.Uint64
	size        atomic.Int64

	epochs [epochSlots]uint64 // see epoch.go; under the lock
	floor  uint64
}

func (s *shard[K, V]) init(p EvictionPolicy, capacity int) {
	s.capacity = capacity
	s.pol, s.track = newPolicy(p, capacity)
	if s.track {
		s.skip = uint32(capacity / skipFraction)
		if p == EvictTinyLFU {
			// TinyLFU settles only protected entries, which need about
			// 0.8*capacity later promotions to be demoted; half of that
			// costs no measurable hit ratio (67.21/79.58 vs 67.18/79.57).
			s.skip = uint32(capacity / 2)
		}
	}
}

// skipFraction sets the read-skip window to capacity/skipFraction policy
// updates. An LRU entry promoted fewer than capacity/16 updates ago is
// still in the newest sixteenth of its shard, so not replaying a read of it
// only reorders entries far from eviction. Measured on Zipf(1.01) over 1M
// keys, it costs LRU 0.24 points of hit ratio at 10k entries and 0.04 at
// 100k, and saves most of the read-buffer traffic of hot keys.
const skipFraction = 16

// hit applies a use of slot i to the policy and stamps the entry. Called
// with mu held.
func (s *shard[K, V]) hit(i int32) {
	settled := s.pol.hit(i)
	s.tick++
	t := s.tick
	if !settled {
		t -= s.skip + 1
	}
	s.entries[i].stamp = t
}

// wants reports whether a read of e should be recorded for the policy.
// Called inside a read section.
func (s *shard[K, V]) wants(e *entry[K, V]) bool {
	return s.track && s.tick-e.stamp >= s.skip
}

// record notes a read of slot i in the reader's stripe buffer and reports
// whether the buffer is full and due for a drain. Called inside a read
// section: tail cannot change meanwhile, so each reader that wins a ticket
// below tail+stripeSlots owns its slot and writes it without atomics; the
// drain reads the slots under the exclusive lock. Readers past the end of
// the buffer drop their read: the buffer is lossy.
func (st *stripe) record(i int32, gen uint32) bool {
	n := st.head.Add(1) - 1
	if d := n - st.tail; d < stripeSlots {
		st.buf[n%stripeSlots] = uint64(gen)<<32 | uint64(uint32(i))
		return d == stripeSlots-1
	}
	return true
}

// tryDrain applies buffered reads unless a writer holds the lock (that
// writer drains them anyway).
func (s *shard[K, V]) tryDrain() {
	if s.lk.tryLock() {
		s.drain()
		s.lk.unlock()
	}
}

// drain applies buffered reads to the policy, stripe by stripe, oldest
// first, and empties the buffers. Reads whose slot has since been freed or
// reused are dropped. Called under the exclusive lock.
func (s *shard[K, V]) drain() {
	for si := range s.lk.stripes {
		st := &s.lk.stripes[si]
		head := st.head.Load()
		t := st.tail
		if head == t {
			continue
		}
		end := t + stripeSlots
		if head-t < stripeSlots {
			end = head
		}
		for ; t != end; t++ {
			v := st.buf[t%stripeSlots]
			i, gen := int32(uint32(v)), uint32(v>>32)
			if int(i) < len(s.entries) && s.entries[i].gen == gen {
				s.hit(i)
			}
		}
		st.tail = head
	}
}

// clearSlab empties the slab for Clear. The slots beyond the new length
// are reused by alloc with the gen they hold, so each live slot's gen is
// advanced as release would, rather than zeroed: a slot reference taken
// before the Clear (a Get about to expire an entry) then never matches the
// entry that reuses the slot. Called with mu held.
func (s *shard[K, V]) clearSlab() {
	var zk K
	var zv V
	for i := range s.entries {
		e := &s.entries[i]
		e.key, e.val, e.expires, e.stamp = zk, zv, 0, 0
		if e.live() {
			e.gen++
		}
	}
	s.entries = s.entries[:0]
}

// alloc returns a free slot for a new entry. Called with mu held.
func (s *shard[K, V]) alloc() int32 {
	if n := len(s.free); n > 0 {
		i := s.free[n-1]
		s.free = s.free[:n-1]
		return i
	}
	if len(s.entries) == cap(s.entries) {
		s.growSlab()
	}
	i := int32(len(s.entries))
	s.entries = s.entries[:i+1]
	return i
}

// growSlab doubles the slab, but never past what a bounded shard can hold
// (capacity+1: W-TinyLFU admits before it evicts), and sizes the policy's
// nodes to match.
func (s *shard[K, V]) growSlab() {
	n := max(8, 2*cap(s.entries))
	if s.capacity > 0 {
		n = min(n, s.capacity+1)
	}
	e := make([]entry[K, V], len(s.entries), n)
	copy(e, s.entries)
	s.entries = e
	s.pol.grow(n)
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
	s.addIndex(h, i)
	s.pol.add(i, uint32(h>>32))
	e.stamp = s.tick - s.skip - 1
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
	s.removeIndex(s.pol.tag(i), i)
	var zk K
	var zv V
	e.key, e.val, e.expires = zk, zv, 0
	e.gen++
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
	s.epochs[epochSlot(h)] = s.seq
}

// epoch returns the fill-guard token for the key with hash h. Called in a
// read section or under the exclusive lock.
func (s *shard[K, V]) epoch(h uint64) uint64 {
	return max(s.epochs[epochSlot(h)], s.floor)
}

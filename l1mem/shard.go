package l1mem

import (
	"math/bits"
	"sync/atomic"
	"unsafe"

	"github.com/AndrewDonelson/strata/l1mem/internal/ilist"
)

// entry is one slot of a shard's slab. gen is odd while the slot holds a
// live entry and is bumped on every allocation and release, so a stale
// reference from a read buffer can be recognised.
type entry[K comparable, V any] struct {
	key     K
	val     V
	expires int64 // deadline on the cache's clock; 0 = never
	gen     uint32
	// mark packs, so that the entry stays as small as before it had
	// them: markRef, set by a read of an LRU entry in clock mode (see
	// shard.clock) and cleared when the eviction sweep passes over it;
	// markAbsent, a remembered miss (see Options.NegativeTTL: the key is
	// known not to exist, val is the zero value); and in the high half
	// the stamp, the low half of the shard's tick when a write last
	// updated the policy for this entry (see shard.put). Writers change
	// it under the exclusive lock. Readers load it atomically, and a
	// clock-mode reader stores it back with markRef set, only when that
	// is clear, so a hot entry's line is written once per sweep, not once
	// per read; the other bits cannot change during a read section, so
	// readers racing to set markRef store the same word.
	mark uint32
}

const (
	markRef    = 1 << 0
	markAbsent = 1 << 1
	stampShift = 16
)

// absent reports whether e is a remembered miss. Safe in a read section.
func (e *entry[K, V]) absent() bool { return atomic.LoadUint32(&e.mark)&markAbsent != 0 }

// setAbsent, setRef and setStamp change mark; called with the shard
// locked exclusively.
func (e *entry[K, V]) setAbsent(a bool) {
	e.mark &^= markAbsent
	if a {
		e.mark |= markAbsent
	}
}

func (e *entry[K, V]) setRef(r bool) {
	e.mark &^= markRef
	if r {
		e.mark |= markRef
	}
}

func (e *entry[K, V]) stamp() uint16     { return uint16(e.mark >> stampShift) }
func (e *entry[K, V]) setStamp(t uint16) { e.mark = e.mark&(1<<stampShift-1) | uint32(t)<<stampShift }

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
// so that what readers write (the lock, counters, read buffers) does not
// share a cache line with what they only read, and nothing readers read
// is written by the policy. The padding is computed, so the layout holds
// on 32-bit platforms too (TestShardLayout checks it).
//
// lk, the reader-biased lock, guards a shard: readers share it, writers
// hold it exclusively. Its writer mutex alone (readLock.wq) also guards
// the eviction policy and the read buffers' drain: a reader whose read
// buffer filled up takes only that mutex, if it is free, to drain, so
// readers never wait for policy work and a writer takes one mutex, not
// two.
type shard[K comparable, V any] struct {
	// Written by readers.
	lk readLock

	// Read by readers, written under the exclusive lock: exactly one
	// cache line, after the lock's whole lines.
	index   []uint64 // see index.go
	entries []entry[K, V]
	track   bool  // readers record hits in the stripe buffers
	clock   bool  // readers mark hits in entry.mark instead (LRU; see lru.victim)
	filter  bool  // readers skip reads of slots their stripe recorded lately
	shift   uint8 // see stripe.note
	_       [cacheLine - unsafe.Sizeof(readerLine{})]byte

	// Only under the locks (or atomics read by Stats).
	shardState
	flights map[K]*flight[V]
	_       [shardTailPad]byte // a whole number of cache lines per shard
}

const cacheLine = 64

// readerLine has the layout of the shard fields readers read (a slice's
// header does not depend on its element type), to size their padding:
// index, entries, track, clock, filter, shift. Only its size matters, so
// its fields are blank.
type readerLine struct {
	_ []uint64
	_ []struct{}
	_ bool
	_ bool
	_ bool
	_ uint8
}

// shardTailPad rounds the shard's tail (shardState and the flights map)
// up to whole cache lines.
const shardTailPad = (cacheLine - (unsafe.Sizeof(shardState{})+unsafe.Sizeof(map[int]int(nil)))%cacheLine) % cacheLine

// shardState is the part of a shard that only lock holders touch (and
// Stats, through atomics). The 64-bit atomics are atomic.Uint64 and
// atomic.Int64, which are 8-byte aligned on 32-bit platforms as well.
type shardState struct {
	// Under lk.wq (writers, drains).
	pol  policy
	tick uint32 // advanced by every policy update
	skip uint32 // an overwrite within skip ticks of the last one leaves the policy alone; < 1<<16

	// Under lk held exclusively.
	capacity    int
	count       int
	free        []int32
	seq         uint64
	evictions   atomic.Uint64
	expirations atomic.Uint64
	size        atomic.Int64

	epochs [epochSlots]uint64 // see epoch.go; under the lock
	floor  uint64

	vers []uint64 // the entries' versions, nil until the first (see version.go)
}

func (s *shard[K, V]) init(p EvictionPolicy, capacity int) {
	s.capacity = capacity
	s.pol, s.track = newPolicy(p, capacity)
	if l, ok := s.pol.(*lru); ok {
		// LRU runs as CLOCK: a read sets the entry's ref, and the
		// eviction sweep gives referenced entries a second chance.
		s.track, s.clock = false, true
		l.referenced = s.takeRef
	}
	if !s.track && !s.clock {
		return
	}
	window := capacity / skipFraction
	if p == EvictTinyLFU {
		// Measured on Zipf(1.01) over 1M keys, a window of 2*capacity
		// costs TinyLFU no measurable hit ratio (67.24/79.57 at 10k/100k
		// entries, against 67.21/79.56 at capacity/2 and 67.21/79.58
		// recording every read) and records 7.7 % of the l1bench
		// workload's Gets instead of 18.1 %; 4*capacity records no fewer
		// (7.6 %) and starts to cost (79.49 at 100k).
		window = 2 * capacity
	}
	s.skip = uint32(min(window, 1<<15))
	if s.track && window >= 2 {
		// note skips a slot for 2^shift+1 to 2^(shift+1) of its stripe's
		// records: between window/4 and window.
		s.filter = true
		s.shift = uint8(bits.Len(uint(window)) - 2)
	}
}

// skipFraction sets the LFU read-skip window to capacity/16 recorded
// reads, and the LRU and LFU overwrite-skip window to capacity/16 policy
// updates. An entry promoted fewer than capacity/16 updates ago is still
// near the head, so not replaying another use of it only reorders entries
// far from eviction. (Measured on Zipf(1.01) over 1M keys, 256 shards,
// when LRU still replayed reads: 60.15 % at 10k entries and 77.97 % at
// 100k against 60.29 % and 78.00 % for exact LRU; capacity/8: 59.98 % and
// 77.96 %; capacity/4: 58.70 % and 77.87 %.) LRU now marks reads instead
// (see lru), and marks an overwrite that the window skips.
const skipFraction = 16

// takeRef reports whether slot i was read since the last call for it,
// and clears the mark. Called with the shard locked exclusively, so no
// reader is setting the mark meanwhile.
func (s *shard[K, V]) takeRef(i int32) bool {
	e := &s.entries[i]
	if e.mark&markRef == 0 {
		return false
	}
	e.mark &^= markRef
	return true
}

// touch marks a read of e in clock mode: one load, and a store only the
// first time after a sweep cleared the mark. Called inside a read section,
// with m the mark the reader loaded.
func touch(mark *uint32, m uint32) {
	if m&markRef == 0 {
		atomic.StoreUint32(mark, m|markRef)
	}
}

// hit applies a use of slot i to the policy. Called with lk.wq held.
func (s *shard[K, V]) hit(i int32) {
	s.pol.hit(i)
	s.tick++
}

// note decides whether the read of slot i (generation gen) goes into the
// stripe's ring and records it, and reports whether the ring is full and
// due for a drain. Called inside a read section.
//
// A stripe skips a slot it recorded within its last 2^shift to 2^(shift+1)
// events, an event being a read it recorded or an insert into the shard
// (inserts is the shard's count of them): marks keep, per slot, the
// stripe's coarse clock (head+inserts)>>shift at the last record. Counting
// inserts keeps an entry that is read now and then among many inserts (a
// scan passing through a TinyLFU cache) recorded often enough for the
// policy to see it is used; counting reads alone, a shard with few reads
// would skip every one of them. Only this stripe's readers write its marks and head,
// so for a hot entry the read path writes nothing another processor reads.
// Marks are updated by plain atomic load and store, so two readers racing
// on one stripe may lose a mark, which costs one extra record. A slot
// reused by a new entry may inherit a recent mark and have a first read
// skipped; both only make the policy's order slightly less exact.
func (st *stripe) note(i int32, gen uint32, filter bool, shift uint8, inserts uint64) bool {
	h := st.head.Load()
	w := &st.marks[i>>2]
	sh := uint(i&3) * 8
	old := atomic.LoadUint32(w)
	clk := uint8((h+inserts)>>shift) + 1 // 0 is left for "never recorded" until it wraps
	if filter {
		if m := uint8(old >> sh); m != 0 && clk-m < 2 {
			return false
		}
	}
	t := st.tail.Load()
	if h-t >= stripeSlots {
		return true // full: the read is dropped
	}
	if !st.head.CompareAndSwap(h, h+1) {
		return false // another reader of this stripe took the ticket: dropped
	}
	st.buf[h%stripeSlots].Store(uint64(gen)<<32 | uint64(uint32(i)))
	atomic.StoreUint32(w, old&^(0xff<<sh)|uint32(max(clk, 1))<<sh)
	return h+1-t >= stripeSlots
}

// tryDrain applies buffered reads unless someone else holds lk.wq (a
// writer drains them anyway; another reader is draining already). It
// does not raise the writing flag, so other readers go on meanwhile.
func (s *shard[K, V]) tryDrain() {
	if s.lk.wq.TryLock() {
		s.drain()
		s.lk.wq.Unlock()
	}
}

// drain applies buffered reads to the policy, stripe by stripe, oldest
// first, and empties the buffers. A read is published once its slot is
// non-zero; the drain stops at the first slot whose reader has taken the
// ticket but not written it yet. Reads whose slot has since been freed or
// reused are dropped. Called with lk.wq held: the slab cannot change, as
// writers hold lk.wq too.
func (s *shard[K, V]) drain() {
	for si := range s.lk.stripes {
		st := &s.lk.stripes[si]
		t := st.tail.Load()
		start := t
		for {
			slot := &st.buf[t%stripeSlots]
			v := slot.Load()
			if v == 0 {
				break
			}
			slot.Store(0)
			t++
			i, gen := int32(uint32(v)), uint32(v>>32)
			if int(i) < len(s.entries) && s.entries[i].gen == gen {
				s.hit(i)
			}
		}
		if t != start {
			st.tail.Store(t)
		}
	}
}

// lock takes the shard exclusively, policy included.
func (s *shard[K, V]) lock() { s.lk.lock() }

func (s *shard[K, V]) unlock() { s.lk.unlock() }

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
		e.key, e.val, e.expires, e.mark = zk, zv, 0, 0
		if e.live() {
			e.gen++
		}
	}
	s.entries = s.entries[:0]
	clear(s.vers)
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
	if s.track {
		for si := range s.lk.stripes {
			st := &s.lk.stripes[si]
			m := make([]uint32, (n+3)/4)
			copy(m, st.marks)
			st.marks = m
		}
	}
}

// insert adds a new key (known absent) and evicts down to capacity.
// Called with mu held.
func (s *shard[K, V]) insert(key K, h uint64, val V, exp int64, absent bool, ev *evictList[K, V], collect bool) {
	if s.capacity > 0 && s.count >= s.capacity && !s.pol.admitsFirst() {
		s.evictOne(ev, collect)
	}
	i := s.alloc()
	e := &s.entries[i]
	e.key, e.val, e.expires = key, val, exp
	e.setAbsent(absent)
	e.gen++
	s.addIndex(h, i)
	s.pol.add(i, uint32(h>>32))
	if s.filter {
		s.lk.inserts.Add(1)
	}
	e.setStamp(uint16(s.tick - s.skip - 1)) // the first overwrite counts as a use
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
	if collect && !ve.absent() {
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
	e.key, e.val, e.expires, e.mark = zk, zv, 0, 0
	e.gen++
	s.setVersion(i, 0)
	s.free = append(s.free, i)
	s.count--
}

// removeAt deletes live slot i for reason r. Called with mu held.
func (s *shard[K, V]) removeAt(i int32, r EvictReason, ev *evictList[K, V], collect bool) {
	e := &s.entries[i]
	if collect && !e.absent() {
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

package l1mem

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

const (
	// nSlots is the number of reader slots per shard: the lines reader
	// counts are spread over. Goroutines reading one shard at the same
	// time share a slot with probability 1/nSlots per pair.
	nSlots = 16
	// nStripes is the number of read rings per shard; a reader uses the
	// ring its slot's token names.
	nStripes = 4
	// stripeSlots is the size of each ring.
	stripeSlots = 32

	// A slot's state packs three counts: readers inside the shard in bits
	// 0-31, hits in bits 32-51 and tallied hits (GetTallied) in bits
	// 52-63. A field is folded into the readLock's totals once its top
	// bit is set, long before it could carry into the next field.
	readerMask = 1<<32 - 1
	hitOne     = 1 << 32
	hitMask    = 1<<20 - 1 // after shifting by 32
	tallyOne   = 1 << 52
	foldBits   = 1<<51 | 1<<63 // the top bit of the hit and the tally fields

	// spinLimit is how many times a waiting reader or writer re-checks
	// before yielding its processor.
	spinLimit = 64
)

// readerSlot counts the readers inside the shard that chose it, and
// their hits and misses. It fills a cache line, so readers using
// different slots write different lines.
type readerSlot struct {
	// state counts the readers inside the shard and the hits and
	// tallied hits not yet folded into readLock.hits and tally (see
	// readerMask).
	state  atomic.Uint64
	misses atomic.Uint64
	_      [cacheLine - 16]byte
}

// stripe is one read ring of a shard: a lossy buffer of reads for the
// eviction policy. The ring is drained under the lock's writer mutex
// (wq) alone, with the writing flag down, so readers never wait for a
// drain: the first line is
// written only by the ring's readers, the second only by the drain, and
// the ring's slots by both once per drain.
type stripe struct {
	// head counts the ring's tickets; a reader takes one with a
	// compare-and-swap, and only when the ring has room.
	head atomic.Uint64
	// marks holds, per slab slot and packed four to a word, the ring's
	// coarse clock when a reader last recorded the slot in this ring;
	// see note.
	marks []uint32
	_     [cacheLine - 8 - unsafe.Sizeof([]uint32(nil))]byte

	// tail is the first ticket not yet drained.
	tail atomic.Uint64
	_    [cacheLine - 8]byte

	// buf holds gen<<32 | slot of each recorded read, 0 once drained
	// (gen is odd for a live entry, so a published read is never 0).
	buf [stripeSlots]atomic.Uint64
}

// readLock is a reader-biased lock (a striped "big reader" lock). A reader
// announces itself by incrementing the count of its slot, then checks that
// no writer holds the lock, so a read touches only the reader's own slot
// and one line that writers change briefly. A writer takes wq, sets
// writing and waits for every slot's count to drop to zero. Go's
// sequentially consistent atomics make the announce/check pair safe:
// either the reader sees the writer, or the writer sees the reader.
//
// Waiting never spins for long: a reader that finds a writer re-checks a
// few times, then blocks on wq like a writer would; a writer waiting for a
// reader that was descheduled mid-read yields and then sleeps, so the
// operating system can run that reader.
type readLock struct {
	writing atomic.Uint32
	// used has bit i set once a reader has used slot i; writers wait
	// only for those slots. Readers load it with writing (same line) and
	// set their bit once, before their first count.
	used  atomic.Uint32
	hits  atomic.Uint64 // hits folded out of the slots
	tally atomic.Uint64 // tallied hits folded out of the slots
	// inserts counts the shard's new entries; it moves the read-skip
	// clock of every ring (see stripe.note) so that inserts, not only
	// recorded reads, age a ring's marks. Writers change it under the
	// lock, in the line they write anyway.
	inserts atomic.Uint64
	wq      sync.Mutex
	_       [24]byte
	slots   [nSlots]readerSlot
	stripes [nStripes]stripe
}

// rtok is what rlock hands the reader: its slot and ring, and whether it
// holds wq.
type rtok uint32

const (
	tokWaited rtok = 1 << 31 // the reader waited for a writer and holds wq
	tokBits        = 6       // slot in bits 0-3, ring in bits 4-5
)

func (t rtok) slot() uint32 { return uint32(t) % nSlots }
func (t rtok) ring() uint32 { return uint32(t) / nSlots % nStripes }

// token picks the caller's slot and ring of l from a hash of the address
// of a local variable, that is of the running goroutine's stack, salted
// with l's address, the way otter v2 stripes its read buffers: no runtime
// internals. A goroutine keeps its slot while its stack stays put;
// goroutines running at the same time have different stacks, so they
// mostly use different slots, and the salt makes the pairs that do share
// one differ from shard to shard. (A stack that grows is copied
// elsewhere, which only moves the goroutine to another slot.)
func (l *readLock) token() rtok {
	var x byte
	// Bits below 2 KiB, the smallest stack, depend on the call depth
	// rather than on the goroutine.
	a := uint64(uintptr(unsafe.Pointer(&x))>>11) ^ uint64(uintptr(unsafe.Pointer(l))>>6)
	return rtok(mix64(a) & (1<<tokBits - 1))
}

// rlock enters a read section and returns the reader's token, marked
// tokWaited when it had to wait for a writer: it then holds wq, which
// keeps writers out, until runlock.
func (l *readLock) rlock() rtok {
	t := l.token()
	if bit := uint32(1) << t.slot(); l.used.Load()&bit == 0 {
		l.used.Or(bit)
	}
	c := &l.slots[t.slot()]
	for spins := 0; ; spins++ {
		c.state.Add(1)
		if l.writing.Load() == 0 {
			return t
		}
		c.state.Add(^uint64(0))
		for l.writing.Load() != 0 {
			if spins++; spins >= spinLimit {
				l.wq.Lock()
				return t | tokWaited
			}
		}
	}
}

// bufOf returns the ring a read section entered by rlock records into.
func (l *readLock) bufOf(t rtok) *stripe {
	return &l.stripes[t.ring()]
}

// Read outcomes counted by runlock.
const (
	outcomeNone = iota
	outcomeHit
	outcomeMiss
	outcomeTallied // a hit that also counts in the tally
)

// runlock leaves a read section entered by rlock, counting its outcome.
func (l *readLock) runlock(t rtok, outcome int) {
	c := &l.slots[t.slot()]
	if t&tokWaited != 0 {
		switch outcome {
		case outcomeTallied:
			l.tally.Add(1)
			fallthrough
		case outcomeHit:
			l.hits.Add(1)
		case outcomeMiss:
			c.misses.Add(1)
		}
		l.wq.Unlock()
		return
	}
	switch outcome {
	case outcomeHit:
		if v := c.state.Add(hitOne - 1); v&foldBits != 0 {
			l.fold(c)
		}
	case outcomeTallied:
		if v := c.state.Add(tallyOne + hitOne - 1); v&foldBits != 0 {
			l.fold(c)
		}
	case outcomeMiss:
		c.state.Add(^uint64(0))
		c.misses.Add(1)
	default:
		c.state.Add(^uint64(0))
	}
}

// fold moves a slot's hit and tally counts into l.hits and l.tally before
// either field overflows.
func (l *readLock) fold(c *readerSlot) {
	for {
		v := c.state.Load()
		if v&foldBits == 0 {
			return
		}
		if c.state.CompareAndSwap(v, v&readerMask) {
			l.hits.Add(v >> 32 & hitMask)
			l.tally.Add(v >> 52)
			return
		}
	}
}

// lock takes the lock exclusively.
func (l *readLock) lock() {
	l.wq.Lock()
	l.writing.Store(1)
	l.waitReaders()
}

// tryLock takes the lock exclusively if no writer (or waiting reader)
// holds wq.
func (l *readLock) tryLock() bool {
	if !l.wq.TryLock() {
		return false
	}
	l.writing.Store(1)
	l.waitReaders()
	return true
}

func (l *readLock) unlock() {
	l.writing.Store(0)
	l.wq.Unlock()
}

// waitReaders waits until every read section that started before writing
// was raised has ended: spinning first, since read sections last tens of
// nanoseconds, then yielding, then sleeping for a reader that the
// operating system descheduled mid-read. A reader sets its slot's bit in
// used before it counts itself, so a reader the writer must wait for is
// in a slot the writer sees in used.
func (l *readLock) waitReaders() {
	for m := l.used.Load(); m != 0; m &= m - 1 {
		i := bits.TrailingZeros32(m)
		for spins := 0; l.slots[i].state.Load()&readerMask != 0; spins++ {
			switch {
			case spins < spinLimit:
			case spins < 2*spinLimit:
				runtime.Gosched()
			default:
				time.Sleep(time.Microsecond)
			}
		}
	}
}

// counts returns the hit and miss totals.
func (l *readLock) counts() (hits, misses uint64) {
	hits = l.hits.Load()
	for i := range l.slots {
		hits += l.slots[i].state.Load() >> 32 & hitMask
		misses += l.slots[i].misses.Load()
	}
	return hits, misses
}

// tallied returns the tallied-hit total.
func (l *readLock) tallied() uint64 {
	t := l.tally.Load()
	for i := range l.slots {
		t += l.slots[i].state.Load() >> 52
	}
	return t
}

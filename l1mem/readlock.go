package l1mem

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

const (
	// nStripes is the number of reader stripes per shard.
	nStripes = 4
	// stripeSlots is the size of each stripe's read buffer.
	stripeSlots = 32

	readerMask = 1<<32 - 1
	hitOne     = 1 << 32

	// spinLimit is how many times a waiting reader or writer re-checks
	// before yielding its processor.
	spinLimit = 64
)

// stripe is one reader stripe of a shard: a reader count, hit and miss
// counters, and a lossy ring of reads for the eviction policy. Readers
// use the stripe of the processor they run on, so concurrent readers of
// one shard write different cache lines. The ring is drained under the
// shard's policy mutex, not its lock, so readers never wait for a drain:
// the first line is written only by this stripe's readers, the second
// only by the drain, and the ring's slots by both once per drain.
type stripe struct {
	// state: low 32 bits count readers inside the shard, high 32 bits
	// count hits not yet folded into readLock.hits.
	state  atomic.Uint64
	misses atomic.Uint64
	// head counts the ring's tickets; a reader takes one with a
	// compare-and-swap, and only when the ring has room.
	head atomic.Uint64
	// marks holds, per slab slot and packed four to a word, the ring's
	// coarse clock (head >> shard.shift, never 0) when this stripe last
	// recorded a read of the slot; see note.
	marks []uint32
	_     [cacheLine - 3*8 - unsafe.Sizeof([]uint32(nil))]byte

	// tail is the first ticket not yet drained.
	tail atomic.Uint64
	_    [cacheLine - 8]byte

	// buf holds gen<<32 | slot of each recorded read, 0 once drained
	// (gen is odd for a live entry, so a published read is never 0).
	buf [stripeSlots]atomic.Uint64
}

// readLock is a reader-biased lock (a striped "big reader" lock). A reader
// announces itself by incrementing its stripe's count, then checks that no
// writer holds the lock, so a read touches only the reader's own stripe
// and one line that writers change briefly. A writer takes wq, sets
// writing and waits for every stripe's count to drop to zero. Go's
// sequentially consistent atomics make the announce/check pair safe:
// either the reader sees the writer, or the writer sees the reader.
//
// Waiting never spins for long: a reader that finds a writer re-checks a
// few times, then blocks on wq like a writer would; a writer waiting for a
// reader that was descheduled mid-read yields and then sleeps, so the
// operating system can run that reader.
type readLock struct {
	writing atomic.Uint32
	hits    atomic.Uint64 // hits folded out of the stripes
	wq      sync.Mutex
	_       [40]byte
	stripes [nStripes]stripe
}

// stripeIndex is the index of the processor (P) running the caller.
// Goroutines running at the same moment run on different Ps, so they never
// share a stripe; a goroutine moved to another P merely changes stripe.
func stripeIndex() uintptr {
	p := procPin()
	procUnpin()
	return uintptr(p) & (nStripes - 1)
}

// procPin and procUnpin are the runtime helpers sync.Pool uses to find its
// per-P slot; procPin returns the current P's id. The runtime keeps them
// reachable by linkname.
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// rlock enters a read section and returns the caller's stripe, or nil
// when it had to wait for a writer: it then holds wq, which keeps writers
// out, until runlock.
func (l *readLock) rlock() *stripe {
	st := &l.stripes[stripeIndex()]
	for spins := 0; ; spins++ {
		st.state.Add(1)
		if l.writing.Load() == 0 {
			return st
		}
		st.state.Add(^uint64(0))
		for l.writing.Load() != 0 {
			if spins++; spins >= spinLimit {
				l.wq.Lock()
				return nil
			}
		}
	}
}

// bufOf returns the stripe whose read buffer a read section entered by
// rlock records into.
func (l *readLock) bufOf(st *stripe) *stripe {
	if st == nil {
		return &l.stripes[0]
	}
	return st
}

// Read outcomes counted by runlock.
const (
	outcomeNone = iota
	outcomeHit
	outcomeMiss
)

// runlock leaves a read section entered by rlock, counting its outcome.
func (l *readLock) runlock(st *stripe, outcome int) {
	if st == nil {
		st = &l.stripes[0]
		switch outcome {
		case outcomeHit:
			l.hits.Add(1)
		case outcomeMiss:
			st.misses.Add(1)
		}
		l.wq.Unlock()
		return
	}
	switch outcome {
	case outcomeHit:
		if v := st.state.Add(hitOne - 1); v >= 1<<63 {
			l.fold(st)
		}
	case outcomeMiss:
		st.state.Add(^uint64(0))
		st.misses.Add(1)
	default:
		st.state.Add(^uint64(0))
	}
}

// fold moves a stripe's hit count into l.hits before it overflows.
func (l *readLock) fold(st *stripe) {
	for {
		v := st.state.Load()
		h := v >> 32
		if h < 1<<31 {
			return
		}
		if st.state.CompareAndSwap(v, v&readerMask) {
			l.hits.Add(h)
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
// operating system descheduled mid-read.
func (l *readLock) waitReaders() {
	for i := range l.stripes {
		for spins := 0; l.stripes[i].state.Load()&readerMask != 0; spins++ {
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
	for i := range l.stripes {
		hits += l.stripes[i].state.Load() >> 32
		misses += l.stripes[i].misses.Load()
	}
	return hits, misses
}

package l1mem

import (
	"runtime"
	"sync"
	"sync/atomic"
	_ "unsafe" // for go:linkname
)

const (
	// nStripes is the number of reader stripes per shard.
	nStripes = 4
	// stripeSlots is the size of each stripe's read buffer.
	stripeSlots = 16

	readerMask = 1<<32 - 1
	hitOne     = 1 << 32
)

// stripe is one reader stripe of a shard: a reader count, hit and miss
// counters, and a lossy buffer of reads for the eviction policy. Readers
// pick a stripe by their goroutine's stack address, so concurrent readers
// of one shard usually write different cache lines.
type stripe struct {
	// state: low 32 bits count readers inside the shard, high 32 bits
	// count hits not yet folded into readLock.hits.
	state  atomic.Uint64
	misses atomic.Uint64
	head   atomic.Uint64 // read-buffer tickets issued
	tail   atomic.Uint64 // first ticket not yet drained; changed only under mu
	buf    [stripeSlots]atomic.Uint64
	_      [32]byte
}

// readLock is a reader-biased lock (a striped "big reader" lock). A reader
// announces itself by incrementing its stripe's count and checking that no
// writer is active, so uncontended reads touch only the reader's own
// stripe. A writer takes mu, raises writing, and waits for every stripe's
// count to reach zero. Go's sequentially consistent atomics make the
// announce/check pair safe: either the reader sees writing, or the writer
// sees the reader.
type readLock struct {
	mu      sync.Mutex
	writing atomic.Bool
	hits    atomic.Uint64 // hits folded out of the stripes
	_       [40]byte
	stripes [nStripes]stripe
}

// stripeIndex maps the calling goroutine to a stripe: the index of the
// processor (P) running it. Goroutines running at the same moment run on
// different Ps, so they never share a stripe; a goroutine that is moved to
// another P between two reads merely changes stripe.
func stripeIndex() uintptr {
	p := procPin()
	procUnpin()
	return uintptr(p) & (nStripes - 1)
}

// procPin and procUnpin are the runtime's own helpers (sync.Pool uses them):
// procPin returns the current P's id. The runtime keeps them reachable by
// linkname for this use.
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// rlock enters a read section. When a writer is active it waits for it by
// taking mu (slow is then true and mu is held until runlock).
func (l *readLock) rlock() (st *stripe, slow bool) {
	st = &l.stripes[stripeIndex()]
	st.state.Add(1)
	if !l.writing.Load() {
		return st, false
	}
	st.state.Add(^uint64(0))
	l.mu.Lock()
	return st, true
}

// Read outcomes counted by runlock.
const (
	outcomeNone = iota
	outcomeHit
	outcomeMiss
)

// runlock leaves a read section entered by rlock, counting its outcome.
func (l *readLock) runlock(st *stripe, slow bool, outcome int) {
	if slow {
		switch outcome {
		case outcomeHit:
			l.hits.Add(1)
		case outcomeMiss:
			st.misses.Add(1)
		}
		l.mu.Unlock()
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
	l.mu.Lock()
	l.writing.Store(true)
	l.waitReaders()
}

// tryLock takes the lock exclusively if no writer holds it.
func (l *readLock) tryLock() bool {
	if !l.mu.TryLock() {
		return false
	}
	l.writing.Store(true)
	l.waitReaders()
	return true
}

// tryLockPolicy takes mu without stopping readers: enough to replay the
// read buffers into the eviction policy, which only holders of mu touch.
func (l *readLock) tryLockPolicy() bool { return l.mu.TryLock() }

func (l *readLock) unlockPolicy() { l.mu.Unlock() }

func (l *readLock) unlock() {
	l.writing.Store(false)
	l.mu.Unlock()
}

// waitReaders spins until every read section that started before writing
// was raised has ended. Read sections are a map lookup and a copy, so the
// wait is short unless a reader was descheduled; then it yields.
func (l *readLock) waitReaders() {
	for i := range l.stripes {
		for spins := 0; l.stripes[i].state.Load()&readerMask != 0; spins++ {
			if spins > 32 {
				runtime.Gosched()
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

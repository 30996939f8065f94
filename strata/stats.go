package strata

import (
	"sync/atomic"
	"unsafe"
)

// Stats is a snapshot of a DataStore's counters.
//
// Gets, Sets and Deletes count records, not calls: every id a read by id
// asks for, every record a write carries, every id a delete names, whichever
// call carries them, counted when the call is made, whether it succeeds or
// not. So Get and GetTyped add 1 to Gets and GetMany of n ids adds n; Set
// adds 1 to Sets and SetMany of n records adds n; Delete adds 1 to Deletes;
// a Tx adds one Set per Set and one Delete per Delete it commits (or fails
// to). Exists, Search, SearchCached, Count, WarmCache and the write-behind
// flusher are not counted there. Errors counts calls, of every method, that
// returned an error other than ErrNotFound: a failed SetMany of 10 records
// adds 10 to Sets and 1 to Errors.
type Stats struct {
	// Gets, Sets and Deletes count records (see above).
	Gets, Sets, Deletes int64
	// Errors counts calls that returned an error other than ErrNotFound.
	Errors int64
	// L1Entries is the number of entries held in memory across schemas.
	L1Entries int64
	// DirtyCount is the number of write-behind entries not yet flushed.
	DirtyCount int64
	// ChangeFeed describes the change-feed consumer (Config.ChangeFeed):
	// whether this instance holds the slot, its lag and position.
	ChangeFeed ChangeFeedStats
}

// counters are the DataStore's Stats counters. Every Get but an L1 hit of
// GetTyped's fast path, which L1's tally counts, adds to gets, so each
// counter is striped: concurrent callers add to different cache lines,
// and the leading pad keeps the first stripe off the line of the fields
// before it (read by every call).
type counters struct {
	_                           [cacheLine]byte
	gets, sets, deletes, errors stripedCounter
}

// cacheLine is the size the padding assumes (64 bytes on amd64 and arm64;
// a larger line only lets neighbouring stripes share one).
const cacheLine = 64

// stripedCounter is a counter that concurrent callers can add to without
// sharing a cache line (the L1 hit path must not take a shared counter).
// A caller adds to the stripe that a hash of its stack address names, the
// way l1mem's readLock picks a reader slot: a goroutine keeps its stripe
// while its stack stays put, goroutines running at the same time have
// different stacks, and no random number or runtime internal is needed.
// Load sums the stripes.
type stripedCounter struct {
	s [counterStripes]struct {
		n atomic.Int64
		_ [cacheLine - 8]byte // one stripe per cache line
	}
}

const counterStripes = 16 // a power of two

// Add adds n to the counter.
func (c *stripedCounter) Add(n int64) { c.s[c.stripe()].n.Add(n) }

// stripe returns the caller's stripe: a hash of the address of a local
// variable (bits below 2 KiB, the smallest stack, depend on the call depth
// rather than on the goroutine), salted with c's address so the counters
// of one DataStore spread differently.
func (c *stripedCounter) stripe() uint32 {
	var x byte
	a := uint64(uintptr(unsafe.Pointer(&x))>>11) ^ uint64(uintptr(unsafe.Pointer(c))>>6)
	a ^= a >> 33
	a *= 0xff51afd7ed558ccd
	a ^= a >> 33
	return uint32(a) & (counterStripes - 1)
}

// Load returns the sum of the stripes; adds made meanwhile may be missed.
func (c *stripedCounter) Load() int64 {
	var t int64
	for i := range c.s {
		t += c.s[i].n.Load()
	}
	return t
}

// Stats returns a snapshot of the counters.
func (ds *DataStore) Stats() Stats {
	s := Stats{
		Gets:    ds.stats.gets.Load(),
		Sets:    ds.stats.sets.Load(),
		Deletes: ds.stats.deletes.Load(),
		Errors:  ds.stats.errors.Load(),
	}
	for _, st := range *ds.schemas.Load() {
		s.L1Entries += int64(st.l1.Len())
		s.Gets += int64(st.l1.Tally()) // GetTyped's L1 hits (get.go)
	}
	s.DirtyCount = ds.dirtyCount()
	s.ChangeFeed = ds.ChangeFeedStats()
	return s
}

package strata

import (
	"math/rand/v2"
	"sync/atomic"
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

type counters struct {
	gets, sets, deletes, errors stripedCounter
}

// stripedCounter is a counter that concurrent callers can add to without
// sharing a cache line (the L1 hit path must not take a shared counter):
// each add goes to a random stripe, and load sums them.
type stripedCounter struct {
	s [counterStripes]struct {
		n atomic.Int64
		_ [56]byte // one stripe per 64-byte cache line
	}
}

const counterStripes = 16 // a power of two

// Add adds n to the counter.
func (c *stripedCounter) Add(n int64) { c.s[rand.Uint32()&(counterStripes-1)].n.Add(n) }

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
	}
	s.DirtyCount = ds.dirtyCount()
	s.ChangeFeed = ds.ChangeFeedStats()
	return s
}

package strata

import "sync/atomic"

// Stats is a snapshot of a DataStore's counters.
type Stats struct {
	// Gets, Sets and Deletes count calls (GetTyped and Get both count as Gets).
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
	gets, sets, deletes, errors atomic.Int64
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

package strata

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// SetTestHookWarmBeforeFill installs fn to run in ds's WarmCache after
// each page's L3 read and before its cache fills; nil removes it.
func (ds *DataStore) SetTestHookWarmBeforeFill(fn func(schema string, ids []string)) {
	if fn == nil {
		ds.test.warmBeforeFill.Store(nil)
		return
	}
	ds.test.warmBeforeFill.Store(&fn)
}

// AddRedisHookForTest adds h to the DataStore's Redis client (to count
// round trips). It reports false when the store has no Redis.
func (ds *DataStore) AddRedisHookForTest(h redis.Hook) bool {
	if ds.l2 == nil {
		return false
	}
	ds.l2.Client().AddHook(h)
	return true
}

// SetTestHookAfterL3Read installs fn to run after every L3 read of ds's
// Get and before the L2 fill; nil removes it.
func (ds *DataStore) SetTestHookAfterL3Read(fn func(schema, id string)) {
	if fn == nil {
		ds.test.afterL3Read.Store(nil)
		return
	}
	ds.test.afterL3Read.Store(&fn)
}

// SetTestHookL1Dropped installs fn to run each time ds has dropped L1
// entries of schema for an invalidation — one received from another
// instance, or one its own change-feed consumer applied — with the ids
// (nil for the whole schema); nil removes it.
func (ds *DataStore) SetTestHookL1Dropped(fn func(schema string, ids []string)) {
	if fn == nil {
		ds.test.l1Dropped.Store(nil)
		return
	}
	ds.test.l1Dropped.Store(&fn)
}

// DisableL2LeaseForTest makes ds's Get and WarmCache fill L2 with a plain
// SET, as a cache without stale-set protection would.
func (ds *DataStore) DisableL2LeaseForTest(off bool) { ds.test.noL2Lease.Store(off) }

// L1Len returns the number of L1 entries of schema.
func (ds *DataStore) L1Len(schema string) int {
	st, err := ds.schema(schema)
	if err != nil {
		return -1
	}
	return st.l1.Len()
}

// L1Has reports whether L1 of schema holds id.
func (ds *DataStore) L1Has(schema, id string) bool {
	st, err := ds.schema(schema)
	if err != nil {
		return false
	}
	_, ok := st.cached(id)
	return ok
}

// WaitSubscribed waits until the invalidation bus has its first
// subscription (and has dropped L1 for it).
func (ds *DataStore) WaitSubscribed(ctx context.Context) error {
	if ds.bus == nil {
		return nil
	}
	return ds.bus.WaitSubscribed(ctx)
}

// BusLive reports whether L1 may be used: true without Redis, else whether
// the invalidation bus is live.
func (ds *DataStore) BusLive() bool { return ds.l1Live() }

// DropL1 removes id from schema's L1 (benchmarks use it to measure the
// lower tiers).
func (ds *DataStore) DropL1(schema, id string) {
	if st, err := ds.schema(schema); err == nil {
		st.l1.Delete(id)
	}
}

// SetCloseFlushBudgetForTest bounds Close's final write-behind flush by d
// instead of 10 s.
func (ds *DataStore) SetCloseFlushBudgetForTest(d time.Duration) {
	ds.test.closeFlushBudget.Store(int64(d))
}

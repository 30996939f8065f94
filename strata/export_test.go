package strata

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// SetTestHookWarmBeforeFill installs fn to run in WarmCache after each
// page's L3 read and before its cache fills; nil removes it. Tests only.
func SetTestHookWarmBeforeFill(fn func(schema string, ids []string)) { testHookWarmBeforeFill = fn }

// AddRedisHookForTest adds h to the DataStore's Redis client (to count
// round trips). It reports false when the store has no Redis.
func (ds *DataStore) AddRedisHookForTest(h redis.Hook) bool {
	if ds.l2 == nil {
		return false
	}
	ds.l2.Client().AddHook(h)
	return true
}

// SetTestHookAfterL3Read installs fn to run after every L3 read of Get and
// before the L2 fill; nil removes it. Tests only; not safe to change while
// reads run.
func SetTestHookAfterL3Read(fn func(schema, id string)) { testHookAfterL3Read = fn }

// DisableL2LeaseForTest makes Get fill L2 with a plain SET, as a cache
// without stale-set protection would.
func DisableL2LeaseForTest(off bool) { testDisableL2Lease = off }

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

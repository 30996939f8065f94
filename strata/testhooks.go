package strata

import "sync/atomic"

// testHooks are switches that only tests set (export_test.go). They live
// on the DataStore, not in package globals, so a test reaches only the
// stores it opened and parallel tests cannot disturb each other; the read
// path pays one atomic load where it would have read a global. The zero
// value sets nothing.
type testHooks struct {
	// closeFlushBudget, when set (ns), replaces flushRetryBudget for
	// Close's final flush: a test of Close with PostgreSQL down need not
	// wait the whole 10 s.
	closeFlushBudget atomic.Int64
	// afterL3Read runs after every L3 read of Get, before the L2 fill.
	afterL3Read atomic.Pointer[func(schema, id string)]
	// warmBeforeFill runs in WarmCache after each page's L3 read and
	// before its cache fills.
	warmBeforeFill atomic.Pointer[func(schema string, ids []string)]
	// l1Dropped runs when this instance has dropped L1 entries because
	// of an invalidation: one received from another instance (ids, or nil
	// for a flush of the schema), or one its change-feed consumer applied
	// itself. Tests timestamp it to measure commit → every L1 dropped.
	l1Dropped atomic.Pointer[func(schema string, ids []string)]
	// noL2Lease makes fills use a plain SET, as a cache without stale-set
	// protection would, to prove that the lease is what prevents them.
	noL2Lease atomic.Bool
	// beforeRefresh runs in a versioned Set after its commit, before
	// its Redis upkeep: tests hold a writer there to reorder writers.
	beforeRefresh atomic.Pointer[func(schema, id string)]
	// beforeInvalidate runs after a write's commit, before the Redis
	// delete of invalidateAfterWrite (a Delete's upkeep, for one).
	beforeInvalidate atomic.Pointer[func(schema string, ids []string)]
	// noVersionGuard makes a versioned Set's refresh a plain SET, as a
	// writer-fills cache without versions would, to prove that the
	// version guard is what keeps the newer value.
	noVersionGuard atomic.Bool
	// l3Get runs before every L3 point read of Get (found or not), and
	// afterRefresh after each refresh-ahead reload of L2 (see refresh.go).
	l3Get        atomic.Pointer[func(schema, id string)]
	afterRefresh atomic.Pointer[func(schema, id string, wrote bool)]
	// beforeAbsentFill runs before a reader records an absence in L2
	// (see negcache.go).
	beforeAbsentFill atomic.Pointer[func(schema, id string)]
	// l3, when set before Register, gives every schema that has no
	// L3.Disabled this table as its PostgreSQL truth (see l3Table): the
	// white-box tests' failing L3.
	l3 func(*schemaState) l3Table
}

func (h *testHooks) runAfterL3Read(schema, id string) {
	if f := h.afterL3Read.Load(); f != nil {
		(*f)(schema, id)
	}
}

func (h *testHooks) runWarmBeforeFill(schema string, ids []string) {
	if f := h.warmBeforeFill.Load(); f != nil {
		(*f)(schema, ids)
	}
}

func (h *testHooks) runL1Dropped(schema string, ids []string) {
	if f := h.l1Dropped.Load(); f != nil {
		(*f)(schema, ids)
	}
}

func (h *testHooks) runBeforeRefresh(schema, id string) {
	if f := h.beforeRefresh.Load(); f != nil {
		(*f)(schema, id)
	}
}

func (h *testHooks) runBeforeInvalidate(schema string, ids []string) {
	if f := h.beforeInvalidate.Load(); f != nil {
		(*f)(schema, ids)
	}
}

func (h *testHooks) runL3Get(schema, id string) {
	if f := h.l3Get.Load(); f != nil {
		(*f)(schema, id)
	}
}

package strata

import "reflect"

// SetTestHookBeforeRefresh installs fn to run in ds's versioned Sets after
// the commit and before the Redis refresh; nil removes it.
func (ds *DataStore) SetTestHookBeforeRefresh(fn func(schema, id string)) {
	if fn == nil {
		ds.test.beforeRefresh.Store(nil)
		return
	}
	ds.test.beforeRefresh.Store(&fn)
}

// DisableVersionGuardForTest makes ds's versioned Sets refresh Redis with a
// plain SET, as a cache filled by writers without versions would.
func (ds *DataStore) DisableVersionGuardForTest(off bool) { ds.test.noVersionGuard.Store(off) }

// L1Username returns the Username field of id's L1 snapshot of schema
// (whose model must have one), and whether L1 holds id.
func (ds *DataStore) L1Username(schema, id string) (string, bool) {
	st, err := ds.schema(schema)
	if err != nil {
		return "", false
	}
	snap, ok := st.cached(id)
	if !ok {
		return "", false
	}
	return reflect.ValueOf(snap).Elem().FieldByName("Username").String(), true
}

// L1Version returns the row version L1 of schema recorded with id.
func (ds *DataStore) L1Version(schema, id string) (uint64, bool) {
	st, err := ds.schema(schema)
	if err != nil {
		return 0, false
	}
	return st.l1.Version(id)
}

// SetTestHookBeforeInvalidate installs fn to run in ds's writes after the
// commit and before invalidateAfterWrite's Redis delete; nil removes it.
func (ds *DataStore) SetTestHookBeforeInvalidate(fn func(schema string, ids []string)) {
	if fn == nil {
		ds.test.beforeInvalidate.Store(nil)
		return
	}
	ds.test.beforeInvalidate.Store(&fn)
}

// SetInFlightGuardForTest sets how ds's writes of schema guard this
// instance's reads while under way (inflight.go): "on", "no-void" (ids
// registered, L1 fills not voided) or "off" (nothing registered).
func (ds *DataStore) SetInFlightGuardForTest(schema, mode string) {
	st := (*ds.schemas.Load())[schema]
	st.inflight.off.Store(mode == "off")
	st.inflight.noVoid.Store(mode == "no-void")
}

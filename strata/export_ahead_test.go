package strata

// SetTestHookL3Get installs fn to run before every L3 point read of ds's
// Get, found or not, and of its refresh-ahead reloads; nil removes it.
func (ds *DataStore) SetTestHookL3Get(fn func(schema, id string)) {
	if fn == nil {
		ds.test.l3Get.Store(nil)
		return
	}
	ds.test.l3Get.Store(&fn)
}

// SetTestHookAfterRefresh installs fn to run after each refresh-ahead
// reload of an L2 value that won its claim, with whether it replaced the
// value; nil removes it.
func (ds *DataStore) SetTestHookAfterRefresh(fn func(schema, id string, wrote bool)) {
	if fn == nil {
		ds.test.afterRefresh.Store(nil)
		return
	}
	ds.test.afterRefresh.Store(&fn)
}

// SetTestHookBeforeAbsentFill installs fn to run after a Get found id
// missing in PostgreSQL under its fill lease and before it records the
// absence in Redis; nil removes it.
func (ds *DataStore) SetTestHookBeforeAbsentFill(fn func(schema, id string)) {
	if fn == nil {
		ds.test.beforeAbsentFill.Store(nil)
		return
	}
	ds.test.beforeAbsentFill.Store(&fn)
}

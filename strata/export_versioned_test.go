package strata

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

package strata

import "context"

// Exists reports whether the record id exists, asking L1, then L2, then L3,
// and answering at the first tier that has it; while Redis records the id
// as missing (negative caching), Exists answers false there, as Get answers
// ErrNotFound. A value in Redis that does
// not decode counts as absent there (it is dropped, as by Get) and L3
// answers.
func (ds *DataStore) Exists(ctx context.Context, schema, id string) (bool, error) {
	ctx, sp := ds.startOp(ctx, OpExists, schema)
	ok, err := ds.exists(ctx, schema, id)
	return ok, sp.done(ds.count(err), boolRows(ok))
}

func (ds *DataStore) exists(ctx context.Context, schema, id string) (bool, error) {
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return false, err
	}
	if id == "" {
		return false, nil
	}
	if err := st.checkID(id); err != nil {
		return false, err
	}
	if ds.readsL1(st) {
		if _, ok := st.cached(id); ok {
			return true, nil
		}
	}
	if _, ok := st.pendingSnapshot(id); ok {
		return true, nil
	}
	return st.truth.exists(ctx, st, id)
}

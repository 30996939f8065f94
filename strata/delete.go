package strata

import (
	"context"
)

// Delete removes the record id from every tier: L3 first, then L2, then L1,
// then one invalidation message for the other instances. Deleting a record
// that does not exist is not an error.
func (ds *DataStore) Delete(ctx context.Context, schema, id string) error {
	ds.stats.deletes.Add(1)
	ctx, sp := ds.startOp(ctx, OpDelete, schema)
	return sp.done(ds.count(ds.delete(ctx, schema, id)), -1)
}

func (ds *DataStore) delete(ctx context.Context, schema, id string) error {
	release, err := ds.writeOp()
	if err != nil {
		return err
	}
	defer release()
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return err
	}
	if err := st.checkID(id); err != nil {
		return err
	}
	defer st.writes.enter()()
	return st.truth.del(ctx, st, id)
}

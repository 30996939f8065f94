package strata

import (
	"context"
	"fmt"
)

// Delete removes the record id from every tier. Deleting a record that does
// not exist is not an error.
func (ds *DataStore) Delete(ctx context.Context, schema, id string) error {
	ds.stats.deletes.Add(1)
	return ds.count(ds.delete(ctx, schema, id))
}

func (ds *DataStore) delete(ctx context.Context, schema, id string) error {
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return err
	}
	if id == "" {
		return fmt.Errorf("%w: schema %q: empty id", ErrMissingPrimaryKey, st.Name)
	}
	st.l1.Delete(id)
	return nil
}

package l3postgres

import (
	"context"
	"fmt"
)

// Upsert inserts one row or, when its key exists, updates every column
// that is not the key, the partition column or InsertOnly. values are in
// the order of TableDef.Columns.
func (t *Table) Upsert(ctx context.Context, values ...any) error {
	if len(values) != len(t.qcols) {
		return fmt.Errorf("%w: %s has %d columns, got %d values", ErrInvalidQuery, t.qname, len(t.qcols), len(values))
	}
	q, err := t.writer()
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, t.upsert, values...)
	return mapErr(err)
}

// DeleteByID deletes the row with the given key and reports whether there
// was one. Deleting a missing row is not an error.
func (t *Table) DeleteByID(ctx context.Context, id any) (bool, error) {
	q, err := t.writer()
	if err != nil {
		return false, err
	}
	tag, err := q.Exec(ctx, t.delete, id)
	if err != nil {
		return false, mapErr(err)
	}
	return tag.RowsAffected() > 0, nil
}

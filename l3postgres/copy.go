package l3postgres

import (
	"context"
	"fmt"
	"reflect"

	"github.com/jackc/pgx/v5"
)

// UpsertMany upserts rows (each in the order of TableDef.Columns) in one
// transaction: the rows are copied with the COPY protocol into a temporary
// table, then merged into the table with a single
// INSERT … SELECT … ON CONFLICT statement. When a key appears more than
// once, the last row with that key wins. It returns the number of rows
// the merge inserted or updated.
//
// On a Table bound to a transaction with [Table.On], the work runs in a
// savepoint of that transaction.
func (t *Table) UpsertMany(ctx context.Context, rows [][]any) (int64, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	for i, r := range rows {
		if len(r) != len(t.qcols) {
			return 0, fmt.Errorf("%w: %s has %d columns, row %d has %d values", ErrInvalidQuery, t.qname, len(t.qcols), i, len(r))
		}
	}
	q, err := t.writer()
	if err != nil {
		return 0, err
	}
	rows = lastPerKey(rows, t.conflictCols)

	tx, err := q.Begin(ctx)
	if err != nil {
		return 0, mapErr(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	if _, err := execExtended(ctx, tx, t.stageCreate); err != nil {
		return 0, mapErr(err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.stageName}, t.colNames, pgx.CopyFromRows(rows)); err != nil {
		return 0, mapErr(err)
	}
	tag, err := execExtended(ctx, tx, t.stageMerge)
	if err != nil {
		return 0, mapErr(err)
	}
	if t.tx != nil {
		// ON COMMIT DROP waits for the outer transaction; drop it now so a
		// second UpsertMany in the same transaction can create it again.
		if _, err := execExtended(ctx, tx, t.stageDrop); err != nil {
			return 0, mapErr(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, mapErr(err)
	}
	return tag.RowsAffected(), nil
}

// lastPerKey drops every row whose conflict key (the values at keyCols)
// appears again later, because one INSERT … ON CONFLICT statement may not
// touch the same row twice. Rows without duplicates are returned as they
// are, without copying.
func lastPerKey(rows [][]any, keyCols []int) [][]any {
	seen := make(map[any]int, len(rows))
	dups := false
	for i, r := range rows {
		k, ok := rowKey(r, keyCols)
		if !ok {
			return rows // keys of this type cannot be compared here; let the server decide
		}
		if _, dup := seen[k]; dup {
			dups = true
		}
		seen[k] = i
	}
	if !dups {
		return rows
	}
	out := make([][]any, 0, len(seen))
	for i, r := range rows {
		k, _ := rowKey(r, keyCols)
		if seen[k] == i {
			out = append(out, r)
		}
	}
	return out
}

// pairKey is the map key of a two-column conflict target.
type pairKey struct{ a, b any }

// rowKey returns a map key for the row's conflict-key values.
func rowKey(r []any, keyCols []int) (any, bool) {
	a, ok := mapKey(r[keyCols[0]])
	if !ok || len(keyCols) == 1 {
		return a, ok
	}
	b, ok := mapKey(r[keyCols[1]])
	return pairKey{a, b}, ok
}

// mapKey returns a map key equal for equal primary-key values.
func mapKey(v any) (any, bool) {
	switch k := v.(type) {
	case string, int, int64, int32:
		return k, true
	case []byte:
		return string(k), true
	case nil:
		return nil, false
	}
	if reflect.TypeOf(v).Comparable() {
		return v, true
	}
	return nil, false
}

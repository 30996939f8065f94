package l3postgres

import (
	"context"
	"fmt"
	"reflect"
	"slices"

	"github.com/jackc/pgx/v5"
)

// UpsertMany upserts rows (each in the order of TableDef.Columns) in one
// transaction: the rows are copied with the COPY protocol into a temporary
// table, then merged into the table with a single
// INSERT … SELECT … ON CONFLICT statement (one per combination of [Keep]
// columns when the rows differ in which columns they keep). When a key
// appears more than once, the last row with that key wins. It returns the
// number of rows the merge inserted or updated.
//
// On a Table bound to a transaction with [Table.On], the work runs in a
// savepoint of that transaction. Otherwise an error wrapping
// [ErrOutcomeUnknown] means the rows may have been written (the COMMIT was
// sent); any other error, that none was.
func (t *Table) UpsertMany(ctx context.Context, rows [][]any) (int64, error) {
	return t.upsertMany(ctx, rows, nil)
}

// UpsertManyReturning is UpsertMany that also reports what every row
// written holds afterwards in its key and InsertOnly columns: each is called
// once per row with a scan function that fills dest with the key, then the
// InsertOnly columns in TableDef order (the first insert's values for a row
// that existed), then the Version column if the table has one. An error
// from each rolls the whole call back.
func (t *Table) UpsertManyReturning(ctx context.Context, rows [][]any, each func(scan func(dest ...any) error) error) (int64, error) {
	if each == nil {
		return 0, fmt.Errorf("%w: UpsertManyReturning on %s needs a function for the rows", ErrInvalidQuery, t.qname)
	}
	return t.upsertMany(ctx, rows, each)
}

func (t *Table) upsertMany(ctx context.Context, rows [][]any, each func(scan func(dest ...any) error) error) (int64, error) {
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
	plain := make([][]any, len(rows))
	keys := make([]string, len(rows))
	for i, r := range rows {
		plain[i], keys[i] = t.plainRow(r)
	}
	plain, keys = lastPerKey(plain, keys, t.pk) // one row per key, partitioned or not
	var groups []string                         // the distinct keep keys, in order of appearance
	for _, k := range keys {
		if !slices.Contains(groups, k) {
			groups = append(groups, k)
		}
	}

	tx, err := q.Begin(ctx)
	if err != nil {
		return 0, mapErr(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	if _, err := execExtended(ctx, tx, t.stageCreate); err != nil {
		return 0, mapErr(err)
	}
	cols, src := t.colNames, pgx.CopyFromRows(plain)
	if len(groups) > 1 { // each row carries its keep key, for its merge to select it
		cols = append(slices.Clip(cols), t.stageKeep)
		i := 0
		src = pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(plain) {
				return nil, nil
			}
			i++
			return append(slices.Clip(plain[i-1]), keys[i-1]), nil
		})
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.stageName}, cols, src); err != nil {
		return 0, mapErr(err)
	}
	if t.partitioned { // see movesSQL
		for _, sql := range []string{t.stageLock, t.stageMove} {
			if _, err := execExtended(ctx, tx, sql); err != nil {
				return 0, mapErr(err)
			}
		}
	}
	var n int64
	for _, g := range groups {
		st := t.stmts(g)
		var sql string
		var args []any
		switch {
		case len(groups) == 1 && each == nil:
			sql = st.merge
		case len(groups) == 1:
			sql = st.mergeReturning
		case each == nil:
			sql, args = st.mergeWhere, []any{g}
		default:
			sql, args = st.mergeWhereReturning, []any{g}
		}
		affected, err := mergeStaged(ctx, tx, sql, args, each)
		if err != nil {
			return 0, err
		}
		n += affected
	}
	if t.tx != nil {
		// ON COMMIT DROP waits for the outer transaction; drop it now so a
		// second UpsertMany in the same transaction can create it again.
		if _, err := execExtended(ctx, tx, t.stageDrop); err != nil {
			return 0, mapErr(err)
		}
	}
	backend := tx.Conn().PgConn().PID()
	if err := tx.Commit(ctx); err != nil {
		if t.tx != nil { // a savepoint: the outer COMMIT decides
			return 0, mapErr(err)
		}
		return 0, outcome(err, backend)
	}
	return n, nil
}

// mergeStaged runs one merge from the staging table, passing every row it
// returns to each (when each is set), and returns the rows it wrote.
func mergeStaged(ctx context.Context, tx pgx.Tx, sql string, args []any, each func(scan func(dest ...any) error) error) (int64, error) {
	if each == nil {
		tag, err := execExtended(ctx, tx, sql, args...)
		return tag.RowsAffected(), mapErr(err)
	}
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return 0, mapErr(err)
	}
	defer rows.Close()
	scan := func(dest ...any) error { return mapErr(rows.Scan(dest...)) }
	for rows.Next() {
		if err := each(scan); err != nil {
			return 0, err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, mapErr(err)
	}
	return rows.CommandTag().RowsAffected(), nil
}

// lastPerKey drops every row whose key (the value at column pk) appears
// again later, because one INSERT … ON CONFLICT statement may not touch
// the same row twice and a table keeps one row per key, partitioned or
// not; keep holds each row's keep key and is filtered alike. Without
// duplicates both are returned as they are, without copying.
func lastPerKey(rows [][]any, keep []string, pk int) ([][]any, []string) {
	seen := make(map[any]int, len(rows))
	dups := false
	for i, r := range rows {
		k, ok := mapKey(r[pk])
		if !ok {
			return rows, keep // keys of this type cannot be compared here; let the server decide
		}
		if _, dup := seen[k]; dup {
			dups = true
		}
		seen[k] = i
	}
	if !dups {
		return rows, keep
	}
	out := make([][]any, 0, len(seen))
	outKeep := make([]string, 0, len(seen))
	for i, r := range rows {
		k, _ := mapKey(r[pk])
		if seen[k] == i {
			out = append(out, r)
			outKeep = append(outKeep, keep[i])
		}
	}
	return out, outKeep
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

package l3postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Upsert inserts one row or, when its key exists, updates every column
// that is not the key, the partition column, InsertOnly, or passed as a
// [Keep]. values are in the order of TableDef.Columns. On a partitioned
// table, a row of the key in another partition is first moved to the
// partition of the value written (see [TableDef.PartitionBy]). An error
// wrapping [ErrOutcomeUnknown] means the row may have been written; any
// other error, that it was not.
func (t *Table) Upsert(ctx context.Context, values ...any) error {
	sql, values, err := t.upsertStmt(values, false)
	if err != nil {
		return err
	}
	return t.write(ctx, func(q querier) error {
		if t.partitioned {
			return t.moveAndUpsert(ctx, q, sql, values)
		}
		_, err := q.Exec(ctx, sql, values...)
		return err
	})
}

// UpsertReturning is Upsert that then scans what the row holds in its
// InsertOnly columns into dest, one pointer per InsertOnly column in
// TableDef order: the values given here for a new row, the first insert's
// for an existing one; then, when the table has a Version column, the
// version the write committed. It is one statement (INSERT … ON CONFLICT
// … RETURNING). Its errors are Upsert's.
func (t *Table) UpsertReturning(ctx context.Context, values []any, dest ...any) error {
	if want := t.nreturn(); len(dest) != want {
		return fmt.Errorf("%w: %s returns %d columns (InsertOnly, then the version), got %d destinations", ErrInvalidQuery, t.qname, want, len(dest))
	}
	if len(dest) == 0 {
		return t.Upsert(ctx, values...)
	}
	sql, values, err := t.upsertStmt(values, true)
	if err != nil {
		return err
	}
	return t.write(ctx, func(q querier) error {
		if t.partitioned {
			return t.moveAndUpsert(ctx, q, sql, values, dest...)
		}
		return q.QueryRow(ctx, sql, values...).Scan(dest...)
	})
}

// moveAndUpsert runs an upsert of a partitioned table after the key's lock
// and move (see movesSQL), all three in one round trip: a pipeline that is
// one implicit transaction, or part of the bound one. With dest, the
// upsert's RETURNING row is scanned into it.
func (t *Table) moveAndUpsert(ctx context.Context, q querier, sql string, values []any, dest ...any) error {
	b := &pgx.Batch{}
	b.Queue(t.lockKey, values[t.pk])
	b.Queue(t.moveKey, values[t.pk], values[t.part])
	if len(dest) == 0 {
		b.Queue(sql, values...)
	} else {
		b.Queue(sql, values...).QueryRow(func(row pgx.Row) error { return row.Scan(dest...) })
	}
	return mapErr(q.SendBatch(ctx, b).Close())
}

// upsertStmt checks values and returns the statement for them with their
// Keep wrappers removed.
func (t *Table) upsertStmt(values []any, returning bool) (string, []any, error) {
	if len(values) != len(t.qcols) {
		return "", nil, fmt.Errorf("%w: %s has %d columns, got %d values", ErrInvalidQuery, t.qname, len(t.qcols), len(values))
	}
	values, key := t.plainRow(values)
	st := t.stmts(key)
	if returning {
		return st.upsertReturning, values, nil
	}
	return st.upsert, values, nil
}

// DeleteByID deletes the row with the given key and reports whether there
// was one. Deleting a missing row is not an error. An error wrapping
// [ErrOutcomeUnknown] means the row may have been deleted; any other error,
// that it was not.
func (t *Table) DeleteByID(ctx context.Context, id any) (bool, error) {
	var tag pgconn.CommandTag
	err := t.write(ctx, func(q querier) error {
		var err error
		tag, err = q.Exec(ctx, t.delete, id)
		return err
	})
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}

// nreturn is how many columns the RETURNING upserts return per row after
// the key: the InsertOnly columns and the version.
func (s *tableSQL) nreturn() int {
	if s.version != "" {
		return len(s.insertOnly) + 1
	}
	return len(s.insertOnly)
}

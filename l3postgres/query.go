package l3postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Query selects rows of a table. The zero Query selects every column of
// every row, in no particular order.
type Query struct {
	// Where is a SQL condition written by the program, with $1, $2, …
	// placeholders for Args, e.g. "level > $1 AND region = $2". It is
	// inserted into the statement as written, so it must never be built
	// from user input; a semicolon is refused. "" selects all rows.
	Where string

	// Args are the values for Where's placeholders.
	Args []any

	// OrderBy sorts the result; each column must belong to the table.
	OrderBy []Order

	// Limit caps the number of rows; 0 means no limit.
	Limit int

	// Offset skips that many rows first; 0 skips none.
	Offset int

	// Columns is the projection; each must belong to the table. nil means
	// all columns, in TableDef order.
	Columns []string
}

// Order is one ORDER BY term.
type Order struct {
	Column string
	Desc   bool
}

// Rows is the result of a query; call Close when done (Next returning
// false closes it too). Errors from Err are mapped like every other error
// of this package.
type Rows struct {
	rows    pgx.Rows
	columns []string
}

// Next advances to the next row.
func (r *Rows) Next() bool { return r.rows.Next() }

// Scan copies the current row into dest, one pointer per selected column.
func (r *Rows) Scan(dest ...any) error { return mapErr(r.rows.Scan(dest...)) }

// Values returns the current row's decoded values.
func (r *Rows) Values() ([]any, error) {
	v, err := r.rows.Values()
	return v, mapErr(err)
}

// Columns returns the names of the selected columns, in order.
func (r *Rows) Columns() []string { return r.columns }

// Err returns the error, if any, that ended the iteration.
func (r *Rows) Err() error { return mapErr(r.rows.Err()) }

// Close releases the rows' connection. It is safe to call more than once.
func (r *Rows) Close() { r.rows.Close() }

// Raw returns the underlying pgx.Rows, e.g. for pgx.CollectRows.
func (r *Rows) Raw() pgx.Rows { return r.rows }

// GetByID scans the row with the given key into dest, one pointer per
// column in TableDef order. It returns [ErrNotFound] when there is no such
// row. It reads from the primary (or the bound transaction).
func (t *Table) GetByID(ctx context.Context, id any, dest ...any) error {
	if len(dest) != len(t.qcols) {
		return fmt.Errorf("%w: %s has %d columns, got %d destinations", ErrInvalidQuery, t.qname, len(t.qcols), len(dest))
	}
	q, err := t.writer()
	if err != nil {
		return err
	}
	return mapErr(q.QueryRow(ctx, t.getByID, id).Scan(dest...))
}

// GetMany returns the rows whose keys are in ids (a slice of key values,
// e.g. []string), all columns in TableDef order, in no particular order.
// Missing keys are simply absent. It reads from the primary.
func (t *Table) GetMany(ctx context.Context, ids any) (*Rows, error) {
	q, err := t.writer()
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, t.getMany, ids)
	if err != nil {
		return nil, mapErr(err)
	}
	return &Rows{rows: rows, columns: t.colNames}, nil
}

// Exists reports whether a row has the given key. It reads from the
// primary.
func (t *Table) Exists(ctx context.Context, id any) (bool, error) {
	q, err := t.writer()
	if err != nil {
		return false, err
	}
	var ok bool
	if err := q.QueryRow(ctx, t.exists, id).Scan(&ok); err != nil {
		return false, mapErr(err)
	}
	return ok, nil
}

// Count returns the number of rows matching where ("" counts all), whose
// $n placeholders take args. where follows the rules of [Query.Where]. It
// runs on the replica when there is one.
func (t *Table) Count(ctx context.Context, where string, args ...any) (int64, error) {
	if err := checkWhere(where); err != nil {
		return 0, err
	}
	sql := t.count
	if where != "" {
		sql += " WHERE " + where
	}
	var n int64
	err := t.reader(ctx, func(q querier) error {
		return q.QueryRow(ctx, sql, args...).Scan(&n)
	})
	if err != nil {
		return 0, mapErr(err)
	}
	return n, nil
}

// Query runs qry and returns its rows. It runs on the replica when there
// is one.
func (t *Table) Query(ctx context.Context, qry Query) (*Rows, error) {
	sql, cols, args, err := t.buildQuery(qry)
	if err != nil {
		return nil, err
	}
	var rows pgx.Rows
	err = t.reader(ctx, func(q querier) error {
		var err error
		rows, err = q.Query(ctx, sql, args...)
		return err
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return &Rows{rows: rows, columns: cols}, nil
}

// reader runs fn on the bound transaction, or on the replica with fallback
// to the primary.
func (t *Table) reader(ctx context.Context, fn func(querier) error) error {
	if t.db.closed.Load() {
		return ErrClosed
	}
	if t.tx != nil {
		return fn(t.tx)
	}
	return t.db.onReader(ctx, fn)
}

func checkWhere(where string) error {
	if strings.ContainsRune(where, ';') {
		return fmt.Errorf("%w: a Where condition may not contain ';'", ErrInvalidQuery)
	}
	return nil
}

// buildQuery turns qry into SQL, validating every identifier against the
// table. LIMIT and OFFSET travel as parameters after qry.Args.
func (t *Table) buildQuery(qry Query) (string, []string, []any, error) {
	if err := checkWhere(qry.Where); err != nil {
		return "", nil, nil, err
	}
	if qry.Limit < 0 || qry.Offset < 0 {
		return "", nil, nil, fmt.Errorf("%w: negative limit or offset", ErrInvalidQuery)
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	cols := t.colNames
	if qry.Columns == nil {
		b.WriteString(t.selectList)
	} else {
		if len(qry.Columns) == 0 {
			return "", nil, nil, fmt.Errorf("%w: empty projection", ErrInvalidQuery)
		}
		cols = append([]string(nil), qry.Columns...)
		for i, c := range qry.Columns {
			qc, err := t.column(c)
			if err != nil {
				return "", nil, nil, err
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(qc)
		}
	}
	b.WriteString(" FROM ")
	b.WriteString(t.qname)
	if qry.Where != "" {
		b.WriteString(" WHERE ")
		b.WriteString(qry.Where)
	}
	for i, o := range qry.OrderBy {
		qc, err := t.column(o.Column)
		if err != nil {
			return "", nil, nil, err
		}
		if i == 0 {
			b.WriteString(" ORDER BY ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(qc)
		if o.Desc {
			b.WriteString(" DESC")
		}
	}
	args := qry.Args
	if qry.Limit > 0 || qry.Offset > 0 {
		args = append(make([]any, 0, len(qry.Args)+2), qry.Args...)
		if qry.Limit > 0 {
			args = append(args, qry.Limit)
			b.WriteString(" LIMIT $" + strconv.Itoa(len(args)))
		}
		if qry.Offset > 0 {
			args = append(args, qry.Offset)
			b.WriteString(" OFFSET $" + strconv.Itoa(len(args)))
		}
	}
	return b.String(), cols, args, nil
}

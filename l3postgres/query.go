package l3postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Query selects rows of a table. The zero Query selects every column of
// every row, in no particular order.
type Query struct {
	// Where is a SQL condition written by the program, with $1, $2, …
	// placeholders for Args, e.g. "level > $1 AND region = $2". It is
	// inserted into the statement as written, so it must never be built
	// from user input; a semicolon is refused. "" selects all rows.
	Where string

	// Args are the values for Where's placeholders: the highest $n in
	// Where (outside literals, quoted identifiers and comments; see
	// [Placeholders]) must be len(Args), or the query is refused with
	// [ErrInvalidQuery]. LIMIT and OFFSET travel as the parameters after
	// them.
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
	where   *whereSpan // set for Query: errors it causes are ErrInvalidQuery
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
func (r *Rows) Err() error { return r.where.mapErr(r.rows.Err()) }

// Close releases the rows' connection. It is safe to call more than once.
func (r *Rows) Close() { r.rows.Close() }

// Raw returns the underlying pgx.Rows, e.g. for pgx.CollectRows.
func (r *Rows) Raw() pgx.Rows { return r.rows }

// GetByID scans the row with the given key into dest, one pointer per
// column in TableDef order, then one for the Version column if there is
// one. It returns [ErrNotFound] when there is no such
// row. It reads from the primary (or the bound transaction).
func (t *Table) GetByID(ctx context.Context, id any, dest ...any) error {
	if len(dest) != t.nread {
		return fmt.Errorf("%w: %s reads %d columns, got %d destinations", ErrInvalidQuery, t.qname, t.nread, len(dest))
	}
	q, err := t.writer()
	if err != nil {
		return err
	}
	return mapErr(q.QueryRow(ctx, t.getByID, id).Scan(dest...))
}

// GetMany returns the rows whose keys are in ids (a slice of key values,
// e.g. []string), all columns in TableDef order (then the Version column
// if there is one), in no particular order.
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
	cols := t.colNames
	if t.version != "" {
		cols = append(cols[:len(cols):len(cols)], t.def.Version)
	}
	return &Rows{rows: rows, columns: cols}, nil
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
// $n placeholders take args. where and args follow the rules of
// [Query.Where] and [Query.Args]. It runs on the replica when there is one.
func (t *Table) Count(ctx context.Context, where string, args ...any) (int64, error) {
	if err := checkWhere(where, len(args)); err != nil {
		return 0, err
	}
	sql := t.count
	span := &whereSpan{}
	if where != "" {
		sql += " WHERE "
		span = newWhereSpan(sql, where)
		sql += where
	}
	var n int64
	err := t.reader(ctx, func(q querier) error {
		return q.QueryRow(ctx, sql, args...).Scan(&n)
	})
	if err != nil {
		return 0, span.mapErr(err)
	}
	return n, nil
}

// Query runs qry and returns its rows. It runs on the replica when there
// is one.
func (t *Table) Query(ctx context.Context, qry Query) (*Rows, error) {
	sql, cols, args, span, err := t.buildQuery(qry)
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
		return nil, span.mapErr(err)
	}
	return &Rows{rows: rows, columns: cols, where: span}, nil
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

// checkWhere refuses a condition with a semicolon, or whose placeholders
// do not match its nargs arguments.
func checkWhere(where string, nargs int) error {
	if strings.ContainsRune(where, ';') {
		return fmt.Errorf("%w: a Where condition may not contain ';'", ErrInvalidQuery)
	}
	return CheckArgs(where, nargs)
}

// buildQuery turns qry into SQL, validating every identifier against the
// table. LIMIT and OFFSET travel as parameters after qry.Args.
func (t *Table) buildQuery(qry Query) (string, []string, []any, *whereSpan, error) {
	span := &whereSpan{}
	if err := checkWhere(qry.Where, len(qry.Args)); err != nil {
		return "", nil, nil, nil, err
	}
	if qry.Limit < 0 || qry.Offset < 0 {
		return "", nil, nil, nil, fmt.Errorf("%w: negative limit or offset", ErrInvalidQuery)
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	cols := t.colNames
	if qry.Columns == nil {
		b.WriteString(t.selectList)
	} else {
		if len(qry.Columns) == 0 {
			return "", nil, nil, nil, fmt.Errorf("%w: empty projection", ErrInvalidQuery)
		}
		cols = append([]string(nil), qry.Columns...)
		for i, c := range qry.Columns {
			qc, err := t.column(c)
			if err != nil {
				return "", nil, nil, nil, err
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
		span = newWhereSpan(b.String(), qry.Where)
		b.WriteString(qry.Where)
	}
	for i, o := range qry.OrderBy {
		qc, err := t.column(o.Column)
		if err != nil {
			return "", nil, nil, nil, err
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
	return b.String(), cols, args, span, nil
}

// whereSpan locates a program-written condition in a statement, in the
// 1-based character positions PostgreSQL reports errors at, so that the
// errors it causes are told apart from those of the rest of the statement
// (which this package wrote).
type whereSpan struct {
	where      string
	start, end int // [start, end) in characters; 0, 0 when there is none
}

// newWhereSpan returns the span of where appended to prefix.
func newWhereSpan(prefix, where string) *whereSpan {
	start := utf8.RuneCountInString(prefix) + 1
	return &whereSpan{where: where, start: start, end: start + utf8.RuneCountInString(where)}
}

// mapErr maps err like the package-level mapErr, and then, when the
// condition or its arguments caused it, wraps [ErrInvalidQuery]: a server
// error located inside the condition (a syntax error, an unknown column or
// function), a value the server refused (class 22: an argument of the wrong
// form, a division by zero), or an argument pgx could not encode for its
// placeholder. A nil *whereSpan maps like mapErr.
func (w *whereSpan) mapErr(err error) error {
	err = mapErr(err)
	if err == nil || w == nil || errors.Is(err, ErrUnavailable) || errors.Is(err, ErrClosed) || errors.Is(err, ErrInvalidQuery) {
		return err
	}
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr):
		inWhere := int(pgErr.Position) >= w.start && int(pgErr.Position) < w.end
		if !inWhere && !errors.Is(err, ErrInvalidValue) {
			return err
		}
	case !strings.HasPrefix(err.Error(), "failed to encode args["):
		return err
	}
	return &conditionError{where: w.where, err: err}
}

// conditionError is an [ErrInvalidQuery] caused by a condition or its
// arguments; the server's (or pgx's) error stays reachable.
type conditionError struct {
	where string
	err   error
}

func (e *conditionError) Error() string {
	msg := e.err.Error()
	for _, s := range []error{ErrUndefined, ErrInvalidValue} {
		msg = strings.TrimPrefix(msg, s.Error()+": ")
	}
	msg = strings.TrimPrefix(msg, "ERROR: ")
	if e.where == "" {
		return ErrInvalidQuery.Error() + ": " + msg
	}
	return fmt.Sprintf("%s: condition %q: %s", ErrInvalidQuery, e.where, msg)
}

func (e *conditionError) Unwrap() []error { return []error{ErrInvalidQuery, e.err} }

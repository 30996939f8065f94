package strata

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/AndrewDonelson/strata/strata/internal/model"
)

// ReencryptResult counts what DataStore.Reencrypt did.
type ReencryptResult struct {
	// Rows is how many rows were read.
	Rows int64
	// Resealed rows had a cell sealed with a previous key (or without a key
	// id) and now have every cell sealed with EncryptionKey.
	Resealed int64
	// Sealed rows had a plaintext cell (written before encryption was
	// turned on), now sealed.
	Sealed int64
	// Raced rows changed between the read and the rewrite; the write that
	// changed them sealed them with EncryptionKey, so they were left alone.
	Raced int64
	// Unreadable rows have a cell sealed with a key that is not configured
	// (or damaged); they are left as they are and named in the error.
	Unreadable int64
}

// reencryptPage is how many rows one query of Reencrypt reads.
const reencryptPage = 500

// Reencrypt rewrites the encrypted columns of schema's table so that every
// cell is sealed with Config.EncryptionKey: cells sealed with one of
// PreviousEncryptionKeys, or before sealed values carried a key id, are
// opened and sealed again, and plaintext cells (rows written before
// encryption was turned on) are sealed.
//
// It walks the table in primary key order, 500 rows a query, and rewrites a
// row with a compare-and-set UPDATE (only if its encrypted cells still hold
// what was read), so it is safe beside live writes: a row written meanwhile
// is already sealed with EncryptionKey and is left alone. Stopped at any
// point (ctx, a crash), it can simply be run again: rows already sealed
// with EncryptionKey are read but not written. The decrypted values do not
// change, so no cache is invalidated.
//
// A cell sealed with a key that is not configured is left as it is; the
// returned error wraps ErrDecodeFailed and names the first such row.
// Without EncryptionKey, or for a schema with no encrypted field or no
// PostgreSQL table, it returns an error wrapping ErrInvalidConfig.
func (ds *DataStore) Reencrypt(ctx context.Context, schema string) (ReencryptResult, error) {
	var res ReencryptResult
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return res, err
	}
	plan, err := ds.planReencrypt(st)
	if err != nil {
		return res, err
	}
	var firstBad error
	cursor, started := "", false
	for {
		page, err := plan.readPage(ctx, cursor, started)
		if err != nil {
			return res, err
		}
		for _, r := range page {
			bad, err := plan.rewrite(ctx, r, &res)
			if err != nil {
				return res, err
			}
			if bad != nil && firstBad == nil {
				firstBad = bad
			}
		}
		if len(page) < reencryptPage {
			break
		}
		cursor, started = page[len(page)-1].id, true
	}
	if firstBad != nil {
		return res, fmt.Errorf("strata: Reencrypt %s: %d rows left as they are: %w", st.Name, res.Unreadable, firstBad)
	}
	return res, nil
}

// reencryptPlan holds what one Reencrypt run needs: the encrypted columns
// and the three statements that read pages of them and rewrite a row.
type reencryptPlan struct {
	ds          *DataStore
	st          *schemaState
	pool        *pgxpool.Pool
	cols        []string // encrypted columns, unquoted
	first, next string   // the first page; the page after $1
	update      string   // compare-and-set rewrite of one row
}

// reencryptRow is one row as read: its id and encrypted cells (nil: NULL).
type reencryptRow struct {
	id    string
	cells []*string
}

// planReencrypt checks that schema can be re-encrypted and builds its
// statements.
func (ds *DataStore) planReencrypt(st *schemaState) (*reencryptPlan, error) {
	if ds.enc == nil {
		return nil, fmt.Errorf("%w: Reencrypt: EncryptionKey is not set", ErrInvalidConfig)
	}
	pool := st.truth.sqlPool()
	if pool == nil {
		return nil, fmt.Errorf("%w: Reencrypt: schema %q has no PostgreSQL table", ErrInvalidConfig, st.Name)
	}
	var cols []string
	for i := range st.model.Fields {
		if f := &st.model.Fields[i]; f.Has(model.FlagEncrypted) {
			cols = append(cols, f.Column)
		}
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("%w: Reencrypt: schema %q has no encrypted field", ErrInvalidConfig, st.Name)
	}
	table := pgx.Identifier{st.table}.Sanitize()
	pk := pgx.Identifier{st.model.PKField().Column}.Sanitize()
	quoted := make([]string, len(cols))
	set := make([]string, len(cols))
	cond := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = pgx.Identifier{c}.Sanitize()
		set[i] = fmt.Sprintf("%s = $%d", quoted[i], i+2)
		cond[i] = fmt.Sprintf("%s IS NOT DISTINCT FROM $%d", quoted[i], len(cols)+i+2)
	}
	sel := fmt.Sprintf("SELECT %s, %s FROM %s", pk, strings.Join(quoted, ", "), table)
	return &reencryptPlan{
		ds: ds, st: st, pool: pool, cols: cols,
		first:  fmt.Sprintf("%s ORDER BY %s LIMIT %d", sel, pk, reencryptPage),
		next:   fmt.Sprintf("%s WHERE %s > $1 ORDER BY %s LIMIT %d", sel, pk, pk, reencryptPage),
		update: fmt.Sprintf("UPDATE %s SET %s WHERE %s = $1 AND %s", table, strings.Join(set, ", "), pk, strings.Join(cond, " AND ")),
	}, nil
}

// readPage reads the next page of rows: the first one, or the one after
// cursor once started.
func (p *reencryptPlan) readPage(ctx context.Context, cursor string, started bool) ([]reencryptRow, error) {
	var rows pgx.Rows
	var err error
	if started {
		rows, err = p.pool.Query(ctx, p.next, cursor)
	} else {
		rows, err = p.pool.Query(ctx, p.first)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: Reencrypt %s: %w", ErrL3Unavailable, p.st.Name, err)
	}
	defer rows.Close()
	var page []reencryptRow
	for rows.Next() {
		r := reencryptRow{cells: make([]*string, len(p.cols))}
		dest := make([]any, 1+len(p.cols))
		dest[0] = &r.id
		for i := range p.cols {
			dest[1+i] = &r.cells[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("%w: Reencrypt %s: %w", ErrDecodeFailed, p.st.Name, err)
		}
		page = append(page, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%w: Reencrypt %s: %w", ErrL3Unavailable, p.st.Name, err)
	}
	return page, nil
}

// rewrite seals r's cells with EncryptionKey where they are not already,
// writes them back with the compare-and-set UPDATE and counts the outcome
// in res. bad is the error of a cell no configured key opens (the row is
// then left as it is); err ends the run.
func (p *reencryptPlan) rewrite(ctx context.Context, r reencryptRow, res *ReencryptResult) (bad, err error) {
	res.Rows++
	args, change, plain, bad, err := p.reseal(r)
	if err != nil {
		return nil, err
	}
	if bad != nil {
		res.Unreadable++
		return bad, nil
	}
	if !change {
		return nil, nil
	}
	tag, err := p.pool.Exec(ctx, p.update, args...)
	if err != nil {
		return nil, fmt.Errorf("%w: Reencrypt %s %q: %w", ErrL3Unavailable, p.st.Name, r.id, err)
	}
	switch {
	case tag.RowsAffected() == 0:
		res.Raced++
	case plain:
		res.Sealed++
	default:
		res.Resealed++
	}
	return nil, nil
}

// reseal builds the UPDATE's arguments for r: its id, the cells to write
// (sealed again where needed) and the cells as read. change says a cell
// was sealed again, plain that one was plaintext.
func (p *reencryptPlan) reseal(r reencryptRow) (args []any, change, plain bool, bad, err error) {
	n := len(p.cols)
	args = make([]any, 1+2*n)
	args[0] = r.id
	for i, c := range p.cols {
		args[1+i], args[1+n+i] = r.cells[i], r.cells[i]
		if r.cells[i] == nil { // NULL: no value
			continue
		}
		v, state, oerr := p.ds.enc.openWith(p.st.table, c, r.id, *r.cells[i])
		switch state {
		case cellCurrent:
			continue
		case cellUnknown:
			bad = oerr
			continue
		case cellPlaintext: // '' included: written before encryption was on
			v, plain = *r.cells[i], true
		}
		sealed, err := p.ds.enc.seal(p.st.table, c, r.id, v)
		if err != nil {
			return nil, false, false, nil, err
		}
		args[1+i], change = &sealed, true
	}
	return args, change, plain, bad, nil
}

package strata

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

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
	if ds.enc == nil {
		return res, fmt.Errorf("%w: Reencrypt: EncryptionKey is not set", ErrInvalidConfig)
	}
	if st.l3 == nil || ds.l3 == nil {
		return res, fmt.Errorf("%w: Reencrypt: schema %q has no PostgreSQL table", ErrInvalidConfig, st.Name)
	}
	var cols []string
	for i := range st.model.Fields {
		if f := &st.model.Fields[i]; f.Has(model.FlagEncrypted) {
			cols = append(cols, f.Column)
		}
	}
	if len(cols) == 0 {
		return res, fmt.Errorf("%w: Reencrypt: schema %q has no encrypted field", ErrInvalidConfig, st.Name)
	}
	table := pgx.Identifier{st.table}.Sanitize()
	pk := pgx.Identifier{st.model.PKField().Column}.Sanitize()
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = pgx.Identifier{c}.Sanitize()
	}
	sel := fmt.Sprintf("SELECT %s, %s FROM %s", pk, strings.Join(quoted, ", "), table)
	first := fmt.Sprintf("%s ORDER BY %s LIMIT %d", sel, pk, reencryptPage)
	next := fmt.Sprintf("%s WHERE %s > $1 ORDER BY %s LIMIT %d", sel, pk, pk, reencryptPage)
	set := make([]string, len(cols))
	cond := make([]string, len(cols))
	for i, c := range quoted {
		set[i] = fmt.Sprintf("%s = $%d", c, i+2)
		cond[i] = fmt.Sprintf("%s IS NOT DISTINCT FROM $%d", c, len(cols)+i+2)
	}
	update := fmt.Sprintf("UPDATE %s SET %s WHERE %s = $1 AND %s", table, strings.Join(set, ", "), pk, strings.Join(cond, " AND "))

	pool := ds.l3.Pool()
	var firstBad error
	cursor, started := "", false
	for {
		var rows pgx.Rows
		if started {
			rows, err = pool.Query(ctx, next, cursor)
		} else {
			rows, err = pool.Query(ctx, first)
		}
		if err != nil {
			return res, fmt.Errorf("%w: Reencrypt %s: %w", ErrL3Unavailable, st.Name, err)
		}
		type row struct {
			id    string
			cells []*string
		}
		var page []row
		for rows.Next() {
			r := row{cells: make([]*string, len(cols))}
			dest := make([]any, 1+len(cols))
			dest[0] = &r.id
			for i := range cols {
				dest[1+i] = &r.cells[i]
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return res, fmt.Errorf("%w: Reencrypt %s: %w", ErrDecodeFailed, st.Name, err)
			}
			page = append(page, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return res, fmt.Errorf("%w: Reencrypt %s: %w", ErrL3Unavailable, st.Name, err)
		}
		for _, r := range page {
			res.Rows++
			args := make([]any, 1+2*len(cols))
			args[0] = r.id
			change, plain, bad := false, false, error(nil)
			for i, c := range cols {
				args[1+i], args[1+len(cols)+i] = r.cells[i], r.cells[i]
				if r.cells[i] == nil { // NULL: no value
					continue
				}
				v, state, err := ds.enc.openWith(st.table, c, r.id, *r.cells[i])
				switch state {
				case cellCurrent:
					continue
				case cellUnknown:
					bad = err
					continue
				case cellPlaintext: // '' included: written before encryption was on
					v, plain = *r.cells[i], true
				}
				sealed, err := ds.enc.seal(st.table, c, r.id, v)
				if err != nil {
					return res, err
				}
				args[1+i], change = &sealed, true
			}
			if bad != nil {
				res.Unreadable++
				if firstBad == nil {
					firstBad = bad
				}
				continue
			}
			if !change {
				continue
			}
			tag, err := pool.Exec(ctx, update, args...)
			if err != nil {
				return res, fmt.Errorf("%w: Reencrypt %s %q: %w", ErrL3Unavailable, st.Name, r.id, err)
			}
			switch {
			case tag.RowsAffected() == 0:
				res.Raced++
			case plain:
				res.Sealed++
			default:
				res.Resealed++
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

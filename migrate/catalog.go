package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// tableState is what the catalog says about one table.
type tableState struct {
	schemaMissing bool // Table.Schema is set and does not exist yet
	exists        bool
	partitioned   bool
	columns       map[string]columnState
	indexes       map[string]bool // index names on the table
	partitions    map[string]bool // partition (child) table names
	rowVersion    bool            // the Table.RowVersion trigger exists
	schemaName    string          // the table's schema, resolved (only with Table.RowVersion)
}

type columnState struct {
	typ        string // format_type() output
	notNull    bool
	hasDefault bool // a DEFAULT, or an identity or generated column: inserts that omit it still work
	inKey      bool // part of the primary key
}

// queryer is the part of *pgx.Conn and pgx.Tx the catalog reads need.
type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// readTable loads the catalog state of t; a missing table is not an error.
func readTable(ctx context.Context, q queryer, t Table) (tableState, error) {
	st := tableState{columns: map[string]columnState{}, indexes: map[string]bool{}, partitions: map[string]bool{}}
	if t.Schema != "" {
		var found bool
		if err := q.QueryRow(ctx, `SELECT to_regnamespace($1) IS NOT NULL`, pgx.Identifier{t.Schema}.Sanitize()).Scan(&found); err != nil {
			return st, err
		}
		if !found {
			st.schemaMissing = true
			return st, nil
		}
	}
	var oid *uint32
	var kind *string
	err := q.QueryRow(ctx, `SELECT c.oid, c.relkind::text FROM pg_class c WHERE c.oid = to_regclass($1)`,
		t.ident().Sanitize()).Scan(&oid, &kind)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && oid == nil) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.exists = true
	st.partitioned = *kind == "p"

	rows, err := q.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
		a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '',
		a.attnum = ANY(coalesce((SELECT c.conkey FROM pg_constraint c WHERE c.conrelid = a.attrelid AND c.contype = 'p'), '{}'))
		FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped`, *oid)
	if err != nil {
		return st, err
	}
	var name string
	var cs columnState
	if _, err := pgx.ForEachRow(rows, []any{&name, &cs.typ, &cs.notNull, &cs.hasDefault, &cs.inKey}, func() error {
		st.columns[name] = cs
		return nil
	}); err != nil {
		return st, err
	}
	if err := collectNames(ctx, q, st.indexes, `SELECT ic.relname FROM pg_index i
		JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = $1`, *oid); err != nil {
		return st, err
	}
	if err := collectNames(ctx, q, st.partitions, `SELECT c.relname FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1`, *oid); err != nil {
		return st, err
	}
	return st, nil
}

func collectNames(ctx context.Context, q queryer, into map[string]bool, sql string, args ...any) error {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	var name string
	_, err = pgx.ForEachRow(rows, []any{&name}, func() error {
		into[name] = true
		return nil
	})
	return err
}

// typeResolver turns type names as written in descriptions into the
// spelling format_type() uses, asking the server, so that aliases
// (int8, timestamptz, varchar(20)) compare equal to what the catalog
// reports. Results are cached for the resolver's life (one call).
type typeResolver struct {
	q     queryer
	cache map[string]string
}

// serialTypes are pseudo-types that only exist in DDL.
var serialTypes = map[string]string{"smallserial": "smallint", "serial": "integer", "bigserial": "bigint",
	"serial2": "smallint", "serial4": "integer", "serial8": "bigint"}

func (r *typeResolver) resolve(ctx context.Context, typ string) (string, error) {
	if s, ok := r.cache[typ]; ok {
		return s, nil
	}
	base, mods := splitTypmod(typ)
	if s, ok := serialTypes[strings.ToLower(base)]; ok {
		base = s
	}
	var oid *uint32
	var modinSchema, modin *string
	err := r.q.QueryRow(ctx, `SELECT t.oid, n.nspname, p.proname FROM pg_type t
		LEFT JOIN pg_proc p ON p.oid = t.typmodin
		LEFT JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE t.oid = to_regtype($1)`, base).Scan(&oid, &modinSchema, &modin)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && oid == nil) {
		return "", fmt.Errorf("unknown type %q", typ)
	}
	if err != nil {
		return "", err
	}
	var out string
	switch {
	case len(mods) == 0:
		err = r.q.QueryRow(ctx, `SELECT format_type($1, -1)`, *oid).Scan(&out)
	case modin == nil:
		return "", fmt.Errorf("type %q takes no modifiers", typ)
	default:
		fn := pgx.Identifier{*modinSchema, *modin}.Sanitize()
		err = r.q.QueryRow(ctx, `SELECT format_type($1, `+fn+`($2::text[]::cstring[]))`, *oid, mods).Scan(&out)
	}
	if err != nil {
		return "", fmt.Errorf("type %q: %w", typ, err)
	}
	r.cache[typ] = out
	return out, nil
}

// splitTypmod separates "numeric(10, 2)" into "numeric" and ["10" "2"],
// and "timestamp(3) with time zone" into "timestamp with time zone" and
// ["3"]. Spaces are normalised.
func splitTypmod(typ string) (string, []string) {
	typ = strings.TrimSpace(typ)
	open := strings.IndexByte(typ, '(')
	close := strings.IndexByte(typ, ')')
	if open < 0 || close < open {
		return strings.Join(strings.Fields(typ), " "), nil
	}
	var mods []string
	for _, m := range strings.Split(typ[open+1:close], ",") {
		mods = append(mods, strings.TrimSpace(m))
	}
	base := strings.Join(strings.Fields(typ[:open]+" "+typ[close+1:]), " ")
	base = strings.ReplaceAll(base, " [", "[")
	return base, mods
}

// hasRows reports whether the table t has at least one row.
func (r *typeResolver) hasRows(ctx context.Context, t Table) (bool, error) {
	var ok bool
	err := r.q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+t.ident().Sanitize()+")").Scan(&ok)
	return ok, err
}

package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// resolver resolves type names for drift comparison (see typeResolver) and
// tells whether a table has rows.
type resolver interface {
	resolve(ctx context.Context, typ string) (string, error)
	hasRows(ctx context.Context, t Table) (bool, error)
}

// planTable returns the DDL that brings a table in state st up to t
// (already validated), or the drift errors that forbid it, and a warning
// for each change that the program's author should know about. It never
// drops or renames anything; the only alterations of existing columns are
// dropping the NOT NULL of a column the description no longer has (see
// orphans).
func planTable(ctx context.Context, t Table, st tableState, types resolver) ([]string, []string, error) {
	if !st.exists {
		var stmts []string
		if st.schemaMissing {
			stmts = append(stmts, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{t.Schema}.Sanitize())
		}
		stmts = append(stmts, createTable(t))
		stmts = append(stmts, createPartitions(t, nil)...)
		stmts = append(stmts, createIndexes(t, nil)...)
		if t.RowVersion != "" {
			stmts = append(stmts, rowVersionDDL(t, st.schemaName)...)
		}
		return stmts, nil, nil
	}

	display := strings.Join(t.ident(), ".")
	var drift []error
	switch {
	case t.PartitionBy != "" && !st.partitioned:
		drift = append(drift, &DriftError{Table: display, Column: t.PartitionBy, What: "partitioning",
			Found: "not partitioned", Wanted: "PARTITION BY HASH (" + t.PartitionBy + ")"})
	case t.PartitionBy == "" && st.partitioned:
		drift = append(drift, &DriftError{Table: display, Column: "(table)", What: "partitioning",
			Found: "partitioned", Wanted: "not partitioned"})
	}
	var stmts, notes []string
	for _, c := range t.Columns {
		found, ok := st.columns[c.Name]
		if !ok {
			if c.PrimaryKey {
				return nil, nil, fmt.Errorf("%w: table %s exists without primary-key column %q; migrate does not change primary keys",
					ErrInvalidTable, display, c.Name)
			}
			add, err := addColumn(ctx, t, c, types)
			if err != nil {
				return nil, nil, err
			}
			stmts = append(stmts, add...)
			continue
		}
		wantType, err := types.resolve(ctx, c.Type)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: table %s column %s: %w", ErrInvalidTable, display, c.Name, err)
		}
		if wantType != found.typ {
			drift = append(drift, &DriftError{Table: display, Column: c.Name, What: "type", Found: found.typ, Wanted: wantType})
		}
		if want := notNull(c); want != found.notNull {
			drift = append(drift, &DriftError{Table: display, Column: c.Name, What: "nullability",
				Found: nullability(found.notNull), Wanted: nullability(want)})
		}
	}
	orphans, orphanNotes, err := orphans(t, st)
	if err != nil {
		drift = append(drift, err)
	}
	if len(drift) > 0 {
		return nil, nil, errors.Join(drift...)
	}
	stmts = append(stmts, orphans...)
	notes = append(notes, orphanNotes...)
	if st.partitioned {
		stmts = append(stmts, createPartitions(t, st.partitions)...)
	}
	stmts = append(stmts, createIndexes(t, st.indexes)...)
	if t.RowVersion != "" && !st.rowVersion {
		stmts = append(stmts, rowVersionDDL(t, st.schemaName)...)
	}
	return stmts, notes, nil
}

// addColumn returns the statements that add the missing column c to the
// existing table t. A NOT NULL column without a Default cannot be added
// as such to a table with rows (PostgreSQL has nothing to put in them), so
// it is added with its type's zero value as DEFAULT, which fills the
// existing rows (without rewriting the table), and the DEFAULT is dropped
// again: the column ends up as described, as if the table had been created
// with it. A type without a known zero, or an Opaque column (whose zero
// would not be a valid stored value), is refused when the table has rows,
// with the ways out spelled out.
func addColumn(ctx context.Context, t Table, c Column, types resolver) ([]string, error) {
	qt := t.ident().Sanitize()
	add := "ALTER TABLE " + qt + " ADD COLUMN IF NOT EXISTS " + columnDef(c)
	if !notNull(c) || c.Default != "" {
		return []string{add}, nil
	}
	typ, err := types.resolve(ctx, c.Type)
	if err != nil {
		return nil, fmt.Errorf("%w: table %s column %s: %w", ErrInvalidTable, strings.Join(t.ident(), "."), c.Name, err)
	}
	if zero, ok := zeroValue(typ); ok && !c.Opaque {
		qc := pgx.Identifier{c.Name}.Sanitize()
		return []string{add + " DEFAULT " + zero, "ALTER TABLE " + qt + " ALTER COLUMN " + qc + " DROP DEFAULT"}, nil
	}
	populated, err := types.hasRows(ctx, t)
	if err != nil {
		return nil, unavailable(err)
	}
	if !populated {
		return []string{add}, nil
	}
	why := "migrate knows no zero value of " + typ + " to fill the existing rows with"
	if c.Opaque {
		why = "its stored form is opaque (e.g. ciphertext), so a zero value would make every existing row unreadable"
	}
	return nil, fmt.Errorf("%w: table %s has rows and column %q (%s) is NOT NULL without a Default, and %s: "+
		"give the column a Default, make it Nullable, or add it with a SQL migration that fills the rows",
		ErrInvalidTable, strings.Join(t.ident(), "."), c.Name, c.Type, why)
}

// zeroValue returns the SQL literal of the zero value of a type as
// format_type() spells it (aliases resolved): what a program's zero value
// (Go's "", 0, false, time.Time{}) is stored as. JSON's zero is null, which
// decodes to a zero value of any type.
func zeroValue(typ string) (string, bool) {
	t := strings.ToLower(strings.TrimSpace(typ))
	base, _ := splitTypmod(t)
	switch {
	case strings.HasSuffix(t, "]"):
		return "'{}'", true
	case base == "text", base == "character varying", base == "varchar", base == "character", base == "char",
		base == "bpchar", base == "name", base == "citext":
		return "''", true
	case base == "bigint", base == "integer", base == "smallint", base == "int8", base == "int4", base == "int2",
		base == "numeric", base == "decimal", base == "real", base == "double precision", base == "float4", base == "float8":
		return "0", true
	case base == "boolean", base == "bool":
		return "false", true
	case base == "timestamp with time zone", base == "timestamptz":
		return "'0001-01-01 00:00:00+00'", true
	case base == "timestamp without time zone", base == "timestamp":
		return "'0001-01-01 00:00:00'", true
	case base == "date":
		return "'0001-01-01'", true
	case strings.HasPrefix(base, "time "), base == "time", base == "timetz":
		return "'00:00:00'", true
	case base == "interval":
		return "'0'", true
	case base == "bytea":
		return "''", true
	case base == "jsonb", base == "json":
		return "'null'", true
	case base == "uuid":
		return "'00000000-0000-0000-0000-000000000000'", true
	}
	return "", false
}

// orphans handles the columns of the existing table that t no longer
// describes (a field removed from a model). One that is NOT NULL without a
// default would make every insert that leaves it out fail, while nothing
// here would say why; its NOT NULL is dropped (no data is lost, and the
// column stays for the program to drop by hand), with a warning. One that
// is part of the primary key cannot be relaxed, so it is reported.
func orphans(t Table, st tableState) ([]string, []string, error) {
	described := make(map[string]bool, len(t.Columns))
	for _, c := range t.Columns {
		described[c.Name] = true
	}
	var names []string
	for name := range st.columns {
		if !described[name] {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	display := strings.Join(t.ident(), ".")
	var stmts, notes []string
	for _, name := range names {
		cs := st.columns[name]
		switch {
		case !cs.notNull || cs.hasDefault:
			continue // inserts that leave it out still work
		case cs.inKey:
			return nil, nil, fmt.Errorf("%w: table %s: column %q is part of the primary key, NOT NULL without a default, and no longer described, "+
				"so every insert would fail; migrate does not change primary keys: describe the column again, or change the key with a SQL migration",
				ErrInvalidTable, display, name)
		}
		stmts = append(stmts, "ALTER TABLE "+t.ident().Sanitize()+" ALTER COLUMN "+pgx.Identifier{name}.Sanitize()+" DROP NOT NULL")
		notes = append(notes, fmt.Sprintf("column %s.%s is no longer described and was NOT NULL without a default, which would make every insert fail: "+
			"its NOT NULL was dropped (its data is kept); drop the column with a SQL migration once nothing needs it", display, name))
	}
	return stmts, notes, nil
}

func notNull(c Column) bool { return c.PrimaryKey || !c.Nullable }

func nullability(notNull bool) string {
	if notNull {
		return "NOT NULL"
	}
	return "NULL"
}

func columnDef(c Column) string {
	var b strings.Builder
	b.WriteString(pgx.Identifier{c.Name}.Sanitize())
	b.WriteByte(' ')
	b.WriteString(strings.TrimSpace(c.Type))
	if notNull(c) {
		b.WriteString(" NOT NULL")
	}
	if c.Default != "" {
		b.WriteString(" DEFAULT ")
		b.WriteString(c.Default)
	}
	return b.String()
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = pgx.Identifier{n}.Sanitize()
	}
	return strings.Join(q, ", ")
}

func createTable(t Table) string {
	defs := make([]string, 0, len(t.Columns)+1)
	for _, c := range t.Columns {
		defs = append(defs, columnDef(c))
	}
	defs = append(defs, "PRIMARY KEY ("+quoteList(t.primaryKey())+")")
	sql := "CREATE TABLE IF NOT EXISTS " + t.ident().Sanitize() + " (" + strings.Join(defs, ", ") + ")"
	if t.PartitionBy != "" {
		sql += " PARTITION BY HASH (" + pgx.Identifier{t.PartitionBy}.Sanitize() + ")"
	}
	return sql
}

// createPartitions returns the statements for the hash partitions not in
// existing.
func createPartitions(t Table, existing map[string]bool) []string {
	if t.PartitionBy == "" {
		return nil
	}
	var stmts []string
	for i := range t.Partitions {
		name := partitionName(t.Name, i)
		if existing[name] {
			continue
		}
		stmts = append(stmts, "CREATE TABLE IF NOT EXISTS "+t.sibling(name).Sanitize()+" PARTITION OF "+t.ident().Sanitize()+
			" FOR VALUES WITH (MODULUS "+strconv.Itoa(t.Partitions)+", REMAINDER "+strconv.Itoa(i)+")")
	}
	return stmts
}

// createIndexes returns the statements for the indexes not in existing.
func createIndexes(t Table, existing map[string]bool) []string {
	var stmts []string
	for _, ix := range t.indexes() {
		if existing[ix.Name] {
			continue
		}
		kw := "CREATE INDEX IF NOT EXISTS "
		if ix.Unique {
			kw = "CREATE UNIQUE INDEX IF NOT EXISTS "
		}
		stmts = append(stmts, kw+pgx.Identifier{ix.Name}.Sanitize()+" ON "+t.ident().Sanitize()+" ("+quoteList(ix.Columns)+")")
	}
	return stmts
}

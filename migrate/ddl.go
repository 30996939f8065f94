package migrate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// resolver resolves type names for drift comparison; see typeResolver.
type resolver interface {
	resolve(ctx context.Context, typ string) (string, error)
}

// planTable returns the DDL that brings a table in state st up to t
// (already validated), or the drift errors that forbid it. It never
// drops, renames or alters an existing column.
func planTable(ctx context.Context, t Table, st tableState, types resolver) ([]string, error) {
	qt := t.ident().Sanitize()
	if !st.exists {
		var stmts []string
		if st.schemaMissing {
			stmts = append(stmts, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{t.Schema}.Sanitize())
		}
		stmts = append(stmts, createTable(t))
		stmts = append(stmts, createPartitions(t, nil)...)
		return append(stmts, createIndexes(t, nil)...), nil
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
	var stmts []string
	for _, c := range t.Columns {
		found, ok := st.columns[c.Name]
		if !ok {
			if c.PrimaryKey {
				return nil, fmt.Errorf("%w: table %s exists without primary-key column %q; migrate does not change primary keys",
					ErrInvalidTable, display, c.Name)
			}
			stmts = append(stmts, "ALTER TABLE "+qt+" ADD COLUMN IF NOT EXISTS "+columnDef(c))
			continue
		}
		wantType, err := types.resolve(ctx, c.Type)
		if err != nil {
			return nil, fmt.Errorf("%w: table %s column %s: %w", ErrInvalidTable, display, c.Name, err)
		}
		if wantType != found.typ {
			drift = append(drift, &DriftError{Table: display, Column: c.Name, What: "type", Found: found.typ, Wanted: wantType})
		}
		if want := notNull(c); want != found.notNull {
			drift = append(drift, &DriftError{Table: display, Column: c.Name, What: "nullability",
				Found: nullability(found.notNull), Wanted: nullability(want)})
		}
	}
	if len(drift) > 0 {
		return nil, errors.Join(drift...)
	}
	if st.partitioned {
		stmts = append(stmts, createPartitions(t, st.partitions)...)
	}
	return append(stmts, createIndexes(t, st.indexes)...), nil
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

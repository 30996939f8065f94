package migrate

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Table is the neutral description of a table from which [Migrator.Migrate]
// derives additive DDL. The strata module builds it from struct tags; any
// program may build it by hand.
type Table struct {
	// Schema is the PostgreSQL schema of the table, created when missing;
	// "" means the first schema of the connection's search_path.
	Schema string

	// Name is the table name. Required.
	Name string

	// Columns are the table's columns, created in this order. At least one
	// must be a primary-key column.
	Columns []Column

	// Indexes are extra indexes on the table.
	Indexes []Index

	// PartitionBy names a column to partition the table by, or "". The
	// scheme is hash partitioning: PARTITION BY HASH (column) with
	// Partitions partitions named <table>_p0 … created up front, so rows are
	// spread evenly and no partition ever needs to be created later.
	// PostgreSQL requires every unique key of a partitioned table to
	// include the partition column, so the primary key becomes
	// (primary-key columns…, PartitionBy) and a unique column or index
	// that does not include it is refused.
	PartitionBy string

	// Partitions is the number of hash partitions when PartitionBy is set.
	// Default: 4. Changing it later does not repartition an existing table.
	Partitions int

	// RowVersion names a version column that Migrate adds (bigint NOT NULL
	// DEFAULT 0: rows already there get 0), with a trigger that sets it,
	// on every INSERT and UPDATE — made by anyone, not only this program —
	// to the next value of the sequence <RowVersion>_seq in the table's
	// schema, whatever the statement wrote there. Two writes of one row
	// take the row's lock before the trigger runs, so the later commit
	// always carries the higher version. "" adds none. It must not be one
	// of Columns. See the package documentation.
	RowVersion string
}

// Column describes one column of a [Table].
type Column struct {
	// Name is the column name.
	Name string

	// Type is the SQL type, e.g. TEXT, BIGINT, DOUBLE PRECISION, BOOLEAN,
	// TIMESTAMPTZ, BYTEA, JSONB, NUMERIC(10,2), TEXT[]. Aliases are fine:
	// drift detection compares types as PostgreSQL resolves them.
	Type string

	// Nullable allows NULL; columns are NOT NULL otherwise. Primary-key
	// columns are always NOT NULL. A NOT NULL column without a Default added
	// to a table that already has rows fills them with its type's zero
	// value (see the package documentation).
	Nullable bool

	// Default is a SQL expression for the column's DEFAULT, or "". It is
	// written into the DDL as it is: it comes from the program, never from
	// user input. Defaults of existing columns are not compared.
	Default string

	// Unique adds a unique index on the column, named <table>_<column>_key.
	Unique bool

	// PrimaryKey makes the column part of the primary key.
	PrimaryKey bool

	// Opaque marks a column whose stored form is not the program's value
	// (ciphertext, for one), so its type's zero value is not a valid
	// stored value. A NOT NULL Opaque column without a Default is never
	// zero-filled: adding it to a table that has rows is refused, with the
	// ways out spelled out.
	Opaque bool
}

// Index describes an extra index.
type Index struct {
	// Name is the index name; "" derives one deterministically from the
	// table and columns: <table>_<col>_<col>_idx, or _key when unique, cut
	// to 63 bytes with a hash suffix when longer.
	Name string

	// Columns are the indexed columns, in order.
	Columns []string

	// Unique makes it a unique index.
	Unique bool
}

// DefaultPartitions is the number of hash partitions when
// Table.Partitions is zero.
const DefaultPartitions = 4

const maxIdentLen = 63

// typePattern accepts type names such as "double precision",
// "numeric(10, 2)", "timestamp(3) with time zone" and "varchar(20)[]".
var typePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_ .]*(\(\s*[0-9]+(\s*,\s*[0-9]+)*\s*\))?[A-Za-z ]*(\[[0-9]*\])*$`)

func checkIdent(table, what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: table %q: empty %s name", ErrInvalidTable, table, what)
	case len(name) > maxIdentLen:
		return fmt.Errorf("%w: table %q: %s name %q is longer than %d bytes", ErrInvalidTable, table, what, name, maxIdentLen)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("%w: table %q: %s name %q contains a NUL byte", ErrInvalidTable, table, what, name)
	}
	return nil
}

// validate checks t and returns it with defaults applied.
func (t Table) validate() (Table, error) {
	if err := checkIdent(t.Name, "table", t.Name); err != nil {
		return t, err
	}
	if t.Schema != "" {
		if err := checkIdent(t.Name, "schema", t.Schema); err != nil {
			return t, err
		}
	}
	if len(t.Columns) == 0 {
		return t, fmt.Errorf("%w: table %q has no columns", ErrInvalidTable, t.Name)
	}
	seen := make(map[string]bool, len(t.Columns))
	pks := 0
	for _, c := range t.Columns {
		if err := checkIdent(t.Name, "column", c.Name); err != nil {
			return t, err
		}
		if seen[c.Name] {
			return t, fmt.Errorf("%w: table %q lists column %q twice", ErrInvalidTable, t.Name, c.Name)
		}
		seen[c.Name] = true
		if !typePattern.MatchString(strings.TrimSpace(c.Type)) {
			return t, fmt.Errorf("%w: table %q: column %q has an unusable type %q", ErrInvalidTable, t.Name, c.Name, c.Type)
		}
		if strings.ContainsRune(c.Default, ';') {
			return t, fmt.Errorf("%w: table %q: column %q: a DEFAULT may not contain ';'", ErrInvalidTable, t.Name, c.Name)
		}
		if c.PrimaryKey {
			pks++
		}
	}
	if pks == 0 {
		return t, fmt.Errorf("%w: table %q has no primary-key column", ErrInvalidTable, t.Name)
	}
	if t.RowVersion != "" {
		if err := checkIdent(t.Name, "row version", t.RowVersion); err != nil {
			return t, err
		}
		if seen[t.RowVersion] {
			return t, fmt.Errorf("%w: table %q: row version column %q is also one of its columns", ErrInvalidTable, t.Name, t.RowVersion)
		}
		if err := checkIdent(t.Name, "row version sequence", t.RowVersion+"_seq"); err != nil {
			return t, err
		}
		// The column is described like any other from here on.
		t.Columns = append(slices.Clip(t.Columns), Column{Name: t.RowVersion, Type: "bigint", Default: "0"})
	}
	if t.PartitionBy != "" {
		if !seen[t.PartitionBy] {
			return t, fmt.Errorf("%w: table %q: partition column %q is not one of its columns", ErrInvalidTable, t.Name, t.PartitionBy)
		}
		if t.Partitions == 0 {
			t.Partitions = DefaultPartitions
		}
		if t.Partitions < 1 {
			return t, fmt.Errorf("%w: table %q: Partitions must be positive", ErrInvalidTable, t.Name)
		}
		if err := checkIdent(t.Name, "partition", partitionName(t.Name, t.Partitions-1)); err != nil {
			return t, err
		}
	}
	for _, c := range t.Columns {
		if c.Unique && t.PartitionBy != "" && c.Name != t.PartitionBy {
			return t, fmt.Errorf("%w: table %q: unique column %q must include the partition column %q (PostgreSQL requires it)",
				ErrInvalidTable, t.Name, c.Name, t.PartitionBy)
		}
	}
	for _, ix := range t.Indexes {
		if len(ix.Columns) == 0 {
			return t, fmt.Errorf("%w: table %q: an index has no columns", ErrInvalidTable, t.Name)
		}
		hasPart := false
		for _, c := range ix.Columns {
			if !seen[c] {
				return t, fmt.Errorf("%w: table %q: index column %q is not one of its columns", ErrInvalidTable, t.Name, c)
			}
			hasPart = hasPart || c == t.PartitionBy
		}
		if ix.Unique && t.PartitionBy != "" && !hasPart {
			return t, fmt.Errorf("%w: table %q: unique index on %v must include the partition column %q (PostgreSQL requires it)",
				ErrInvalidTable, t.Name, ix.Columns, t.PartitionBy)
		}
		if ix.Name != "" {
			if err := checkIdent(t.Name, "index", ix.Name); err != nil {
				return t, err
			}
		}
	}
	return t, nil
}

// ident returns the table's (possibly schema-qualified) identifier.
func (t Table) ident() pgx.Identifier { return t.sibling(t.Name) }

// sibling returns the identifier of a relation in the table's schema.
func (t Table) sibling(name string) pgx.Identifier {
	if t.Schema != "" {
		return pgx.Identifier{t.Schema, name}
	}
	return pgx.Identifier{name}
}

// primaryKey returns the primary-key columns, with the partition column
// appended when the table is partitioned by another column.
func (t Table) primaryKey() []string {
	var pk []string
	for _, c := range t.Columns {
		if c.PrimaryKey {
			pk = append(pk, c.Name)
		}
	}
	if t.PartitionBy != "" && !slices.Contains(pk, t.PartitionBy) {
		pk = append(pk, t.PartitionBy)
	}
	return pk
}

// indexes returns every index the table should have: one per unique
// column, then the declared ones, each with its final name.
func (t Table) indexes() []Index {
	var out []Index
	for _, c := range t.Columns {
		if c.Unique {
			out = append(out, Index{Name: IndexName(t.Name, []string{c.Name}, true), Columns: []string{c.Name}, Unique: true})
		}
	}
	for _, ix := range t.Indexes {
		if ix.Name == "" {
			ix.Name = IndexName(t.Name, ix.Columns, ix.Unique)
		}
		out = append(out, ix)
	}
	return out
}

// IndexName returns the deterministic name given to an unnamed index:
// <table>_<col>_…_idx, or _key for a unique index. A name longer than
// PostgreSQL's 63 bytes is cut and given an 8-hex-digit FNV-1a hash of the
// full name, so that it stays unique and stable.
func IndexName(table string, columns []string, unique bool) string {
	suffix := "_idx"
	if unique {
		suffix = "_key"
	}
	name := table + "_" + strings.Join(columns, "_") + suffix
	if len(name) <= maxIdentLen {
		return name
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	sum := strconv.FormatUint(uint64(h.Sum32()), 16)
	sum = strings.Repeat("0", 8-len(sum)) + sum
	return name[:maxIdentLen-len(sum)-1] + "_" + sum
}

func partitionName(table string, i int) string {
	return table + "_p" + strconv.Itoa(i)
}

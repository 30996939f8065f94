package l3postgres

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// TableDef is the neutral description of a table that this package reads
// and writes. The strata module builds it from struct tags; any program may
// build it by hand.
type TableDef struct {
	// Schema is the PostgreSQL schema holding the table; "" means the
	// connection's search_path decides.
	Schema string

	// Name is the table name. Required.
	Name string

	// Columns lists the table's columns in the order in which values are
	// passed to Upsert and UpsertMany and scanned by GetByID. Required.
	Columns []Column

	// PrimaryKey names the key column used by GetByID, DeleteByID and the
	// upsert conflict target. Required; must be one of Columns.
	PrimaryKey string

	// PartitionBy names the partition column of a partitioned table, or "".
	// PostgreSQL requires a partitioned table's unique keys to include it,
	// so when it differs from PrimaryKey the upsert conflict target is
	// (PrimaryKey, PartitionBy) and the database alone would no longer keep
	// one row per key. This package does: the upserts first move the key's
	// row to the partition of the value written (an UPDATE of the partition
	// column, which keeps the row's other columns), under a
	// transaction-level advisory lock on the key, so a write that changes
	// the partition value moves the row and concurrent writers of one key
	// cannot each insert one. Rows written around this package can still
	// duplicate a key; GetByID then returns one of them.
	PartitionBy string

	// Version names a row version column the table has besides Columns
	// (see migrate's Table.RowVersion), or "". When set, GetByID and
	// GetMany read it after the columns (one more destination), and the
	// RETURNING upserts return it after the InsertOnly columns, so a write
	// learns the version it committed in the same round trip. Upserts never
	// write it (the trigger does) and Query does not read it.
	Version string
}

// Column describes one column of a [TableDef].
type Column struct {
	// Name is the column name.
	Name string

	// InsertOnly columns are written when a row is inserted and left as
	// they are when an upsert updates an existing row (a created_at).
	InsertOnly bool
}

// Columns is shorthand for a list of plain columns.
func Columns(names ...string) []Column {
	cols := make([]Column, len(names))
	for i, n := range names {
		cols[i] = Column{Name: n}
	}
	return cols
}

// maxIdentLen is PostgreSQL's NAMEDATALEN-1; longer names are silently
// truncated by the server, so they are refused here.
const maxIdentLen = 63

func checkIdent(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty %s name", ErrInvalidTable, what)
	case len(name) > maxIdentLen:
		return fmt.Errorf("%w: %s name %q is longer than %d bytes", ErrInvalidTable, what, name, maxIdentLen)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("%w: %s name %q contains a NUL byte", ErrInvalidTable, what, name)
	}
	return nil
}

// Table is a validated TableDef with its statements prepared as text. It
// is safe for concurrent use. A Table returned by [Table.On] runs on a
// transaction instead of the pools.
type Table struct {
	db *DB
	tx pgx.Tx
	*tableSQL
}

type tableSQL struct {
	def         TableDef
	ident       pgx.Identifier
	qname       string         // quoted, qualified table name
	qcols       []string       // quoted column names, in def order
	colNames    []string       // column names, in def order
	colIndex    map[string]int // column name → position
	pk          int            // position of the primary key
	part        int            // position of the partition column when partitioned
	partitioned bool           // PartitionBy is set and is not the key
	conflict    string         // the quoted conflict target, comma-separated
	selectList  string         // all quoted columns, comma-separated
	updatable   []bool         // per position: an upsert of an existing row sets it
	insertOnly  []int          // positions of the InsertOnly columns
	version     string         // the quoted Version column, or ""
	nread       int            // columns GetByID scans: the columns, and the version

	upsert  string
	getByID string
	getMany string
	exists  string
	delete  string
	count   string

	stageName   string // unqualified temporary table name
	stageKeep   string // the staging table's extra column naming each row's statements (see keep.go)
	stageCreate string
	stageMerge  string
	stageDrop   string

	// Partitioned tables only (see movesSQL): the advisory lock of one key
	// and the statement moving its row to the partition of $2, then the
	// same for every key of the staging table.
	lockKey, moveKey     string
	stageLock, stageMove string

	variants sync.Map // keepKey → *upsertStmts (see keep.go)
}

// Table validates def and returns the handle used for reading and writing
// that table. It does not touch the database.
func (db *DB) Table(def TableDef) (*Table, error) {
	s, err := compileTable(def)
	if err != nil {
		return nil, err
	}
	return &Table{db: db, tableSQL: s}, nil
}

// Def returns a copy of the table's description.
func (t *Table) Def() TableDef {
	d := t.def
	d.Columns = append([]Column(nil), t.def.Columns...)
	return d
}

// On returns t bound to tx: its calls, reads included, run inside the
// transaction.
func (t *Table) On(tx *Tx) *Table {
	return &Table{db: t.db, tx: tx.tx, tableSQL: t.tableSQL}
}

func compileTable(def TableDef) (*tableSQL, error) {
	if def.Schema != "" {
		if err := checkIdent("schema", def.Schema); err != nil {
			return nil, err
		}
	}
	if err := checkIdent("table", def.Name); err != nil {
		return nil, err
	}
	if len(def.Columns) == 0 {
		return nil, fmt.Errorf("%w: table %q has no columns", ErrInvalidTable, def.Name)
	}
	s := &tableSQL{
		def:      def,
		colIndex: make(map[string]int, len(def.Columns)),
		colNames: make([]string, len(def.Columns)),
		qcols:    make([]string, len(def.Columns)),
	}
	s.def.Columns = append([]Column(nil), def.Columns...)
	for i, c := range def.Columns {
		if err := checkIdent("column", c.Name); err != nil {
			return nil, err
		}
		if _, dup := s.colIndex[c.Name]; dup {
			return nil, fmt.Errorf("%w: table %q lists column %q twice", ErrInvalidTable, def.Name, c.Name)
		}
		s.colIndex[c.Name] = i
		s.colNames[i] = c.Name
		s.qcols[i] = pgx.Identifier{c.Name}.Sanitize()
	}
	pk, ok := s.colIndex[def.PrimaryKey]
	if !ok {
		return nil, fmt.Errorf("%w: table %q: primary key %q is not one of its columns", ErrInvalidTable, def.Name, def.PrimaryKey)
	}
	s.pk = pk
	conflict := []string{s.qcols[pk]}
	if def.PartitionBy != "" && def.PartitionBy != def.PrimaryKey {
		p, ok := s.colIndex[def.PartitionBy]
		if !ok {
			return nil, fmt.Errorf("%w: table %q: partition column %q is not one of its columns", ErrInvalidTable, def.Name, def.PartitionBy)
		}
		conflict = append(conflict, s.qcols[p])
		s.part, s.partitioned = p, true
	}

	if def.Schema != "" {
		s.ident = pgx.Identifier{def.Schema, def.Name}
	} else {
		s.ident = pgx.Identifier{def.Name}
	}
	s.qname = s.ident.Sanitize()
	s.selectList = strings.Join(s.qcols, ", ")
	qpk := s.qcols[pk]
	readList := s.selectList
	s.nread = len(s.qcols)
	if def.Version != "" {
		if err := checkIdent("version column", def.Version); err != nil {
			return nil, err
		}
		if _, dup := s.colIndex[def.Version]; dup {
			return nil, fmt.Errorf("%w: table %q: version column %q is also one of its columns", ErrInvalidTable, def.Name, def.Version)
		}
		s.version = pgx.Identifier{def.Version}.Sanitize()
		readList += ", " + s.version
		s.nread++
	}

	s.conflict = strings.Join(conflict, ", ")
	s.updatable = make([]bool, len(def.Columns))
	for i, c := range def.Columns {
		switch {
		case i == pk:
		case c.InsertOnly:
			s.insertOnly = append(s.insertOnly, i)
		case def.PartitionBy != "" && c.Name == def.PartitionBy:
		default:
			s.updatable[i] = true
		}
	}
	params := make([]string, len(def.Columns))
	for i := range params {
		params[i] = "$" + strconv.Itoa(i+1)
	}
	s.upsert = "INSERT INTO " + s.qname + " (" + s.selectList + ") VALUES (" + strings.Join(params, ", ") + ")" + s.onConflict(nil, "")
	s.getByID = "SELECT " + readList + " FROM " + s.qname + " WHERE " + qpk + " = $1"
	s.getMany = "SELECT " + readList + " FROM " + s.qname + " WHERE " + qpk + " = ANY($1)"
	s.exists = "SELECT EXISTS (SELECT 1 FROM " + s.qname + " WHERE " + qpk + " = $1)"
	s.delete = "DELETE FROM " + s.qname + " WHERE " + qpk + " = $1"
	s.count = "SELECT count(*) FROM " + s.qname

	// The staging table lives in the session's temporary schema; its name
	// is derived from the target's so that different tables never share it.
	h := fnv.New64a()
	h.Write([]byte(s.qname))
	s.stageName = "_strata_stage_" + strconv.FormatUint(h.Sum64(), 36)
	qstage := pgx.Identifier{s.stageName}.Sanitize()
	s.stageKeep = "_strata_keep"
	for _, taken := s.colIndex[s.stageKeep]; taken; _, taken = s.colIndex[s.stageKeep] {
		s.stageKeep += "_"
	}
	s.stageCreate = "CREATE TEMPORARY TABLE " + qstage + " (LIKE " + s.qname + " INCLUDING DEFAULTS, " +
		pgx.Identifier{s.stageKeep}.Sanitize() + " text) ON COMMIT DROP"
	s.stageMerge = "INSERT INTO " + s.qname + " (" + s.selectList + ") SELECT " + s.selectList + " FROM " + qstage + s.onConflict(nil, "")
	s.stageDrop = "DROP TABLE " + qstage
	if s.partitioned {
		s.movesSQL(qstage)
	}
	return s, nil
}

// A partitioned table's unique keys must include the partition column, so
// the database alone cannot keep one row per key: an upsert whose
// partition value differs from the stored row's would insert a second row.
// So before upserting, the key's row is moved to the new partition with an
// UPDATE of the partition column (PostgreSQL moves rows between partitions;
// every other column, Keep and InsertOnly ones included, stays as it was),
// and the upsert then finds it as on any table. Both run after a
// transaction-level advisory lock on the key, so that two writers of one
// key never each insert a row: the second waits, then sees the first's.

// movesSQL sets the statements of a partitioned table's moves.
func (s *tableSQL) movesSQL(qstage string) {
	h := fnv.New32a()
	h.Write([]byte(s.qname))
	// Two-int4 advisory keys (table, hashtext(key)) never collide with the
	// single-bigint keys such as migrate's.
	class := strconv.FormatInt(int64(int32(h.Sum32())), 10)
	qpk, qpart := s.qcols[s.pk], s.qcols[s.part]
	s.lockKey = "SELECT pg_advisory_xact_lock(" + class + ", hashtext($1::text))"
	s.moveKey = "UPDATE " + s.qname + " SET " + qpart + " = $2 WHERE " + qpk + " = $1 AND " + qpart + " IS DISTINCT FROM $2"
	// Locks in hash order, so that two batches never wait for each other.
	s.stageLock = "SELECT pg_advisory_xact_lock(" + class + ", k.h) FROM (SELECT DISTINCT hashtext(" + qpk +
		"::text) AS h FROM " + qstage + " ORDER BY h) AS k"
	s.stageMove = "UPDATE " + s.qname + " AS t SET " + qpart + " = s." + qpart + " FROM " + qstage + " AS s WHERE t." + qpk +
		" = s." + qpk + " AND t." + qpart + " IS DISTINCT FROM s." + qpart
}

// writer returns where writes go: the bound transaction or the primary.
func (t *Table) writer() (querier, error) {
	if t.db.closed.Load() {
		return nil, ErrClosed
	}
	if t.tx != nil {
		return t.tx, nil
	}
	return t.db.primary, nil
}

// column returns the quoted name of a column of the table.
func (t *Table) column(name string) (string, error) {
	i, ok := t.colIndex[name]
	if !ok {
		return "", fmt.Errorf("%w: %q is not a column of %s", ErrUnknownColumn, name, t.qname)
	}
	return t.qcols[i], nil
}

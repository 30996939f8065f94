// Package migrate evolves a PostgreSQL schema without ever destroying data.
//
// It has two halves, both run by a [Migrator] built with [New] on a
// caller-owned *pgxpool.Pool. Neither knows about Strata's struct tags: the
// strata module turns tags into [Table] values.
//
// # Table descriptions
//
// [Migrator.Migrate] compares each [Table] with the catalog and executes
// only what is missing: CREATE TABLE, ALTER TABLE … ADD COLUMN,
// CREATE [UNIQUE] INDEX (names from [IndexName] when not given). It never
// drops or renames, and a database that already matches gets no statement
// at all.
//
// A column whose type or nullability differs from its description is
// reported as a [*DriftError] naming table, column, what was found and
// what was wanted; types are compared as PostgreSQL resolves them, so int8
// matches bigint and varchar(20) matches character varying(20). All
// statements run in one transaction. [Migrator.Plan] returns the
// statements without executing them.
//
// # Evolving a table that has rows
//
// A column added NOT NULL without a Default (a new non-pointer field)
// cannot simply be added to a table with rows: PostgreSQL has nothing to
// put in them. Migrate adds it with its type's zero value as DEFAULT, which
// fills the existing rows without rewriting the table, then drops that
// DEFAULT, so the column ends up exactly as described. The zero values are
// what a Go zero value is stored as: the empty string for text types, 0
// for numbers, false, '0001-01-01 00:00:00+00' for timestamptz (Go's
// time.Time{}), '0001-01-01' for date, no bytes for bytea, 'null' for json
// and jsonb (which decodes to a zero value of any type), '{}' for arrays,
// the nil UUID. For another type Migrate refuses the column when the table
// has rows, saying to give it a Default, make it Nullable, or fill it with
// a SQL migration.
//
// A column the description no longer has (a removed field) is left in
// place with its data. If it is NOT NULL without a default, every insert
// that leaves it out would fail, so Migrate drops its NOT NULL — the only
// alteration it makes, and it loses nothing — and logs a warning; drop the
// column with a SQL migration once nothing needs it. Such a column that is
// part of the primary key cannot be relaxed and is reported as an error.
//
// # Row versions
//
// A Table with RowVersion gets that column (bigint NOT NULL DEFAULT 0, so
// existing rows hold 0) and a BEFORE INSERT OR UPDATE row trigger that
// sets it to the next value of the schema's sequence <column>_seq on every
// write, whoever makes it: psql, another service, a cascade. The trigger
// runs once the row is locked, so of two writes of one row the later
// commit has the higher version; a cache can then keep the newer of two
// copies whatever order they reach it in.
//
// # Partitioning
//
// A Table with PartitionBy is created PARTITION BY HASH (column) with
// Table.Partitions partitions (default 4) named <table>_p0, <table>_p1, …
// attached up front, so the scheme needs no maintenance. The primary key
// becomes (key columns…, partition column), as PostgreSQL requires of
// unique keys on partitioned tables; unique columns and indexes must
// therefore include the partition column. An existing table is never
// repartitioned.
//
// # SQL files
//
// [Migrator.MigrateFS] (any fs.FS, so //go:embed works) and
// [Migrator.MigrateFrom] (a directory) apply files named
// NNN_description.sql in numeric order, each in its own transaction with
// its history row. A file whose first line is [NoTransactionDirective]
// runs outside a transaction, statement by statement, for CREATE INDEX
// CONCURRENTLY and the like. A malformed name or a duplicate number is an
// error ([ErrBadFileName]); an applied file whose checksum (SHA-256) has
// changed is a [*ChecksumError]; a failing file stops the run with a
// [*PartialError] listing what was applied before it. Files run as
// multi-statement scripts, which pgx sends over the simple protocol; they
// carry no parameters, and every value this package itself sends is a
// parameter.
//
// # History
//
// Applied files are recorded in the append-only table _strata_migrations
// (version, name, checksum, applied_at, duration_ms), created on first
// use. [Migrator.Status] lists it.
//
// # Concurrency
//
// Every Migrate, Plan and MigrateFS call holds a session-level advisory
// lock, key [DefaultLockID] (0x5354524154412D4D, "STRATA-M") unless
// Options.LockID says otherwise, on one connection for its whole
// duration, so any number of instances starting at once apply each change
// exactly once. The lock is taken by polling pg_try_advisory_lock, because
// a session blocked in pg_advisory_lock would deadlock with a CREATE INDEX
// CONCURRENTLY run by the holder.
package migrate

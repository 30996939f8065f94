// Package l3postgres is Strata's third tier and usual source of truth: the
// PostgreSQL layer, built on pgx v5 and pgxpool.
//
// It works on a neutral description of a table ([TableDef]: name, columns,
// primary key, optional partition column) rather than on Go structs, so it
// knows nothing about Strata's struct tags; the strata module translates tags
// into a TableDef. This package and the migrate package each define the
// description they need: migrate's carries DDL facts (types, nullability,
// defaults, indexes), this one only what reads and writes need.
//
// # Construction
//
// [New] wraps a caller-owned *pgxpool.Pool (the caller closes it); [Open]
// builds a pool from a DSN and [Options] (MaxConns 20, MinConns 2,
// MaxConnLifetime 30m, MaxConnIdleTime 10m) and closes it on [DB.Close].
// Either may be given a read replica, whose pool serves [Table.Query] and
// [Table.Count].
//
// # Tables
//
// [DB.Table] validates a [TableDef] and precomputes the statements for it.
// The returned [*Table] offers Upsert, UpsertMany, GetByID, GetMany,
// Exists, DeleteByID, Count and Query. Values are passed and scanned in the
// order of TableDef.Columns.
//
// # Routing
//
// Writes, GetByID, GetMany and Exists always use the primary: they are what a
// cache fills itself from, and a lagging replica would put an old row into
// the cache. Query and Count use the replica when one is configured. When
// the replica fails with a connection-level error, the call is retried on
// the primary, a warning is logged through Options.Logger, and the replica
// is skipped for Options.ReplicaRetryInterval before it is tried again.
// The fallback covers failures before the first row arrives; a replica
// lost while [Rows] are being read ends that iteration with an error
// wrapping [ErrUnavailable].
// [DB.WithReplica] gives some tables a replica of their own while sharing
// the primary pool, so a program with several replicas keeps one pool to
// the primary.
//
// # Bulk writes
//
// [Table.UpsertMany] copies the rows with the COPY protocol into a temporary
// table created for the transaction and merges them with one
// INSERT … SELECT … ON CONFLICT statement, all in one transaction. When the
// same key appears twice in one call, the last row wins.
//
// # Transactions
//
// [DB.Begin] and [DB.InTx] open a transaction on the primary; [Table.On]
// binds a table to it so that several tables are written atomically.
//
// # Safety
//
// Every identifier (table, columns, order-by, projection) is checked against
// the TableDef and quoted with pgx.Identifier; values travel only as
// parameters, and every statement of this package goes over the extended
// protocol, with or without parameters (a pool configured for the simple
// protocol, which would interpolate values client-side, is refused). Only
// pgx's own transaction control (BEGIN, COMMIT, SAVEPOINT) is sent as
// simple queries; it carries no values. [Query.Where] is a SQL condition written by
// the program, with $1… placeholders for its [Query.Args]; it must never be
// built from user input.
//
// # Errors
//
// A missing row is [ErrNotFound]; connection-level failures are wrapped in
// [ErrUnavailable] with the cause still reachable. Server errors keep the
// *pgconn.PgError reachable with errors.As and, where a caller can act on
// them, wrap a sentinel: a unique or exclusion violation is a
// [*ConflictError] ([ErrConflict]) naming the constraint, a missing table or
// column [ErrUndefined], a refused value (class 22) [ErrInvalidValue],
// another constraint violation [ErrConstraint]. A Where whose highest $n
// placeholder is not len(Args), or that the server refuses (a syntax error
// or unknown column located in it, an argument of the wrong form), is
// [ErrInvalidQuery].
//
// A write that fails after its statement or COMMIT was sent (the context
// ended, or the connection broke, before the answer arrived) may have been
// applied, or may still be applied after the call returned: its error
// wraps [ErrOutcomeUnknown] and is an [*OutcomeUnknownError] naming the
// server backend it went to. Once [DB.BackendsAlive] no longer lists that
// backend, the outcome is settled. Every other error of a write means it
// was not applied, so a caller (a cache in front of the table) knows when
// it must invalidate after a failure.
//
// # Row versions
//
// Strata's stale-set guard lives in Redis (leases, see DESIGN.md §3), so
// this tier keeps no row-version column.
//
// # Change feed
//
// The changefeed subpackage streams PostgreSQL's commit log (logical
// replication, pgoutput) as batches of committed row changes — table,
// primary-key values, operation — to a handler, confirming a transaction
// only after the handler succeeded, with one consumer per slot and
// takeover when it dies. Strata uses it for Config.ChangeFeed.
package l3postgres

package strata

import (
	"context"

	"github.com/AndrewDonelson/strata/l3postgres"
)

// l3Table is a schema's PostgreSQL table as the DataStore uses it: where
// the truth of a schema with an L3 lives. Register sets it once (pgTable,
// on the primary or the read replica's pool); it is nil for a schema
// without PostgreSQL, whose truth is Redis or, without Redis, L1.
//
// It is also the seam the white-box tests use (the spec's "Testing without
// a database", Pattern 2): a DataStore built with a table of their own
// (see testHooks.l3) drives every L3 error path — unavailable, conflict,
// timeout, outcome unknown — without a server.
type l3Table interface {
	GetByID(ctx context.Context, id any, dest ...any) error
	GetMany(ctx context.Context, ids any) (*l3postgres.Rows, error)
	Exists(ctx context.Context, id any) (bool, error)
	Count(ctx context.Context, where string, args ...any) (int64, error)
	Query(ctx context.Context, q l3postgres.Query) (*l3postgres.Rows, error)
	UpsertReturning(ctx context.Context, values []any, dest ...any) error
	// UpsertGrouped is UpsertReturning that may share one statement with
	// concurrent Sets of the schema (l3postgres's group commit).
	UpsertGrouped(ctx context.Context, values []any, dest ...any) error
	UpsertMany(ctx context.Context, rows [][]any) (int64, error)
	UpsertManyReturning(ctx context.Context, rows [][]any, each func(scan func(dest ...any) error) error) (int64, error)
	DeleteByID(ctx context.Context, id any) (bool, error)
	// inTx runs fn in one transaction on the primary; bind gives, for a
	// table of any schema, the same table inside that transaction.
	inTx(ctx context.Context, fn func(bind func(l3Table) l3Table) error) error
}

// pgTable is an l3postgres table, with the primary database that runs its
// transactions.
type pgTable struct {
	*l3postgres.Table
	primary *l3postgres.DB
}

func (t pgTable) inTx(ctx context.Context, fn func(bind func(l3Table) l3Table) error) error {
	return t.primary.InTx(ctx, func(tx *l3postgres.Tx) error {
		return fn(func(o l3Table) l3Table {
			p := o.(pgTable)
			return pgTable{Table: p.On(tx), primary: p.primary}
		})
	})
}

// truth is where a schema's records live for good, chosen once at Register
// (see truthFor) so that no operation re-decides which tiers exist:
//
//   - pgTruth: PostgreSQL holds the record; Redis and L1 cache it and are
//     kept coherent after each write (coherence.go).
//   - redisTruth: no PostgreSQL; Redis holds the only durable copy (no
//     expiry) and L1 caches it.
//   - memTruth: neither server; L1 holds the only copy.
//
// The read methods (truthReader) and the write methods (truthWriter) live
// in truthread.go and truthwrite.go. Only the truth, coherence and
// lifecycle files touch the tier handles (st.l3, ds.l2, ds.bus, st.wb) or
// ask which tiers a schema has.
type truth interface {
	truthReader
	truthWriter
}

// pgTruth is a schema whose truth is its PostgreSQL table (st.l3).
type pgTruth struct{ ds *DataStore }

// redisTruth is a schema without PostgreSQL whose truth is Redis.
type redisTruth struct {
	ds *DataStore
	noQueries
}

// memTruth is a schema with neither server: L1 is the only copy.
type memTruth struct {
	ds *DataStore
	noQueries
}

// truthIsPostgres reports whether st's truth is its PostgreSQL table,
// whose column types bound what ids and values can be stored (see
// input.go) and which Migrate creates. It is inlined: checkID asks it on
// every call.
func (st *schemaState) truthIsPostgres() bool { return st.l3 != nil }

// truthFor returns the truth of st, whose L3 handle and write-behind queue
// are attached.
func (ds *DataStore) truthFor(st *schemaState) truth {
	switch {
	case st.wb != nil:
		return behindTruth{pgTruth{ds}}
	case st.l3 != nil:
		return pgTruth{ds}
	case ds.l2 != nil:
		return redisTruth{ds: ds}
	default:
		return memTruth{ds: ds}
	}
}

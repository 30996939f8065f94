package strata

import (
	"context"
	"fmt"

	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/AndrewDonelson/strata/strata/metrics"
	"github.com/jackc/pgx/v5/pgxpool"
)

// truthSearcher runs queries against a schema's truth: only PostgreSQL
// answers them; the other truths refuse with ErrL3Unavailable.
type truthSearcher interface {
	// queryable reports, before a query is built, whether the truth
	// answers queries.
	queryable(st *schemaState) error
	// query runs qry. fresh reports whether its rows may fill the caches
	// (a read replica's may lag, so they fill none).
	query(ctx context.Context, st *schemaState, qry l3postgres.Query) (rows *l3postgres.Rows, fresh bool, err error)
	// count counts the rows matching where.
	count(ctx context.Context, st *schemaState, where string, args []any) (int64, error)
	// cachesResults reports whether SearchCached may cache result sets of
	// st in Redis: not without Redis, nor for a read replica (it may lag),
	// nor while an outage may have left the search generation stale.
	cachesResults(st *schemaState) bool
	// cachedResult returns the result set fp from Redis with the search
	// generation it was read under; err is Redis's failure, or
	// l2redis.ErrNotFound.
	cachedResult(ctx context.Context, st *schemaState, fp string) (data []byte, gen uint64, err error)
	// storeResult caches result set fp under generation gen, read before
	// the query: a write that bumped it meanwhile leaves the entry
	// unreachable, never stale.
	storeResult(ctx context.Context, st *schemaState, gen uint64, fp string, data []byte)
	// sqlPool is the primary PostgreSQL pool, for the statements Strata
	// writes itself (Reencrypt); nil without PostgreSQL.
	sqlPool() *pgxpool.Pool
}

// errNoResultCache is cachedResult's answer where cachesResults is false.
var errNoResultCache = fmt.Errorf("%w: no search result cache", ErrL2Unavailable)

func noPostgres(st *schemaState) error {
	return fmt.Errorf("%w: schema %q has no PostgreSQL tier", ErrL3Unavailable, st.Name)
}

func (pgTruth) queryable(*schemaState) error { return nil }

func (t pgTruth) query(ctx context.Context, st *schemaState, qry l3postgres.Query) (*l3postgres.Rows, bool, error) {
	rows, err := st.l3.Query(ctx, qry)
	if err != nil {
		t.ds.cfg.Metrics.Error(st.Name, metrics.TierL3, "query")
		return nil, false, l3Error(err)
	}
	return rows, !st.replica, nil
}

func (pgTruth) count(ctx context.Context, st *schemaState, where string, args []any) (int64, error) {
	n, err := st.l3.Count(ctx, where, args...)
	if err != nil {
		return 0, l3Error(err)
	}
	return n, nil
}

func (t pgTruth) cachesResults(st *schemaState) bool {
	return t.ds.l2 != nil && !st.replica && !t.ds.stale.genStale(st)
}

func (t pgTruth) cachedResult(ctx context.Context, st *schemaState, fp string) ([]byte, uint64, error) {
	return t.ds.l2.GetResult(ctx, st.prefix, fp)
}

func (t pgTruth) storeResult(ctx context.Context, st *schemaState, gen uint64, fp string, data []byte) {
	_ = t.ds.l2.SetResult(ctx, st.prefix, gen, fp, data, st.l2TTL)
}

// noQueries is the query side of a truth without PostgreSQL.
type noQueries struct{}

func (noQueries) queryable(st *schemaState) error { return noPostgres(st) }

func (noQueries) query(_ context.Context, st *schemaState, _ l3postgres.Query) (*l3postgres.Rows, bool, error) {
	return nil, false, noPostgres(st)
}

func (noQueries) count(_ context.Context, st *schemaState, _ string, _ []any) (int64, error) {
	return 0, noPostgres(st)
}

func (noQueries) cachesResults(*schemaState) bool { return false }

func (noQueries) cachedResult(context.Context, *schemaState, string) ([]byte, uint64, error) {
	return nil, 0, errNoResultCache
}

func (t pgTruth) sqlPool() *pgxpool.Pool {
	if t.ds.l3 == nil { // a test's table (ds.test.l3) has no pool
		return nil
	}
	return t.ds.l3.Pool()
}

func (noQueries) sqlPool() *pgxpool.Pool { return nil }

func (noQueries) storeResult(context.Context, *schemaState, uint64, string, []byte) {}

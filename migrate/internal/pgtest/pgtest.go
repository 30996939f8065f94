// Package pgtest holds the test helpers of migrate, on the repository's
// server-test kit (module testkit): the skip-or-fail contract of DESIGN.md
// §4 and pools confined to a throw-away schema.
package pgtest

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/AndrewDonelson/strata/testkit"
	"github.com/AndrewDonelson/strata/testkit/pgkit"
)

// DSN returns STRATA_POSTGRES_DSN. When it is unset the test is skipped,
// or fails when STRATA_REQUIRE_SERVERS=1.
func DSN(tb testing.TB) string {
	tb.Helper()
	return testkit.PostgresDSN(tb)
}

// Suffix returns a random lower-case hex suffix for object names.
func Suffix() string { return testkit.Suffix() }

// SchemaPool creates a schema with a random name and returns it with a
// pool whose connections have it alone on their search_path, so that
// unqualified names (the history table included) land in it. The schema
// and everything in it are dropped, and the pool closed, when the test
// ends.
func SchemaPool(tb testing.TB, maxConns int32) (*pgxpool.Pool, string) {
	tb.Helper()
	schema := pgkit.Schema(tb, "strata_mig_")
	return PoolOn(tb, schema, maxConns), schema
}

// PoolOn returns a pool whose connections have schema alone on their
// search_path, closed when the test ends (before the schema is dropped).
func PoolOn(tb testing.TB, schema string, maxConns int32) *pgxpool.Pool {
	tb.Helper()
	return pgkit.Pool(tb, maxConns, schema)
}

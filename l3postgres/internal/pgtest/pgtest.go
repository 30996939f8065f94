// Package pgtest holds the test helpers of l3postgres, on the repository's
// server-test kit (module testkit): the skip-or-fail contract of DESIGN.md
// §4, throw-away schemas, replication slots and publications, and a real
// streaming replica.
package pgtest

import (
	"context"
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

// Pool returns a pool of four connections on the test database, closed
// when the test ends.
func Pool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	return pgkit.Pool(tb, 4, "")
}

// Schema creates a schema with a random name and drops it, with all it
// holds, when the test ends. pool must be on the test database.
func Schema(tb testing.TB, _ *pgxpool.Pool) string {
	tb.Helper()
	return pgkit.Schema(tb, "strata_test_")
}

// Replica is a streaming replica of the test primary.
type Replica = pgkit.Replica

// StartReplica starts a streaming replica of the primary behind
// primaryDSN, stopped when the test ends.
func StartReplica(tb testing.TB, primaryDSN string) *Replica {
	tb.Helper()
	return pgkit.StartReplica(tb, primaryDSN)
}

// Slot returns a fresh slot name whose slot, if the test creates it, is
// dropped when the test ends.
func Slot(tb testing.TB, pool *pgxpool.Pool) string {
	tb.Helper()
	return pgkit.Slot(tb, pool.Config().ConnString())
}

// Publication returns a fresh publication name, dropped when the test ends.
func Publication(tb testing.TB, pool *pgxpool.Pool) string {
	tb.Helper()
	return pgkit.Publication(tb, pool.Config().ConnString())
}

// DropLeakedSlots drops the test slots and publications that killed test
// processes left behind (see pgkit.DropLeakedSlots).
func DropLeakedSlots(_ context.Context, pool *pgxpool.Pool) (int, error) {
	return pgkit.DropLeakedSlots(pool.Config().ConnString())
}

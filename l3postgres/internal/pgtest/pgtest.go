// Package pgtest holds the test helpers of l3postgres: the server gating
// contract of DESIGN.md §4, throw-away schemas and a real streaming replica.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SkipMessage says how to provide the servers the tests need.
const SkipMessage = "STRATA_POSTGRES_DSN is not set: run `make test`, or run " +
	"`go run ./tools/cmd/devstack up` at the repository root and export the variables it prints " +
	"(e.g. `set -a; . .devstack/env; set +a`)"

// DSN returns STRATA_POSTGRES_DSN. When it is unset the test is skipped,
// or fails when STRATA_REQUIRE_SERVERS=1.
func DSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("STRATA_POSTGRES_DSN")
	if dsn == "" {
		Unavailable(tb, SkipMessage)
	}
	return dsn
}

// Unavailable skips the test with msg, or fails it when
// STRATA_REQUIRE_SERVERS=1.
func Unavailable(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv("STRATA_REQUIRE_SERVERS") == "1" {
		tb.Fatal(msg + " (STRATA_REQUIRE_SERVERS=1)")
	}
	tb.Skip(msg)
}

// Suffix returns a random lower-case hex suffix for object names.
func Suffix() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// Pool returns a pool on the test database, closed when the test ends.
func Pool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(DSN(tb))
	if err != nil {
		tb.Fatalf("parse STRATA_POSTGRES_DSN: %v", err)
	}
	cfg.MinConns = 0
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("pool: %v", err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// Schema creates a schema with a random name and drops it, with all it
// holds, when the test ends.
func Schema(tb testing.TB, pool *pgxpool.Pool) string {
	tb.Helper()
	name := "strata_test_" + Suffix()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

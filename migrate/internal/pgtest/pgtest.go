// Package pgtest holds the test helpers of migrate: the server gating
// contract of DESIGN.md §4 and pools confined to a throw-away schema.
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

// SkipMessage says how to provide the server the tests need.
const SkipMessage = "STRATA_POSTGRES_DSN is not set: run `make test`, or run " +
	"`go run ./tools/cmd/devstack up` at the repository root and export the variables it prints " +
	"(e.g. `set -a; . .devstack/env; set +a`)"

// DSN returns STRATA_POSTGRES_DSN. When it is unset the test is skipped,
// or fails when STRATA_REQUIRE_SERVERS=1.
func DSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("STRATA_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("STRATA_REQUIRE_SERVERS") == "1" {
			tb.Fatal(SkipMessage + " (STRATA_REQUIRE_SERVERS=1)")
		}
		tb.Skip(SkipMessage)
	}
	return dsn
}

// Suffix returns a random lower-case hex suffix for object names.
func Suffix() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// SchemaPool creates a schema with a random name and returns it with a
// pool whose connections have it alone on their search_path, so that
// unqualified names (the history table included) land in it. The schema
// and everything in it are dropped, and the pool closed, when the test
// ends.
func SchemaPool(tb testing.TB, maxConns int32) (*pgxpool.Pool, string) {
	tb.Helper()
	dsn := DSN(tb)
	schema := "strata_mig_" + Suffix()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return PoolOn(tb, schema, maxConns), schema
}

// PoolOn returns a pool whose connections have schema alone on their
// search_path, closed when the test ends (before the schema is dropped).
func PoolOn(tb testing.TB, schema string, maxConns int32) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(DSN(tb))
	if err != nil {
		tb.Fatalf("parse STRATA_POSTGRES_DSN: %v", err)
	}
	cfg.MinConns = 0
	cfg.MaxConns = maxConns
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("pool: %v", err)
	}
	tb.Cleanup(pool.Close) // registered after the drop, so it runs before it
	return pool
}

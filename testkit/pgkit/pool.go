package pgkit

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/AndrewDonelson/strata/testkit"
)

// Pool returns a pool of at most maxConns connections on the test server,
// closed when tb ends. A non-empty searchPath becomes the connections'
// search_path, so unqualified names land in that schema.
func Pool(tb testing.TB, maxConns int32, searchPath string) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(testkit.PostgresDSN(tb))
	if err != nil {
		tb.Fatalf("parse %s: %v", testkit.EnvPostgresDSN, err)
	}
	cfg.MinConns = 0
	cfg.MaxConns = maxConns
	if searchPath != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = searchPath
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("pool: %v", err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// Schema creates a schema named prefix + a random suffix on the test
// server and drops it, with all it holds, when tb ends (after the clean-ups
// registered later, such as the pools on it, have run).
func Schema(tb testing.TB, prefix string) string {
	tb.Helper()
	dsn := testkit.PostgresDSN(tb)
	name := prefix + testkit.Suffix()
	exec := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE SCHEMA " + pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("create schema %s: %v", name, err)
	}
	tb.Cleanup(func() {
		if err := exec("DROP SCHEMA " + pgx.Identifier{name}.Sanitize() + " CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

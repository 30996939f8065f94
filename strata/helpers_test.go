package strata_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/strata"
)

// openStore returns a DataStore on cfg with s registered, closed when the
// test ends. With Redis it waits for the invalidation bus's first
// subscription, since L1 serves nothing before it.
func openStore(t testing.TB, cfg strata.Config, s strata.Schema) *strata.DataStore {
	t.Helper()
	ds, err := strata.NewDataStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	if err := ds.Register(s); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := ds.WaitSubscribed(ctx); err != nil {
		t.Fatalf("invalidation bus: %v", err)
	}
	return ds
}

// pgTable returns a connection to dsn and drops table when the test ends.
func pgTable(t testing.TB, dsn, table string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) }) // runs after the DROP
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), "DROP TABLE IF EXISTS "+pgx.Identifier{table}.Sanitize())
	})
	return conn
}

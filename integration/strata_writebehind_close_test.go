package integration_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/testkit"
	"github.com/AndrewDonelson/strata/testkit/pgkit"
)

// TestWriteBehindCloseFlushesAfterPostgresRestart: PostgreSQL restarts
// (fast shutdown, as in a routine upgrade), or an administrator terminates
// the backends, while 100 acknowledged records wait. The pool's connections
// from before are dead (SQLSTATE 57P01 on first use); Close must retry
// within its budget instead of giving up on the first dead connection, and
// land every record.
func TestWriteBehindCloseFlushesAfterPostgresRestart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault func(t *testing.T, pg *pgkit.Server)
	}{
		{"restart", func(t *testing.T, pg *pgkit.Server) {
			if err := pg.Stop(); err != nil {
				t.Fatal(err)
			}
			if err := pg.Start(); err != nil {
				t.Fatal(err)
			}
		}},
		{"backends terminated", func(t *testing.T, pg *pgkit.Server) {
			ctx := ctxT(t)
			conn, err := pgx.Connect(ctx, pg.DSN)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			var n int
			err = conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'`).Scan(&n)
			if err != nil || n == 0 {
				t.Fatalf("terminating the pool's backends: %d, %v", n, err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pg := pgkit.StartServer(t)
			ctx := ctxT(t)
			name := "wbrestart_" + testkit.Suffix()
			ds, err := strata.NewDataStore(strata.Config{PostgresDSN: pg.DSN, WriteBehindFlushInterval: time.Hour, WriteBehindFlushThreshold: 1000,
				L3Pool: strata.L3PoolConfig{MinConns: 4}})
			if err != nil {
				t.Fatal(err)
			}
			defer ds.Close()
			if err := ds.Register(strata.Schema{Name: name, Model: &Score{}, WriteMode: strata.WriteBehind}); err != nil {
				t.Fatal(err)
			}
			if err := ds.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			const n = 100
			for i := range n {
				id := fmt.Sprintf("r%03d", i)
				if err := ds.Set(ctx, name, id, &Score{ID: id, Value: int64(i)}); err != nil {
					t.Fatal(err)
				}
			}
			// Use the pool just before the fault: pgxpool pings a connection
			// idle for over a second before handing it out, so only recently
			// used connections meet the fault as an error.
			if _, err := strata.GetTyped[Score](ctx, ds, name, "absent"); !errors.Is(err, strata.ErrNotFound) {
				t.Fatalf("Get of an absent record: %v", err)
			}
			faultAt := time.Now()
			tc.fault(t, pg)
			t.Logf("fault took %v", time.Since(faultAt).Round(time.Millisecond))
			start := time.Now()
			err = ds.Close()
			t.Logf("Close took %v: %v", time.Since(start).Round(time.Millisecond), err)
			if err != nil {
				t.Errorf("Close after the fault: %v", err)
			}
			conn, err := pgx.Connect(ctx, pg.DSN)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			var got int
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{name}.Sanitize()).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != n {
				t.Errorf("after Close the table holds %d of the %d acknowledged records", got, n)
			}
		})
	}
}

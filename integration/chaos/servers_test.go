package chaos_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/integration/chaos"
	"github.com/AndrewDonelson/strata/testkit"
)

// TestServersFreezeKillRestart proves the suite's process faults on the
// kit's servers: a frozen server answers nothing until thawed; a killed
// PostgreSQL restarts on its data and port with every acknowledged commit;
// a killed Redis restarts empty on its port.
func TestServersFreezeKillRestart(t *testing.T) {
	chaos.SkipUnlessServersWanted(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv := chaos.StartServersFor(t, ctx)

	conn, err := pgx.Connect(ctx, srv.PGDSN())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE t (n int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	// Freeze PostgreSQL: a new connection waits until the thaw.
	if err := srv.PG.Freeze(); err != nil {
		t.Fatal(err)
	}
	qctx, qcancel := context.WithTimeout(ctx, 500*time.Millisecond)
	if c, err := pgx.Connect(qctx, srv.PGDSN()); err == nil {
		c.Close(ctx)
		t.Error("connected to a frozen PostgreSQL")
	}
	qcancel()
	if err := srv.PG.Thaw(); err != nil {
		t.Fatal(err)
	}

	// Kill it mid-life and restart it on the same data and port.
	addr := srv.PGAddr()
	if err := srv.RestartPG(ctx); err != nil {
		t.Fatal(err)
	}
	if srv.PGAddr() != addr {
		t.Fatalf("PostgreSQL restarted at %s, want %s", srv.PGAddr(), addr)
	}
	conn, err = pgx.Connect(ctx, srv.PGDSN())
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT n FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after kill and restart: n = %d, %v; want the committed row", n, err)
	}
	conn.Close(ctx)

	// Redis: frozen, then killed and restarted empty on its port.
	c := srv.RedisClient()
	defer c.Close()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Redis.Freeze(); err != nil {
		t.Fatal(err)
	}
	pctx, pcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	if err := c.Get(pctx, "k").Err(); err == nil {
		t.Error("a frozen Redis answered")
	}
	pcancel()
	if err := srv.Redis.Thaw(); err != nil {
		t.Fatal(err)
	}
	if err := srv.RestartRedis(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Fatalf("after restart: EXISTS k = %d, %v; want an empty Redis", n, err)
	}
}

// TestPostgresPauseAndKillReachTheBackends: PostgreSQL's backends leave the
// postmaster's process group (setsid), so the pg-pause and pg-restart
// faults must reach them one by one — which the kit's PGCluster does. A
// connection opened before the freeze gets no answer until the thaw; after
// the kill its backend is gone, and the restart succeeds at once (a
// surviving backend holds the shared memory, and the next postmaster
// refuses to start: "pre-existing shared memory block is still in use").
func TestPostgresPauseAndKillReachTheBackends(t *testing.T) {
	chaos.SkipUnlessServersWanted(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv := chaos.StartServersFor(t, ctx)

	conn, err := pgx.Connect(ctx, srv.PGDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var backend int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		t.Fatal(err)
	}
	postmaster := srv.PG.Running()
	if !slices.Contains(testkit.Descendants(postmaster), backend) {
		t.Fatalf("backend %d is not below postmaster %d", backend, postmaster)
	}

	if err := srv.PG.Freeze(); err != nil {
		t.Fatal(err)
	}
	qctx, qcancel := context.WithTimeout(ctx, 500*time.Millisecond)
	_, qerr := conn.Exec(qctx, "SELECT 1")
	qcancel()
	if err := srv.PG.Thaw(); err != nil {
		t.Fatal(err)
	}
	if qerr == nil {
		t.Error("the backend of a connection opened before the freeze answered while PostgreSQL was frozen")
	}

	if err := srv.PG.Kill(); err != nil {
		t.Fatal(err)
	}
	if testkit.Alive(backend) {
		t.Errorf("backend %d outlived the kill", backend)
	}
	if err := srv.PG.Start(ctx); err != nil {
		t.Fatalf("restart after the kill: %v", err)
	}
}

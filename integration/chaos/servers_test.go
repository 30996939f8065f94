package chaos_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/integration/chaos"
)

// TestServersFreezeKillRestart proves the launchers' process faults: a
// frozen server answers nothing until thawed; a killed PostgreSQL restarts
// on its data with every acknowledged commit; a killed Redis restarts empty.
func TestServersFreezeKillRestart(t *testing.T) {
	chaos.SkipUnlessServersWanted(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	pg, err := chaos.StartPostgres(ctx)
	if errors.Is(err, chaos.ErrNoServerBinaries) {
		chaos.SkipOrFail(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Cleanup()
	rd, err := chaos.StartRedis(ctx)
	if errors.Is(err, chaos.ErrNoServerBinaries) {
		chaos.SkipOrFail(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Cleanup()

	conn, err := pgx.Connect(ctx, pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE t (n int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	// Freeze PostgreSQL: a query waits until the thaw.
	if err := pg.Pause(); err != nil {
		t.Fatal(err)
	}
	qctx, qcancel := context.WithTimeout(ctx, 500*time.Millisecond)
	if c, err := pgx.Connect(qctx, pg.DSN()); err == nil {
		c.Close(ctx)
		t.Error("connected to a frozen PostgreSQL")
	}
	qcancel()
	if err := pg.Resume(); err != nil {
		t.Fatal(err)
	}

	// Kill it mid-life and restart it on the same data and port.
	if err := pg.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := pg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err = pgx.Connect(ctx, pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT n FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after kill and restart: n = %d, %v; want the committed row", n, err)
	}
	conn.Close(ctx)

	// Redis: frozen, then killed and restarted empty.
	c := rd.Client()
	defer c.Close()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rd.Pause(); err != nil {
		t.Fatal(err)
	}
	pctx, pcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	if err := c.Get(pctx, "k").Err(); err == nil {
		t.Error("a frozen Redis answered")
	}
	pcancel()
	if err := rd.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := rd.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := rd.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Fatalf("after restart: EXISTS k = %d, %v; want an empty Redis", n, err)
	}
}

// TestPostgresPauseAndKillReachTheBackends: PostgreSQL's backends leave the
// postmaster's process group (setsid), so Pause and Kill must reach them
// one by one. A connection opened before Pause gets no answer until Resume;
// after Kill its backend is gone, and Start succeeds at once (a surviving
// backend holds the shared memory, and the next postmaster refuses to
// start: "pre-existing shared memory block is still in use").
func TestPostgresPauseAndKillReachTheBackends(t *testing.T) {
	chaos.SkipUnlessServersWanted(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pg, err := chaos.StartPostgres(ctx)
	if errors.Is(err, chaos.ErrNoServerBinaries) {
		chaos.SkipOrFail(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Cleanup()

	conn, err := pgx.Connect(ctx, pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var backend int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		t.Fatal(err)
	}

	if err := pg.Pause(); err != nil {
		t.Fatal(err)
	}
	qctx, qcancel := context.WithTimeout(ctx, 500*time.Millisecond)
	_, qerr := conn.Exec(qctx, "SELECT 1")
	qcancel()
	if err := pg.Resume(); err != nil {
		t.Fatal(err)
	}
	if qerr == nil {
		t.Error("the backend of a connection opened before Pause answered while PostgreSQL was paused")
	}

	if err := pg.Kill(); err != nil {
		t.Fatal(err)
	}
	if processAlive(backend) {
		t.Errorf("backend %d outlived Kill", backend)
	}
	if err := pg.Start(ctx); err != nil {
		t.Fatalf("restart after Kill: %v", err)
	}
}

// processAlive reports whether pid runs (a zombie does not).
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] != 'Z'
}

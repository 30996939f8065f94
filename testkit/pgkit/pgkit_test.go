package pgkit_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/testkit"
	"github.com/AndrewDonelson/strata/testkit/pgkit"
)

func TestLeaked(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_000_000, 0)
	old := strconv.FormatInt(now.Add(-pgkit.LeakAge-time.Second).Unix(), 10)
	fresh := strconv.FormatInt(now.Add(-time.Second).Unix(), 10)
	for name, want := range map[string]bool{
		pgkit.SlotPrefix + old + "_abc":          true,
		pgkit.SlotPrefix + "pub_" + old + "_abc": true,
		pgkit.SlotPrefix + fresh + "_abc":        false,
		"other_" + old + "_abc":                  false,
		pgkit.SlotPrefix + "x_abc":               false,
		pgkit.SlotPrefix + old:                   false,
	} {
		if got := pgkit.Leaked(name, now); got != want {
			t.Errorf("Leaked(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestServerStopsAndStartsAgain starts a server of the test's own, writes,
// stops it (a client then fails), starts it again on the same port and
// reads back.
func TestServerStopsAndStartsAgain(t *testing.T) {
	t.Parallel()
	s := pgkit.StartServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	exec := func(sql string) error {
		conn, err := pgx.Connect(ctx, s.DSN)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE TABLE t (n int); INSERT INTO t VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := exec("SELECT 1"); err == nil {
		t.Fatal("a stopped server answered")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, s.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(ctx, "SELECT n FROM t").Scan(&n); err != nil || n != 7 {
		t.Fatalf("after restart: n = %d, %v; want 7", n, err)
	}
}

func TestSchemaAndPool(t *testing.T) {
	t.Parallel()
	schema := pgkit.Schema(t, "kit_")
	pool := pgkit.Pool(t, 2, schema)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := pool.Exec(ctx, "CREATE TABLE here (n int)"); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := pool.QueryRow(ctx, "SELECT table_schema FROM information_schema.tables WHERE table_name = 'here' AND table_schema = $1", schema).Scan(&got); err != nil {
		t.Fatalf("the unqualified table is not in %s: %v", schema, err)
	}
}

// TestServerFreezeAndKillReachTheBackends: PostgreSQL's backends leave the
// postmaster's process group (setsid), so Freeze and Kill must reach them
// one by one. A connection opened before Freeze gets no answer until Thaw;
// after Kill its backend is gone, and Start brings the server back on the
// same port and data directory with the committed row (a surviving backend
// would hold the shared memory, and the next postmaster would refuse to
// start: "pre-existing shared memory block is still in use").
func TestServerFreezeAndKillReachTheBackends(t *testing.T) {
	t.Parallel()
	s := pgkit.StartServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var backend int
	if _, err := conn.Exec(ctx, "CREATE TABLE t (n int); INSERT INTO t VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		t.Fatal(err)
	}
	postmaster := s.Cluster().Running()
	if postmaster == 0 || !slices.Contains(testkit.Descendants(postmaster), backend) {
		t.Fatalf("backend %d is not below postmaster %d", backend, postmaster)
	}

	if err := s.Freeze(); err != nil {
		t.Fatal(err)
	}
	testkit.WaitUntil(t, 10*time.Second, fmt.Sprintf("backend %d to be stopped by Freeze", backend),
		func() bool { return testkit.State(backend) == 'T' })
	qctx, qcancel := context.WithTimeout(ctx, 500*time.Millisecond)
	_, qerr := conn.Exec(qctx, "SELECT 1")
	qcancel()
	if err := s.Thaw(); err != nil {
		t.Fatal(err)
	}
	if qerr == nil {
		t.Error("the backend of a connection opened before Freeze answered while the server was frozen")
	}

	dsn := s.DSN
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if testkit.Alive(backend) || testkit.Alive(postmaster) {
		t.Errorf("after Kill: backend %d alive %v, postmaster %d alive %v; want both gone",
			backend, testkit.Alive(backend), postmaster, testkit.Alive(postmaster))
	}
	if err := s.Freeze(); !errors.Is(err, testkit.ErrNotRunning) {
		t.Errorf("Freeze of a killed server: %v, want ErrNotRunning", err)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("restart after Kill: %v", err)
	}
	if s.DSN != dsn {
		t.Errorf("restarted at %s, want the same address %s", s.DSN, dsn)
	}
	c2, err := pgx.Connect(ctx, s.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close(context.Background())
	var n int
	if err := c2.QueryRow(ctx, "SELECT n FROM t").Scan(&n); err != nil || n != 7 {
		t.Fatalf("after kill and restart: n = %d, %v; want the committed 7", n, err)
	}
}

package pgkit_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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

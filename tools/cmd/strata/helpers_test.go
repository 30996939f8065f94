package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/AndrewDonelson/strata/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// servers returns the devstack's PostgreSQL DSN and Redis address. Unset,
// the test skips with how to start them, or fails under
// STRATA_REQUIRE_SERVERS=1 (make test): the kit's contract.
func servers(t *testing.T) (dsn, addr string) {
	t.Helper()
	return testkit.PostgresDSN(t), testkit.RedisAddr(t)
}

// suffix is a random name part, so parallel tests never share a table,
// key prefix, channel or slot.
func suffix() string { return testkit.Suffix() }

// pgSchema creates a PostgreSQL schema of the test's own, dropped at the
// end, and returns a DSN whose search_path starts with it, a connection,
// and the schema's name.
func pgSchema(t *testing.T, dsn string) (schemaDSN string, conn *pgx.Conn, name string) {
	t.Helper()
	ctx := ctxT(t)
	name = "cli_" + suffix()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{name}.Sanitize()+" CASCADE")
		conn.Close(ctx)
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + name, conn, name
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// result is one run of the command.
type result struct {
	out, err string
	code     int
}

// cli runs the command in-process with env as its whole environment.
func cli(t *testing.T, env map[string]string, argv ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(ctxT(t), argv, func(k string) string { return env[k] }, &out, &errb)
	return result{out: out.String(), err: errb.String(), code: code}
}

// stack is the environment naming the servers.
func stack(dsn, addr string) map[string]string {
	return map[string]string{envPostgresDSN: dsn, envRedisAddr: addr}
}

// eventually polls cond every 20 ms until it is true or the deadline.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package l3postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/AndrewDonelson/strata/l3postgres/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestReadReplica runs against a real streaming replica of the test
// primary: writes go to the primary, Query and Count to the replica, and a
// replica that goes down makes reads fall back to the primary with a
// logged warning.
func TestReadReplica(t *testing.T) {
	primaryDSN := pgtest.DSN(t)
	replica := pgtest.StartReplica(t, primaryDSN)
	ctx := testCtx(t)

	primary := pgtest.Pool(t)
	schema := pgtest.Schema(t, primary)
	if _, err := primary.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (id TEXT PRIMARY KEY, v BIGINT NOT NULL)",
		pgx.Identifier{schema, "kv"}.Sanitize())); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	db, err := l3postgres.New(primary, &l3postgres.Options{
		ReplicaDSN:           replica.DSN,
		MinConns:             1,
		ReplicaRetryInterval: time.Hour,
		Logger:               slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	kv, err := db.Table(l3postgres.TableDef{Schema: schema, Name: "kv", Columns: l3postgres.Columns("id", "v"), PrimaryKey: "id"})
	if err != nil {
		t.Fatal(err)
	}

	// Writes succeed, so they went to the primary (the replica is read-only).
	if err := kv.Upsert(ctx, "a", int64(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.UpsertMany(ctx, [][]any{{"b", int64(2)}, {"c", int64(3)}}); err != nil {
		t.Fatal(err)
	}

	// Query and Count are served by a server in recovery: the replica.
	// The projection trick: a WHERE that calls pg_is_in_recovery() only
	// matches rows on a standby.
	waitFor(t, func() bool {
		n, err := kv.Count(ctx, "pg_is_in_recovery()")
		return err == nil && n == 3
	}, "rows replicated and counted on the standby")
	rows, err := kv.Query(ctx, l3postgres.Query{Where: "pg_is_in_recovery()", OrderBy: []l3postgres.Order{{Column: "id"}}})
	got := collectIDs(t, rows, err)
	if strings.Join(got, ",") != "a,b,c" {
		t.Fatalf("Query on the replica returned %v", got)
	}
	// GetByID and Exists go to the primary: they feed cache fills.
	var id string
	var v int64
	if err := kv.Upsert(ctx, "d", int64(4)); err != nil {
		t.Fatal(err)
	}
	if err := kv.GetByID(ctx, "d", &id, &v); err != nil || v != 4 {
		t.Fatalf("GetByID right after the write = %d, %v", v, err)
	}
	if n, err := kv.Count(ctx, "NOT pg_is_in_recovery()"); err != nil || n != 0 {
		t.Fatalf("Count ran on the primary: %d, %v", n, err)
	}
	if strings.Contains(logs.String(), "WARN") {
		t.Fatalf("unexpected warning: %s", logs)
	}

	// Replica down: reads fall back to the primary, with a warning.
	replica.Stop(t)
	n, err := kv.Count(ctx, "NOT pg_is_in_recovery()")
	if err != nil || n != 4 {
		t.Fatalf("Count with the replica down = %d, %v (want 4 rows counted on the primary)", n, err)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "read replica unavailable") {
		t.Fatalf("no warning logged: %q", logs)
	}
	rows, err = kv.Query(ctx, l3postgres.Query{Where: "NOT pg_is_in_recovery()"})
	if got := collectIDs(t, rows, err); len(got) != 4 {
		t.Fatalf("Query with the replica down returned %v", got)
	}
	t.Logf("fallback warning: %s", strings.TrimSpace(logs.String()))

	// A replica that refuses connections from the start falls back too.
	logs2 := &syncBuffer{}
	db2, err := l3postgres.New(primary, &l3postgres.Options{
		ReplicaDSN: replica.DSN, MinConns: 1, Logger: slog.New(slog.NewTextHandler(logs2, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	kv2, err := db2.Table(kv.Def())
	if err != nil {
		t.Fatal(err)
	}
	if n, err := kv2.Count(ctx, ""); err != nil || n != 4 {
		t.Fatalf("Count with a refusing replica = %d, %v", n, err)
	}
	if !strings.Contains(logs2.String(), "connect") {
		t.Fatalf("no connection warning logged: %q", logs2)
	}
	t.Logf("refused-replica warning: %s", strings.TrimSpace(logs2.String()))
}

func collectIDs(t *testing.T, rows *l3postgres.Rows, err error) []string {
	t.Helper()
	return collect(t, rows, err, func(r *l3postgres.Rows) (string, error) {
		vals, err := r.Values()
		if err != nil {
			return "", err
		}
		return vals[0].(string), nil
	})
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for !cond() {
		if ctx.Err() != nil {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestWithReplicaSharesThePrimaryPool: a DB made by WithReplica uses the
// primary pool it was made from and closes only its replica pool.
func TestWithReplicaSharesThePrimaryPool(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	ctx := testCtx(t)
	db, err := l3postgres.Open(ctx, dsn, &l3postgres.Options{MinConns: 1, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := db.WithReplica(dsn) // the primary stands in for a replica
	if err != nil {
		t.Fatal(err)
	}
	if r.Pool() != db.Pool() {
		t.Fatal("WithReplica opened another primary pool")
	}
	if r.ReplicaPool() == nil || r.ReplicaPool() == db.Pool() {
		t.Fatal("WithReplica has no replica pool of its own")
	}
	if got := r.ReplicaPool().Config().MaxConns; got != 2 {
		t.Errorf("replica pool MaxConns = %d, want the primary's options (2)", got)
	}
	if err := r.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("closing the replica DB closed the primary: %v", err)
	}
	if _, err := db.WithReplica(""); !errors.Is(err, l3postgres.ErrInvalidOptions) {
		t.Errorf("WithReplica(\"\") = %v, want ErrInvalidOptions", err)
	}
	db.Close()
	if _, err := db.WithReplica(dsn); !errors.Is(err, l3postgres.ErrClosed) {
		t.Errorf("WithReplica after Close = %v, want ErrClosed", err)
	}
}

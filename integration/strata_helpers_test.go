package integration_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// The cross-tier suites drive Strata through its exported API only, on
// real servers: the devstack's (or dockertest's) through the harness, and
// servers of a test's own from the kit (testkit/pgkit, testkit/rediskit)
// for the suites that stop, kill or replicate them.

// Score is the suites' small record.
type Score struct {
	ID    string `strata:"primary_key"`
	Value int64
	Round int64
}

// open returns a DataStore on cfg with s registered and migrated, closed
// when the test ends.
func open(t *testing.T, cfg strata.Config, s strata.Schema) *strata.DataStore {
	t.Helper()
	ds, err := strata.NewDataStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	if err := ds.Register(s); err != nil {
		t.Fatal(err)
	}
	return ds
}

// migrate runs ds.Migrate and drops the schemas' tables on dsn when the
// test ends.
func migrate(t *testing.T, ds *strata.DataStore, dsn string, tables ...string) {
	t.Helper()
	if err := ds.Migrate(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return // a server of the test's own is already gone
		}
		defer conn.Close(context.Background())
		for _, table := range tables {
			_, _ = conn.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{table}.Sanitize())
		}
	})
}

// pgConn returns a connection to dsn of the test's own, for changes made
// behind Strata's back, closed when the test ends.
func pgConn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctxT(t), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// pgTable returns a connection to dsn of the test's own and drops table
// when the test ends.
func pgTable(t *testing.T, dsn, table string) *pgx.Conn {
	t.Helper()
	conn := pgConn(t, dsn)
	t.Cleanup(func() { // runs before pgConn's close
		_, _ = conn.Exec(context.Background(), "DROP TABLE IF EXISTS "+pgx.Identifier{table}.Sanitize())
	})
	return conn
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond every 10 ms until it holds, failing t after limit.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// filled reports whether key holds a cached record rather than nothing or a
// fill lease's short-lived marker (records carry the schema's L2 TTL,
// markers the 10 s lease TTL).
func filled(ctx context.Context, rdb redis.UniversalClient, key string) bool {
	ttl, err := rdb.TTL(ctx, key).Result()
	return err == nil && ttl > time.Minute
}

// tierCounter is a MetricsRecorder counting which tier served each read,
// so a suite can tell an L1 hit from a read that went further without
// looking inside the DataStore.
type tierCounter struct {
	metrics.Noop
	mu   sync.Mutex
	hits map[string]int
}

func (c *tierCounter) Hit(_, tier string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hits == nil {
		c.hits = map[string]int{}
	}
	c.hits[tier]++
}

func (c *tierCounter) count(tier string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits[tier]
}

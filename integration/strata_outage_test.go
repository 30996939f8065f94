package integration_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/integration/harness"
	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/testkit"
	"github.com/AndrewDonelson/strata/testkit/pgkit"
	"github.com/AndrewDonelson/strata/testkit/rediskit"
)

// TestWriteBehindSurvivesPostgresOutage: 10,000 Sets over 2,000 keys, with
// PostgreSQL (a server of the test's own) stopped in the middle. Reads
// always see the newest value; retries run out and are reported, but
// nothing is dropped; after the restart FlushDirty lands every key's last
// value in L3. (It slept 30 s for the retries to run out; it now waits for
// the first report, polling with a deadline.)
func TestWriteBehindSurvivesPostgresOutage(t *testing.T) {
	t.Parallel()
	pg := pgkit.StartServer(t)
	addr := harness.RedisAddr(t)
	ctx := ctxT(t)
	name := "wb_" + testkit.Suffix()
	var reported atomic.Int64
	ds := open(t, strata.Config{
		PostgresDSN: pg.DSN, RedisAddr: addr, InvalidationChannel: "strata:it:" + name,
		WriteBehindFlushInterval: 50 * time.Millisecond, WriteBehindMaxRetry: 3,
	}, strata.Schema{Name: name, Model: &Score{}, WriteMode: strata.WriteBehind,
		Hooks: strata.SchemaHooks{OnWriteError: func(_ context.Context, _ string, err error) {
			if errors.Is(err, strata.ErrWriteBehindMaxRetry) {
				reported.Add(1)
			}
		}}})
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const writes, keys = 10_000, 2_000
	for i := range writes {
		if i == writes/2 {
			if err := pg.Stop(); err != nil {
				t.Fatal(err)
			}
		}
		id := fmt.Sprintf("k%04d", i%keys)
		if err := ds.Set(ctx, name, id, &Score{ID: id, Value: int64(i), Round: int64(i / keys)}); err != nil {
			t.Fatalf("Set %d: %v", i, err)
		}
	}
	// Reads see the newest pending value while PostgreSQL is down.
	if s, err := strata.GetTyped[Score](ctx, ds, name, "k0007"); err != nil || s.Value != writes-keys+7 {
		t.Errorf("Get during the outage = %+v, %v", s, err)
	}
	if n := ds.Stats().DirtyCount; n != keys {
		t.Errorf("DirtyCount during the outage = %d, want %d (coalesced per key)", n, keys)
	}
	waitFor(t, "an entry reported to OnWriteError after its retries ran out", time.Minute,
		func() bool { return reported.Load() > 0 })
	down, cancel := context.WithTimeout(ctx, time.Second) // it retries until its context ends
	defer cancel()
	if err := ds.FlushDirty(down); err == nil {
		t.Error("FlushDirty with PostgreSQL down returned no error")
	}
	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	if err := ds.FlushDirty(ctx); err != nil {
		t.Fatalf("FlushDirty after the restart: %v", err)
	}
	if n := ds.Stats().DirtyCount; n != 0 {
		t.Errorf("DirtyCount after FlushDirty = %d", n)
	}
	conn, err := pgx.Connect(ctx, pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, "SELECT id, value FROM "+pgx.Identifier{name}.Sanitize())
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct {
		id string
		v  int64
	}, error) {
		var x struct {
			id string
			v  int64
		}
		err := r.Scan(&x.id, &x.v)
		return x, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != keys {
		t.Fatalf("L3 holds %d keys, want %d", len(got), keys)
	}
	for _, r := range got {
		var k int
		if _, err := fmt.Sscanf(r.id, "k%04d", &k); err != nil {
			t.Fatalf("unexpected id %q", r.id)
		}
		if want := int64(writes - keys + k); r.v != want {
			t.Fatalf("L3 %s = %d, want its last written value %d", r.id, r.v, want)
		}
	}
}

// TestRedisOutageTwoInstances: instance B serves v1 from L1; Redis (a
// server of the test's own) is killed; instance A writes v2, whose
// invalidation cannot reach B. B must stop serving its L1 and read v2 from
// PostgreSQL during the outage, and after Redis returns it serves from L1
// again — the new value.
func TestRedisOutageTwoInstances(t *testing.T) {
	t.Parallel()
	dsn := harness.PostgresDSN(t)
	srv := rediskit.StartServer(t)
	ctx := ctxT(t)
	name := "outage_" + testkit.Suffix()
	cfg := strata.Config{
		PostgresDSN: dsn, RedisAddr: srv.Addr, InvalidationChannel: "strata:it:" + name,
		InvalidationHealthCheck: 200 * time.Millisecond,
		L2Pool:                  strata.L2PoolConfig{DialTimeout: 100 * time.Millisecond, ReadTimeout: 100 * time.Millisecond, WriteTimeout: 100 * time.Millisecond},
	}
	schema := strata.Schema{Name: name, Model: &Score{}}
	a := open(t, cfg, schema)
	migrate(t, a, dsn, name)
	var bHits tierCounter
	bcfg := cfg
	bcfg.Metrics = &bHits
	b := open(t, bcfg, schema)

	if err := a.Set(ctx, name, "k", &Score{ID: "k", Value: 1}); err != nil {
		t.Fatal(err)
	}
	servedFromL1(t, ctx, b, &bHits, name, "k", 1)

	srv.Kill()
	if err := a.Set(ctx, name, "k", &Score{ID: "k", Value: 2}); err != nil {
		t.Fatalf("A's Set with Redis down: %v (PostgreSQL is up, so it must succeed)", err)
	}
	written := time.Now()
	// B learns of the outage at once (its subscription's connection is
	// reset); a loaded machine gets a second of slack.
	var lastOld time.Time
	waitFor(t, "B to read v2 while Redis is down", 10*time.Second, func() bool {
		start := time.Now()
		got, err := strata.GetTyped[Score](ctx, b, name, "k")
		if err == nil && got.Value == 1 {
			lastOld = start
		}
		return err == nil && got.Value == 2
	})
	if d := lastOld.Sub(written); d > time.Second {
		t.Errorf("B served v1 from a read that began %v after A's write returned, with Redis down", d.Round(time.Millisecond))
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	servedFromL1(t, ctx, b, &bHits, name, "k", 2)
}

// servedFromL1 reads id from ds until the read is an L1 hit of want (L1
// serves only while the invalidation bus is live, so this also waits for
// the subscription).
func servedFromL1(t *testing.T, ctx context.Context, ds *strata.DataStore, hits *tierCounter, schema, id string, want int64) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s to be served from L1 with value %d", id, want), 15*time.Second, func() bool {
		before := hits.count("l1")
		got, err := strata.GetTyped[Score](ctx, ds, schema, id)
		if err != nil {
			t.Fatalf("Get %s: %v", id, err)
		}
		if got.Value != want {
			t.Fatalf("Get %s = %d, want %d", id, got.Value, want)
		}
		return hits.count("l1") > before
	})
}

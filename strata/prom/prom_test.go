package strataprom_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
	strataprom "github.com/AndrewDonelson/strata/strata/prom"
)

func TestMain(m *testing.M) {
	redis.SetLogger(quiet{})
	goleak.VerifyTestMain(m)
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// Item is the model of the tests' schemas.
type Item struct {
	ID    string `strata:"primary_key"`
	Name  string
	Score int64
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fixture is a DataStore with a Recorder on the test servers.
type fixture struct {
	ds      *strata.DataStore
	reg     *prometheus.Registry
	rec     *strataprom.Recorder
	schema  string // write-through
	wb      string // write-behind
	channel string
	rdb     *redis.Client
}

// open returns a DataStore on dsn and addr with cfg, both schemas
// registered, closed when the test ends.
func open(t *testing.T, cfg strata.Config, schema, wb string, leaseWait time.Duration) *strata.DataStore {
	t.Helper()
	ds, err := strata.NewDataStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	if err := ds.Register(strata.Schema{Name: schema, Model: &Item{}, L2: strata.RedisPolicy{LeaseWait: leaseWait}}); err != nil {
		t.Fatal(err)
	}
	if err := ds.Register(strata.Schema{Name: wb, Model: &Item{}, WriteMode: strata.WriteBehind}); err != nil {
		t.Fatal(err)
	}
	return ds
}

// waitSubscribed waits until the bus of the DataStore reg's Recorder
// records has subscribed (L1 serves nothing before).
func waitSubscribed(t *testing.T, reg prometheus.Gatherer) {
	t.Helper()
	waitFor(t, "the invalidation bus to subscribe", func() bool {
		return value(t, reg, "strata_resubscribe_flushes_total", map[string]string{"reason": "subscribed"}) == 1
	})
}

func newFixture(t *testing.T, redisAddr string) *fixture {
	t.Helper()
	dsn := testenv.PostgresDSN(t)
	sfx := testenv.Suffix()
	f := &fixture{schema: "prom_" + sfx, wb: "promwb_" + sfx, channel: "strata:test:" + sfx, reg: prometheus.NewRegistry()}
	var err error
	if f.rec, err = strataprom.New(f.reg, nil); err != nil {
		t.Fatal(err)
	}
	f.ds = open(t, strata.Config{
		PostgresDSN: dsn, RedisAddr: redisAddr, InvalidationChannel: f.channel, Metrics: f.rec,
		WriteBehindFlushInterval: time.Hour, // the backlog stays until Close
	}, f.schema, f.wb, 300*time.Millisecond)
	if err := f.rec.Watch(f.ds); err != nil {
		t.Fatal(err)
	}
	waitSubscribed(t, f.reg)
	if err := f.ds.Migrate(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	f.rdb = redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() {
		ctx := context.Background()
		if conn, err := pgx.Connect(ctx, dsn); err == nil {
			for _, table := range []string{f.schema, f.wb} {
				_, _ = conn.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{table}.Sanitize())
			}
			conn.Close(ctx)
		}
		for _, s := range []string{f.schema, f.wb} {
			iter := f.rdb.Scan(ctx, 0, "*"+s+"*", 1000).Iterator()
			for iter.Next(ctx) {
				f.rdb.Del(ctx, iter.Val())
			}
		}
		f.rdb.Close()
	})
	return f
}

// writeUnheard writes rec into schema's table through an instance with
// PostgreSQL only: no cache hears of the write.
func writeUnheard(t *testing.T, schema string, rec *Item) {
	t.Helper()
	ds, err := strata.NewDataStore(strata.Config{PostgresDSN: testenv.PostgresDSN(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	if err := ds.Register(strata.Schema{Name: schema, Model: &Item{}}); err != nil {
		t.Fatal(err)
	}
	if err := ds.Set(ctxT(t), schema, rec.ID, rec); err != nil {
		t.Fatal(err)
	}
}

// value returns the value of the counter or gauge name with labels in reg
// (0 when absent); for a histogram, its sample count.
func value(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, fam := range families {
		if fam.GetName() != name {
			continue
		}
	metric:
		for _, m := range fam.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue metric
				}
			}
			switch fam.GetType() {
			case dto.MetricType_COUNTER:
				return m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				return m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

// waitFor polls until cond holds, failing the test after 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after 20s waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRecorderCountsTiersInvalidationsLeasesSearchCacheAndBacklog drives a
// DataStore through each event on real servers and reads the metrics with
// testutil.
func TestRecorderCountsTiersInvalidationsLeasesSearchCacheAndBacklog(t *testing.T) {
	addr := testenv.RedisAddr(t)
	f := newFixture(t, addr)
	ctx := ctxT(t)
	s := f.schema

	// A write publishes one invalidation and leaves the record in the
	// writer's L1, so reading it back is an L1 hit. A record written where
	// no cache hears of it (an instance without Redis) is cold: its first
	// read misses L1 and Redis and PostgreSQL serves it; the next is an
	// L1 hit.
	if err := f.ds.Set(ctx, s, "i1", &Item{ID: "i1", Name: "one", Score: 1}); err != nil {
		t.Fatal(err)
	}
	writeUnheard(t, s, &Item{ID: "i2", Name: "two", Score: 2})
	for _, id := range []string{"i1", "i2", "i2"} {
		if _, err := strata.GetTyped[Item](ctx, f.ds, s, id); err != nil {
			t.Fatal(err)
		}
	}
	want := fmt.Sprintf(`
# HELP strata_hits_total Reads of a record that a tier served.
# TYPE strata_hits_total counter
strata_hits_total{schema=%[1]q,tier="l1"} 2
strata_hits_total{schema=%[1]q,tier="l2"} 0
strata_hits_total{schema=%[1]q,tier="l3"} 1
# HELP strata_invalidations_sent_total Invalidation messages this instance published.
# TYPE strata_invalidations_sent_total counter
strata_invalidations_sent_total{op="set",schema=%[1]q} 1
# HELP strata_misses_total Reads of a record that a tier did not have.
# TYPE strata_misses_total counter
strata_misses_total{schema=%[1]q,tier="l1"} 1
strata_misses_total{schema=%[1]q,tier="l2"} 1
strata_misses_total{schema=%[1]q,tier="l3"} 0
# HELP strata_resubscribe_flushes_total Flushes of every L1 after the invalidation bus subscribed again, or missed or could not read a message.
# TYPE strata_resubscribe_flushes_total counter
strata_resubscribe_flushes_total{reason="subscribed"} 1
`, s)
	if err := testutil.GatherAndCompare(f.reg, strings.NewReader(want),
		"strata_hits_total", "strata_misses_total", "strata_invalidations_sent_total", "strata_resubscribe_flushes_total"); err != nil {
		t.Fatal(err)
	}
	if n := value(t, f.reg, "strata_tier_duration_seconds", map[string]string{"schema": s, "tier": "l3", "op": "get"}); n != 1 {
		t.Errorf("PostgreSQL get latencies observed = %v, want 1", n)
	}

	// Another instance's write reaches this one as a received invalidation.
	otherReg := prometheus.NewRegistry()
	otherRec, err := strataprom.New(otherReg, nil)
	if err != nil {
		t.Fatal(err)
	}
	other := open(t, strata.Config{PostgresDSN: testenv.PostgresDSN(t), RedisAddr: addr, InvalidationChannel: f.channel, Metrics: otherRec}, s, f.wb, 0)
	waitSubscribed(t, otherReg)
	if err := other.Set(ctx, s, "i2", &Item{ID: "i2", Name: "two", Score: 2}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other instance's invalidation", func() bool {
		return value(t, f.reg, "strata_invalidations_received_total", map[string]string{"schema": s, "op": "set"}) == 1
	})

	// SearchCached: the first call runs the query, the second reads Redis.
	q := strata.Q().Where("score >= $1", 1).OrderBy("score").Build()
	for range 2 {
		var items []Item
		if err := f.ds.SearchCached(ctx, s, &q, &items); err != nil {
			t.Fatal(err)
		}
		if len(items) != 2 {
			t.Fatalf("SearchCached returned %d rows, want 2", len(items))
		}
	}
	if hit, miss := value(t, f.reg, "strata_search_cache_hits_total", map[string]string{"schema": s}),
		value(t, f.reg, "strata_search_cache_misses_total", map[string]string{"schema": s}); hit != 1 || miss != 1 {
		t.Errorf("SearchCached hits, misses = %v, %v; want 1, 1", hit, miss)
	}

	var lessee *l2redis.Store
	// A read that finds another reader's fill lease waits the schema's
	// LeaseWait (300ms), then reads PostgreSQL.
	lessee, err = l2redis.New(f.rdb, nil)
	if err != nil {
		t.Fatal(err)
	}
	writeUnheard(t, s, &Item{ID: "i3", Name: "three"}) // not in this instance's L1
	if _, lease, err := lessee.GetOrLease(ctx, l2redis.Key(s, "i3")); err != nil || !lease.Valid() {
		t.Fatalf("taking the lease of i3: %v", err)
	}
	if _, err := strata.GetTyped[Item](ctx, f.ds, s, "i3"); err != nil {
		t.Fatal(err)
	}
	if n := value(t, f.reg, "strata_lease_waits_total", map[string]string{"schema": s, "outcome": "gave_up"}); n != 1 {
		t.Errorf("lease waits that gave up = %v, want 1", n)
	}
	if n := value(t, f.reg, "strata_lease_wait_seconds", map[string]string{"schema": s}); n != 1 {
		t.Errorf("lease wait durations observed = %v, want 1", n)
	}

	// Write-behind records wait (the flush interval is an hour): the
	// backlog gauges show them, read at scrape time.
	for _, id := range []string{"w1", "w2"} {
		if err := f.ds.Set(ctx, f.wb, id, &Item{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if n := value(t, f.reg, "strata_write_behind_depth", map[string]string{"schema": f.wb}); n != 2 {
		t.Errorf("write-behind depth = %v, want 2", n)
	}
	waitFor(t, "the oldest write-behind record to age", func() bool {
		return value(t, f.reg, "strata_write_behind_oldest_seconds", map[string]string{"schema": f.wb}) > 0
	})
	if err := f.ds.FlushDirty(ctx); err != nil {
		t.Fatal(err)
	}
	if n := value(t, f.reg, "strata_write_behind_depth", map[string]string{"schema": f.wb}); n != 0 {
		t.Errorf("write-behind depth after FlushDirty = %v, want 0", n)
	}
	if n := value(t, f.reg, "strata_l1_entries", nil); n < 1 {
		t.Errorf("l1 entries = %v, want at least 1", n)
	}
	if problems, err := testutil.GatherAndLint(f.reg); err != nil || len(problems) != 0 {
		t.Fatalf("metric lint: %v %+v", err, problems)
	}
}

// TestRecorderSeesBreakerAndResubscribeWhenRedisRestarts: Redis stops, the
// breaker opens (strata_breaker_open 1); it starts again, a probe closes the
// breaker and the bus's resubscription flushes L1.
func TestRecorderSeesBreakerAndResubscribeWhenRedisRestarts(t *testing.T) {
	srv := testenv.StartRedisServer(t)
	f := newFixture(t, srv.Addr)
	ctx := ctxT(t)
	if err := f.ds.Set(ctx, f.schema, "b1", &Item{ID: "b1"}); err != nil {
		t.Fatal(err)
	}
	open := map[string]string{"tier": "l2"}
	srv.Stop()
	waitFor(t, "the breaker to open", func() bool {
		_ = f.ds.Invalidate(ctx, f.schema, "b1") // fails fast once open
		return value(t, f.reg, "strata_breaker_open", open) == 1
	})
	srv.Start()
	waitFor(t, "the breaker to close and the bus to resubscribe", func() bool {
		_, err := strata.GetTyped[Item](ctx, f.ds, f.schema, "b1")
		if err != nil && !errors.Is(err, strata.ErrNotFound) {
			t.Fatal(err)
		}
		return value(t, f.reg, "strata_breaker_open", open) == 0 &&
			value(t, f.reg, "strata_resubscribe_flushes_total", map[string]string{"reason": "resubscribed"}) >= 1
	})
	want := `
# HELP strata_breaker_changes_total Circuit breaker state changes (state open or closed).
# TYPE strata_breaker_changes_total counter
strata_breaker_changes_total{state="closed",tier="l2"} 1
strata_breaker_changes_total{state="open",tier="l2"} 1
`
	if err := testutil.GatherAndCompare(f.reg, bytes.NewBufferString(want), "strata_breaker_changes_total"); err != nil {
		t.Fatal(err)
	}
}

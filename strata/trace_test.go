package strata_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// span is what recordingTracer saw of one operation.
type span struct {
	Op, Schema string
	Tier       string
	Hit        bool
	Rows       int
	Class      string
	LeaseWait  time.Duration
}

// recordingTracer is a Tracer that keeps every span it is given, and marks
// the context it returns so that a test can see the operation ran under it.
type recordingTracer struct {
	mu    sync.Mutex
	spans []span
}

type tracerMark struct{}

func (r *recordingTracer) Start(ctx context.Context, op, schema string) (context.Context, func(strata.OpResult)) {
	return context.WithValue(ctx, tracerMark{}, op), func(res strata.OpResult) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.spans = append(r.spans, span{Op: op, Schema: schema, Tier: res.Tier, Hit: res.Hit, Rows: res.Rows, Class: strata.ErrorClass(res.Err), LeaseWait: res.LeaseWait})
	}
}

// take returns the spans recorded since the last take.
func (r *recordingTracer) take() []span {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.spans
	r.spans = nil
	return out
}

// tracedStore opens a DataStore on the test servers with cfg's Tracer and
// Metrics and one Account schema (with policy l2), migrated; the table and
// keys go when the test ends. It returns the store, the schema's name and
// a Redis client.
func tracedStore(t *testing.T, cfg strata.Config, l2 strata.RedisPolicy) (*strata.DataStore, string, *redis.Client) {
	t.Helper()
	dsn, addr := testenv.PostgresDSN(t), testenv.RedisAddr(t)
	sfx := testenv.Suffix()
	schema := "trace_" + sfx
	cfg.PostgresDSN, cfg.RedisAddr, cfg.EncryptionKey, cfg.InvalidationChannel = dsn, addr, testKey, "strata:test:"+sfx
	ds := openStore(t, cfg, strata.Schema{Name: schema, Model: &Account{}, L2: l2})
	if err := ds.Migrate(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	pgTable(t, dsn, schema)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, "*"+schema+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		rdb.Close()
	})
	return ds, schema, rdb
}

// TestTracerOneSpanPerOperationNamesTheTierThatServed: with Config.Tracer
// set, every call is one span, whose result names the tier that served a
// read (PostgreSQL, then L1; a fresh instance reads Redis), the rows and
// the error class.
func TestTracerOneSpanPerOperationNamesTheTierThatServed(t *testing.T) {
	t.Parallel()
	tr := &recordingTracer{}
	ds, schema, rdb := tracedStore(t, strata.Config{Tracer: tr}, strata.RedisPolicy{})
	ctx := ctxT(t)
	tr.take() // Migrate and the bus's set-up make no spans, but be sure
	if err := ds.Set(ctx, schema, "a1", &Account{ID: "a1", Username: "a1", Score: 5}); err != nil {
		t.Fatal(err)
	}
	if err := ds.Set(ctx, schema, "a2", &Account{ID: "a2", Username: "a2", Score: 6}); err != nil {
		t.Fatal(err)
	}
	ds.DropL1(schema, "a1") // (the writer's own L1 entry, which the Set created)
	var a Account
	if err := ds.Get(ctx, schema, "a1", &a); err != nil { // Redis holds none: a refresh never creates
		t.Fatal(err)
	}
	if _, err := strata.GetTyped[Account](ctx, ds, schema, "a1"); err != nil { // now in L1
		t.Fatal(err)
	}
	if err := ds.Get(ctx, schema, "nobody", &a); !errors.Is(err, strata.ErrNotFound) {
		t.Fatalf("Get of a missing id = %v, want ErrNotFound", err)
	}
	var found []Account
	q := strata.Q().Where("score >= $1", 5).Build()
	if err := ds.Search(ctx, schema, &q, &found); err != nil {
		t.Fatal(err)
	}
	if _, err := ds.Count(ctx, schema, nil); err != nil {
		t.Fatal(err)
	}
	if err := ds.Delete(ctx, schema, "a2"); err != nil {
		t.Fatal(err)
	}
	if err := ds.Tx(ctx).Set(schema, "a3", &Account{ID: "a3", Username: "a3"}).Delete(schema, "a3").Commit(); err != nil {
		t.Fatal(err)
	}
	want := []span{
		{Op: strata.OpSet, Schema: schema, Rows: 1},
		{Op: strata.OpSet, Schema: schema, Rows: 1},
		{Op: strata.OpGet, Schema: schema, Tier: metrics.TierL3, Rows: 1},
		{Op: strata.OpGet, Schema: schema, Tier: metrics.TierL1, Hit: true, Rows: 1},
		{Op: strata.OpGet, Schema: schema, Class: "not_found"},
		{Op: strata.OpSearch, Schema: schema, Rows: 2},
		{Op: strata.OpCount, Schema: schema},
		{Op: strata.OpDelete, Schema: schema, Rows: 1},
		{Op: strata.OpTx, Rows: 2},
	}
	if d := cmp.Diff(want, tr.take()); d != "" {
		t.Fatalf("spans (-want +got):\n%s", d)
	}

	// A second instance has an empty L1: once the first instance's fill of
	// a1 is in Redis (it runs in the background), it reads a1 from Redis.
	deadline := time.Now().Add(20 * time.Second)
	for rdb.Exists(ctx, l2redis.Key(schema, "a1")).Val() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the fill of a1 never reached Redis")
		}
		time.Sleep(10 * time.Millisecond)
	}
	tr2 := &recordingTracer{}
	ds2, err := strata.NewDataStore(strata.Config{PostgresDSN: testenv.PostgresDSN(t), RedisAddr: testenv.RedisAddr(t), EncryptionKey: testKey, Tracer: tr2})
	if err != nil {
		t.Fatal(err)
	}
	defer ds2.Close()
	if err := ds2.Register(strata.Schema{Name: schema, Model: &Account{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := strata.GetTyped[Account](ctx, ds2, schema, "a1"); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]span{{Op: strata.OpGet, Schema: schema, Tier: metrics.TierL2, Hit: true, Rows: 1}}, tr2.take()); d != "" {
		t.Fatalf("second instance's spans (-want +got):\n%s", d)
	}
}

// TestTracerSpanCarriesLeaseWait: a read that finds another reader's fill
// lease on its key waits for the schema's LeaseWait; its span says how
// long, and a LeaseRecorder hears the wait and its outcome.
func TestTracerSpanCarriesLeaseWait(t *testing.T) {
	t.Parallel()
	tr := &recordingTracer{}
	rec := &leaseRecorder{}
	const wait = 300 * time.Millisecond
	ds, schema, rdb := tracedStore(t, strata.Config{Tracer: tr, Metrics: rec}, strata.RedisPolicy{LeaseWait: wait})
	ctx := ctxT(t)
	if err := ds.Set(ctx, schema, "busy", &Account{ID: "busy", Username: "busy"}); err != nil {
		t.Fatal(err)
	}
	ds.DropL1(schema, "busy") // (the writer's own L1 entry)
	// Another reader holds the key's fill lease and never fills.
	other, err := l2redis.New(rdb, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, lease, err := other.GetOrLease(ctx, l2redis.Key(schema, "busy")); err != nil || !lease.Valid() {
		t.Fatalf("taking the lease: %v (valid %v)", err, lease.Valid())
	}
	tr.take()
	if _, err := strata.GetTyped[Account](ctx, ds, schema, "busy"); err != nil {
		t.Fatal(err)
	}
	spans := tr.take()
	if len(spans) != 1 || spans[0].Tier != metrics.TierL3 || spans[0].LeaseWait < wait {
		t.Fatalf("spans = %+v, want one Get served by l3 after a lease wait of at least %v", spans, wait)
	}
	if d := cmp.Diff([]string{metrics.LeaseGaveUp}, rec.outcomes()); d != "" {
		t.Fatalf("lease wait outcomes (-want +got):\n%s", d)
	}
}

type leaseRecorder struct {
	metrics.Noop
	mu   sync.Mutex
	seen []string
}

func (r *leaseRecorder) LeaseWait(schema string, d time.Duration, outcome string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, outcome)
}

func (r *leaseRecorder) outcomes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// TestErrorClassNamesTheSentinel: ErrorClass maps the sentinels, wrapped
// as the DataStore wraps them, to their fixed labels.
func TestErrorClassNamesTheSentinel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{strata.ErrNotFound, "not_found"},
		{errors.Join(strata.ErrOutcomeUnknown, context.DeadlineExceeded), "outcome_unknown"},
		{context.DeadlineExceeded, "timeout"},
		{strata.ErrL2Unavailable, "l2_unavailable"},
		{strata.ErrInvalidQuery, "invalid"},
		{strata.ErrConflict, "conflict"},
		{pgx.ErrNoRows, "other"},
	}
	for _, tt := range tests {
		if got := strata.ErrorClass(tt.err); got != tt.want {
			t.Errorf("ErrorClass(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

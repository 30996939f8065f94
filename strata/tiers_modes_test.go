package strata_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/clock"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

type Session struct {
	ID     string `strata:"primary_key"`
	UserID string
	Data   map[string]string
}

// A schema that opts out of L3 lives in Redis: keys without TTL, visible to
// every instance, and Search/Count need L3.
func TestRedisOnlySchema(t *testing.T) {
	t.Parallel()
	addr := testenv.RedisAddr(t)
	ctx := ctxT(t)
	name := "sess_" + testenv.Suffix()
	open := func() *strata.DataStore {
		ds := openStore(t, strata.Config{RedisAddr: addr, PostgresDSN: testenv.PostgresDSN(t), InvalidationChannel: "strata:test:" + name}, strata.Schema{Name: name, Model: &Session{}, L3: strata.PostgresPolicy{Disabled: true}})
		return ds
	}
	a, b := open(), open()
	if err := a.Set(ctx, name, "s1", &Session{ID: "s1", UserID: "u1", Data: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	defer rdb.Del(context.Background(), "strata:"+name+":s1")
	if ttl, err := rdb.TTL(ctx, "strata:"+name+":s1").Result(); err != nil || ttl != -1 {
		t.Errorf("TTL of a Redis-only record = %v, %v; want none (-1)", ttl, err)
	}
	got, err := strata.GetTyped[Session](ctx, b, name, "s1")
	if err != nil || got.UserID != "u1" || got.Data["k"] != "v" {
		t.Errorf("other instance Get = %+v, %v", got, err)
	}
	if err := a.Delete(ctx, name, "s1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to drop s1", func() bool { return !b.L1Has(name, "s1") })
	if _, err := strata.GetTyped[Session](ctx, b, name, "s1"); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
	if _, err := a.Count(ctx, name, nil); !errors.Is(err, strata.ErrL3Unavailable) {
		t.Errorf("Count on a Redis-only schema: %v", err)
	}
}

// PostgreSQL without Redis: the tiers are L1 and L3.
func TestPostgresOnlyStore(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	ctx := ctxT(t)
	name := "pgonly_" + testenv.Suffix()
	ds := openStore(t, strata.Config{PostgresDSN: dsn}, strata.Schema{Name: name, Model: &Account{}, WriteMode: strata.WriteThroughL1Async})
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	pgTable(t, dsn, name)

	if err := ds.Set(ctx, name, "a", &Account{ID: "a", Username: "a"}); err != nil {
		t.Fatal(err)
	}
	if ds.L1Has(name, "a") {
		t.Error("WriteThroughL1Async filled L1 on write")
	}
	if got, err := strata.GetTyped[Account](ctx, ds, name, "a"); err != nil || got.Username != "a" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if !ds.L1Has(name, "a") {
		t.Error("the read did not fill L1")
	}
	if n, err := ds.Count(ctx, name, nil); err != nil || n != 1 {
		t.Errorf("Count = %d, %v", n, err)
	}
}

// recorder counts hits per tier.
type recorder struct {
	mu     sync.Mutex
	hits   map[string]int
	misses map[string]int
}

func (r *recorder) Hit(_, tier string) { r.mu.Lock(); r.hits[tier]++; r.mu.Unlock() }
func (r *recorder) Miss(_, tier string) {
	r.mu.Lock()
	if r.misses == nil {
		r.misses = map[string]int{}
	}
	r.misses[tier]++
	r.mu.Unlock()
}
func (r *recorder) Latency(string, string, string, time.Duration) {}
func (r *recorder) Error(string, string, string)                  {}

func TestMetricsPerTier(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	rec := &recorder{hits: map[string]int{}}
	ds := openStore(t, strata.Config{PostgresDSN: tt.dsn, RedisAddr: tt.addr, EncryptionKey: testKey, InvalidationChannel: tt.channel, Metrics: rec}, strata.Schema{Name: tt.schema, Model: &Account{}})
	if err := tt.ds.Set(ctx, tt.schema, "m", &Account{ID: "m", Username: "m"}); err != nil {
		t.Fatal(err)
	}
	tt.rdb.Del(ctx, "strata:"+tt.schema+":m")
	for range 3 { // L3, then L1, L1
		if _, err := strata.GetTyped[Account](ctx, ds, tt.schema, "m"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the background L2 fill", func() bool { return filled(ctx, tt.rdb, "strata:"+tt.schema+":m") })
	ds.DropL1(tt.schema, "m")
	if _, err := strata.GetTyped[Account](ctx, ds, tt.schema, "m"); err != nil { // L2
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.hits["l3"] != 1 || rec.hits["l2"] != 1 || rec.hits["l1"] < 2 {
		t.Errorf("hits per tier = %v, want l3:1 l2:1 l1:2+", rec.hits)
	}
}

// While Redis refuses writes, a Set that PostgreSQL accepts still succeeds;
// once Redis answers, the old value it still holds is deleted before anyone
// on this instance reads it, and the next use of Redis removes it for all.
func TestRedisWriteFailureDoesNotLeaveStaleValue(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	addr := testenv.StartRedis(t)
	ctx := ctxT(t)
	name := "outage_" + testenv.Suffix()
	open := func() *strata.DataStore {
		ds := openStore(t, strata.Config{
			PostgresDSN: dsn, RedisAddr: addr, InvalidationChannel: "strata:test:" + name,
			L2Pool: strata.L2PoolConfig{ReadTimeout: 150 * time.Millisecond, WriteTimeout: 150 * time.Millisecond},
		}, strata.Schema{Name: name, Model: &Account{}})
		return ds
	}
	ds := open()
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	pgTable(t, dsn, name)

	if err := ds.Set(ctx, name, "x", &Account{ID: "x", Username: "before"}); err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	// A read fills Redis with the record (writes only invalidate it).
	if _, err := strata.GetTyped[Account](ctx, open(), name, "x"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "redis to hold the record", func() bool { return filled(ctx, rdb, "strata:"+name+":x") })
	if err := rdb.Do(ctx, "CLIENT", "PAUSE", "1500", "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	if err := ds.Set(ctx, name, "x", &Account{ID: "x", Username: "after"}); err != nil {
		t.Fatalf("Set while Redis refuses writes: %v (PostgreSQL accepted it, so it must succeed)", err)
	}
	if v, _ := rdb.Get(ctx, "strata:"+name+":x").Bytes(); len(v) == 0 {
		t.Fatal("the paused Redis should still hold the old value (the test would prove nothing)")
	}
	waitFor(t, "the pause to end", func() bool { return rdb.Set(ctx, "strata:probe:"+name, "1", time.Second).Err() == nil })
	ds.DropL1(name, "x")
	got, err := strata.GetTyped[Account](ctx, ds, name, "x")
	if err != nil || got.Username != "after" {
		t.Fatalf("after the outage the writer reads %+v, %v; want after", got, err)
	}
	// The repairer deletes the old value from Redis and tells the other
	// instances; an instance that read it meanwhile converges within a few
	// repair intervals.
	fresh := open()
	waitFor(t, "another instance to read the value written during the outage", func() bool {
		got, err := strata.GetTyped[Account](ctx, fresh, name, "x")
		return err == nil && got.Username == "after"
	})
}

// A hot missing key reaches PostgreSQL once per NegativeCacheTTL, and a write
// of it through another instance is visible at once.
func TestNegativeCaching(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	rec := &recorder{hits: map[string]int{}}
	ds := openStore(t, strata.Config{PostgresDSN: tt.dsn, RedisAddr: tt.addr, EncryptionKey: testKey,
		InvalidationChannel: tt.channel, Metrics: rec, NegativeCacheTTL: time.Minute}, strata.Schema{Name: tt.schema, Model: &Account{}})
	if err := ds.WaitSubscribed(ctx); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if _, err := strata.GetTyped[Account](ctx, ds, tt.schema, "ghost"); !errors.Is(err, strata.ErrNotFound) {
			t.Fatalf("Get(ghost) = %v", err)
		}
	}
	rec.mu.Lock()
	l3 := rec.misses["l3"]
	rec.mu.Unlock()
	if l3 != 1 {
		t.Errorf("100 Gets of a missing key queried L3 %d times, want 1", l3)
	}
	if ok, _ := ds.Exists(ctx, tt.schema, "ghost"); ok {
		t.Error("Exists is true for a remembered absence")
	}
	if err := tt.ds.Set(ctx, tt.schema, "ghost", &Account{ID: "ghost", Username: "boo"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the write through another instance to end the absence", func() bool {
		a, err := strata.GetTyped[Account](ctx, ds, tt.schema, "ghost")
		return err == nil && a.Username == "boo"
	})
}

type Doc struct {
	ID   string `strata:"primary_key"`
	Meta map[string]any
	Tags []string
}

// A JSONB field reads back the same from every tier, even with interface
// values whose dynamic types JSON changes (int -> float64).
func TestJSONFieldsSameFromEveryTier(t *testing.T) {
	t.Parallel()
	dsn, addr := testenv.PostgresDSN(t), testenv.RedisAddr(t)
	ctx := ctxT(t)
	name := "docs_" + testenv.Suffix()
	open := func() *strata.DataStore {
		ds := openStore(t, strata.Config{PostgresDSN: dsn, RedisAddr: addr, InvalidationChannel: "strata:test:" + name}, strata.Schema{Name: name, Model: &Doc{}})
		return ds
	}
	ds := open()
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	pgTable(t, dsn, name)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	defer rdb.Del(context.Background(), "strata:"+name+":d1")

	in := &Doc{ID: "d1", Meta: map[string]any{"n": 1, "s": "x", "l": []int{1, 2}}, Tags: []string{}}
	if err := ds.Set(ctx, name, "d1", in); err != nil {
		t.Fatal(err)
	}
	fromL1, err := strata.GetTyped[Doc](ctx, ds, name, "d1")
	if err != nil {
		t.Fatal(err)
	}
	fromL2, err := strata.GetTyped[Doc](ctx, open(), name, "d1")
	if err != nil {
		t.Fatal(err)
	}
	rdb.Del(ctx, "strata:"+name+":d1")
	fromL3, err := strata.GetTyped[Doc](ctx, open(), name, "d1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fromL3, fromL1); diff != "" {
		t.Errorf("L1 disagrees with L3 (-L3 +L1):\n%s", diff)
	}
	if diff := cmp.Diff(fromL3, fromL2); diff != "" {
		t.Errorf("L2 disagrees with L3 (-L3 +L2):\n%s", diff)
	}
	if fromL3.Tags == nil {
		t.Error("an empty slice came back nil")
	}
}

// An absence marker that outlived NegativeCacheTTL (but not the L1 TTL) is
// read through again, never handed out as a record.
func TestNegativeCacheMarkerExpiry(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	fake := clock.NewFake(time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	ds := openStore(t, strata.Config{PostgresDSN: tt.dsn, RedisAddr: tt.addr, EncryptionKey: testKey,
		InvalidationChannel: tt.channel, Clock: fake, NegativeCacheTTL: time.Second}, strata.Schema{Name: tt.schema, Model: &Account{}})
	if err := ds.WaitSubscribed(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := strata.GetTyped[Account](ctx, ds, tt.schema, "late"); !errors.Is(err, strata.ErrNotFound) {
		t.Fatal(err)
	}
	fake.Advance(2 * time.Second) // past the absence, well within the L1 TTL
	if _, err := strata.GetTyped[Account](ctx, ds, tt.schema, "late"); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("GetTyped after the absence expired: %v", err)
	}
	var a Account
	if err := ds.Get(ctx, tt.schema, "late", &a); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("Get after the absence expired: %v", err)
	}
	if got, err := strata.GetManyTyped[Account](ctx, ds, tt.schema, []string{"late"}); err != nil || len(got) != 0 {
		t.Errorf("GetMany of a remembered absence = %v, %v", got, err)
	}
	if err := ds.Set(ctx, tt.schema, "late", &Account{ID: "late", Username: "late"}); err != nil {
		t.Fatalf("Set over a remembered absence: %v", err)
	}
	if got, err := strata.GetTyped[Account](ctx, ds, tt.schema, "late"); err != nil || got.Username != "late" {
		t.Errorf("after Set: %+v, %v", got, err)
	}
}

type Blob struct {
	ID   string `strata:"primary_key"`
	Name string
	Data string `strata:"omit_l1"`
}

// A schema with omit_l1 fields reads them from L2, whichever path serves it.
func TestOmitL1FieldsAreReturned(t *testing.T) {
	t.Parallel()
	addr := testenv.RedisAddr(t)
	ctx := ctxT(t)
	name := "blob_" + testenv.Suffix()
	ds := openStore(t, strata.Config{RedisAddr: addr, InvalidationChannel: "strata:test:" + name}, strata.Schema{Name: name, Model: &Blob{}, L3: strata.PostgresPolicy{Disabled: true}})
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	defer rdb.Del(context.Background(), "strata:"+name+":b1")
	if err := ds.Set(ctx, name, "b1", &Blob{ID: "b1", Name: "n", Data: "big"}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, err := strata.GetTyped[Blob](ctx, ds, name, "b1")
		if err != nil || got.Data != "big" {
			t.Fatalf("Get = %+v, %v; want the omit_l1 field from L2", got, err)
		}
	}
	if ds.L1Has(name, "b1") {
		t.Error("a schema with omit_l1 fields was cached in L1")
	}
}

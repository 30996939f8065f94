package strata_test

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// garbage is what a corrupted key, or one written by another codec or model
// version, holds: bytes the schema's codec cannot decode.
var garbage = []byte("\xc1 not msgpack")

// errCounter is a metrics recorder counting Error calls by tier/op.
type errCounter struct {
	mu   sync.Mutex
	errs map[string]int
}

func (c *errCounter) Hit(string, string)                            {}
func (c *errCounter) Miss(string, string)                           {}
func (c *errCounter) Latency(string, string, string, time.Duration) {}
func (c *errCounter) Error(_, tier, op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.errs == nil {
		c.errs = map[string]int{}
	}
	c.errs[tier+"/"+op]++
}

func (c *errCounter) count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.errs[key]
}

// TestUndecodableRedisValueIsAMiss writes garbage over cached records in
// Redis. Get, GetMany and Exists must answer from PostgreSQL as on a miss,
// drop the bad value (Get refills it with a good one), log it at Warn and
// count it as an L2 "decode" error; Exists must not say true for a record
// that only a bad Redis value claims.
func TestUndecodableRedisValueIsAMiss(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	addr := testenv.RedisAddr(t)
	ctx := ctxT(t)
	name := "undec_" + testenv.Suffix()
	logs := &captureLogger{}
	rec := &errCounter{}
	cfg := strata.Config{PostgresDSN: dsn, RedisAddr: addr, InvalidationChannel: "strata:test:" + name, Logger: logs, Metrics: rec}
	ds := openStore(t, cfg, strata.Schema{Name: name, Model: &Account{}})
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	pgTable(t, dsn, name)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	key := func(id string) string { return "strata:" + name + ":" + id }
	t.Cleanup(func() {
		for _, id := range []string{"get", "m1", "m2", "m3", "ex", "ghost"} {
			rdb.Del(context.Background(), key(id))
		}
	})
	for _, id := range []string{"get", "m1", "m2", "m3", "ex"} {
		if err := ds.Set(ctx, name, id, &Account{ID: id, Username: "u-" + id}); err != nil {
			t.Fatal(err)
		}
		ds.DropL1(name, id) // (the writer's own L1 entry: the reads below must meet Redis)
	}
	for _, id := range []string{"get", "m1", "m3", "ex", "ghost"} { // "ghost" is in no table
		if err := rdb.Set(ctx, key(id), garbage, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	holdsGarbage := func(id string) bool {
		v, err := rdb.Get(ctx, key(id)).Bytes()
		return err == nil && bytes.Equal(v, garbage)
	}

	// Every call twice: the first meets the bad value, the second what the
	// first left behind.
	for i := range 2 {
		got, err := strata.GetTyped[Account](ctx, ds, name, "get")
		if err != nil || got.Username != "u-get" {
			t.Errorf("Get #%d over an undecodable Redis value = %+v, %v; want u-get from PostgreSQL", i+1, got, err)
		}
		ds.DropL1(name, "get")
	}

	for i := range 2 {
		var m map[string]Account
		if err := ds.GetMany(ctx, name, []string{"m1", "m2", "m3"}, &m); err != nil {
			t.Errorf("GetMany #%d with undecodable Redis values = %v; want the records from PostgreSQL", i+1, err)
		}
		var names []string
		for _, a := range m {
			names = append(names, a.Username)
		}
		sort.Strings(names)
		if len(names) != 3 || names[0] != "u-m1" || names[1] != "u-m2" || names[2] != "u-m3" {
			t.Errorf("GetMany #%d = %v; want u-m1 u-m2 u-m3", i+1, names)
		}
		for _, id := range []string{"m1", "m2", "m3"} {
			ds.DropL1(name, id)
		}
	}

	for _, tc := range []struct {
		id   string
		want bool
	}{{"ex", true}, {"ghost", false}} {
		for i := range 2 {
			ok, err := ds.Exists(ctx, name, tc.id)
			if err != nil || ok != tc.want {
				t.Errorf("Exists(%s) #%d over an undecodable Redis value = %v, %v; want %v (PostgreSQL's answer)", tc.id, i+1, ok, err, tc.want)
			}
		}
	}

	waitFor(t, "Get's lease to refill the key with a good value", func() bool {
		v, err := rdb.Get(ctx, key("get")).Bytes()
		return err == nil && !bytes.Equal(v, garbage) && filled(ctx, rdb, key("get"))
	})
	if got, err := strata.GetTyped[Account](ctx, ds, name, "get"); err != nil || got.Username != "u-get" {
		t.Errorf("Get from the refilled key = %+v, %v", got, err)
	}
	for _, id := range []string{"get", "m1", "m3", "ex", "ghost"} {
		if holdsGarbage(id) {
			t.Errorf("Redis still holds the undecodable value of %s", id)
		}
	}
	if n := rec.count("l2/decode"); n != 5 {
		t.Errorf("L2 decode errors counted = %d, want 5 (one per bad value)", n)
	}
	if n := len(logs.find("WARN", "undecodable", name)); n != 5 {
		t.Errorf("Warn lines about undecodable values = %d, want 5; log: %v", n, logs.all())
	}
}

// TestUndecodableValueOfRedisOnlySchemaIsKept: where Redis is the source of
// truth, an undecodable value is the only copy (and the program version
// that wrote it may still read it), so Get reports it instead of deleting
// it.
func TestUndecodableValueOfRedisOnlySchemaIsKept(t *testing.T) {
	t.Parallel()
	addr := testenv.RedisAddr(t)
	ctx := ctxT(t)
	name := "undecr_" + testenv.Suffix()
	ds := openStore(t, strata.Config{RedisAddr: addr, InvalidationChannel: "strata:test:" + name},
		strata.Schema{Name: name, Model: &Account{}, L3: strata.PostgresPolicy{Disabled: true}})
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	k := "strata:" + name + ":s"
	t.Cleanup(func() { rdb.Del(context.Background(), k) })
	if err := rdb.Set(ctx, k, garbage, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := strata.GetTyped[Account](ctx, ds, name, "s"); !errors.Is(err, strata.ErrDecodeFailed) {
		t.Errorf("Get = %v, want ErrDecodeFailed", err)
	}
	if v, err := rdb.Get(ctx, k).Bytes(); err != nil || !bytes.Equal(v, garbage) {
		t.Errorf("the only copy was changed: %q, %v", v, err)
	}
}

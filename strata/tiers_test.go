package strata_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// Account exercises every tag that changes what a tier holds.
type Account struct {
	ID        string `strata:"primary_key"`
	Username  string `strata:"unique,index"`
	Email     string `strata:"index,nullable"`
	Level     int    `strata:"default:1"`
	Score     int64
	Tags      []string
	APIKey    string    `strata:"encrypted"`
	Password  string    `strata:"omit_cache"`
	CreatedAt time.Time `strata:"auto_now_add"`
	UpdatedAt time.Time `strata:"auto_now"`
	Internal  string    `strata:"-"`
}

var testKey = bytes.Repeat([]byte{0x42}, 32)

type tiered struct {
	ds      *strata.DataStore
	schema  string
	rdb     *redis.Client
	pg      *pgx.Conn
	dsn     string
	addr    string
	channel string
}

// newTiered returns a DataStore on the test servers with one Account schema
// whose table, key prefix and invalidation channel are unique to the test.
func newTiered(t *testing.T) *tiered {
	t.Helper()
	return newTieredOn(t, testenv.RedisAddr(t))
}

// newTieredOn is newTiered on the Redis server at addr.
func newTieredOn(t *testing.T, addr string) *tiered {
	t.Helper()
	dsn := testenv.PostgresDSN(t)
	sfx := testenv.Suffix()
	tt := &tiered{schema: "acct_" + sfx, dsn: dsn, addr: addr, channel: "strata:test:" + sfx}
	tt.ds = tt.open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tt.ds.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	tt.rdb = redis.NewClient(&redis.Options{Addr: addr})
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	tt.pg = conn
	t.Cleanup(func() {
		ctx := context.Background()
		_, _ = tt.pg.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{tt.schema}.Sanitize())
		tt.pg.Close(ctx)
		iter := tt.rdb.Scan(ctx, 0, "strata:"+tt.schema+":*", 1000).Iterator()
		for iter.Next(ctx) {
			tt.rdb.Del(ctx, iter.Val())
		}
		tt.rdb.Close()
	})
	return tt
}

// open returns another DataStore instance on the same servers and schema.
func (tt *tiered) open(t *testing.T) *strata.DataStore {
	t.Helper()
	return tt.openAs(t, strata.Schema{Name: tt.schema, Model: &Account{}})
}

// openAs is open with the schema registered as s (of the same name and
// model).
func (tt *tiered) openAs(t *testing.T, s strata.Schema) *strata.DataStore {
	t.Helper()
	ds, err := strata.NewDataStore(strata.Config{
		PostgresDSN: tt.dsn, RedisAddr: tt.addr, EncryptionKey: testKey,
		InvalidationChannel: tt.channel,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	if err := ds.Register(s); err != nil {
		t.Fatal(err)
	}
	if err := ds.WaitSubscribed(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	return ds
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestTieredSetGetDelete(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	in := &Account{ID: "a1", Username: "ada", Score: 7, Tags: []string{"x"}, APIKey: "key-plaintext-1", Password: "hash-plaintext-1", Internal: "i"}
	if err := tt.ds.Set(ctx, tt.schema, "a1", in); err != nil {
		t.Fatal(err)
	}
	want := *in
	want.Password, want.Internal = "", "" // Get never returns omit_cache or "-" fields

	// Served by L1, then by L2 (fresh instance), then by L3 (L2 key removed).
	check := func(ds *strata.DataStore, from string) {
		t.Helper()
		got, err := strata.GetTyped[Account](ctx, ds, tt.schema, "a1")
		if err != nil {
			t.Fatalf("Get from %s: %v", from, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Get from %s (-want +got):\n%s", from, diff)
		}
	}
	check(tt.ds, "L1")
	check(tt.open(t), "L2")
	if err := tt.rdb.Del(ctx, "strata:"+tt.schema+":a1").Err(); err != nil {
		t.Fatal(err)
	}
	fresh := tt.open(t)
	check(fresh, "L3")
	// The L3 read fills L2 again (in the background).
	waitFor(t, "L2 to be refilled after an L3 read", func() bool { return filled(ctx, tt.rdb, "strata:"+tt.schema+":a1") })

	// Exists cascades; Delete reaches every tier of every instance.
	if ok, err := fresh.Exists(ctx, tt.schema, "a1"); err != nil || !ok {
		t.Errorf("Exists = %v, %v", ok, err)
	}
	if err := tt.ds.Delete(ctx, tt.schema, "a1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other instance to drop its L1 copy", func() bool { return !fresh.L1Has(tt.schema, "a1") })
	for name, ds := range map[string]*strata.DataStore{"writer": tt.ds, "other": fresh} {
		if _, err := strata.GetTyped[Account](ctx, ds, tt.schema, "a1"); !errors.Is(err, strata.ErrNotFound) {
			t.Errorf("%s: Get after Delete: %v, want ErrNotFound", name, err)
		}
	}
}

func TestTieredSecretsStayOutOfRedis(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	for i := range 5 {
		id := fmt.Sprintf("s%d", i)
		a := &Account{ID: id, Username: "u" + id, APIKey: "apikey-secret-" + id, Password: "password-secret-" + id}
		if err := tt.ds.Set(ctx, tt.schema, id, a); err != nil {
			t.Fatal(err)
		}
		if _, err := strata.GetTyped[Account](ctx, tt.open(t), tt.schema, id); err != nil {
			t.Fatal(err)
		}
	}
	// omit_cache values never reach Redis, in any key or value.
	keys, err := tt.rdb.Keys(ctx, "*"+tt.schema+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("no keys for the schema in redis: %v %v", keys, err)
	}
	for _, k := range keys {
		v, err := tt.rdb.Get(ctx, k).Bytes()
		if err != nil {
			continue // not a string value
		}
		if bytes.Contains(v, []byte("password-secret")) || strings.Contains(k, "password-secret") {
			t.Errorf("redis key %s holds an omit_cache value", k)
		}
	}
	// Encrypted fields are ciphertext in PostgreSQL, bound to their row.
	var stored string
	if err := tt.pg.QueryRow(ctx, "SELECT api_key FROM "+pgx.Identifier{tt.schema}.Sanitize()+" WHERE id = $1", "s1").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored, "apikey-secret") || stored == "" {
		t.Errorf("api_key in postgres is %q, want ciphertext", stored)
	}
	// A ciphertext copied to another row fails to decrypt.
	if _, err := tt.pg.Exec(ctx, "UPDATE "+pgx.Identifier{tt.schema}.Sanitize()+" SET api_key = $1 WHERE id = $2", stored, "s2"); err != nil {
		t.Fatal(err)
	}
	tt.rdb.Del(ctx, "strata:"+tt.schema+":s2")
	if _, err := strata.GetTyped[Account](ctx, tt.open(t), tt.schema, "s2"); !errors.Is(err, strata.ErrDecodeFailed) {
		t.Errorf("Get of a row with a moved ciphertext: %v, want ErrDecodeFailed", err)
	}
}

func TestTieredSearchAndCount(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	for i := range 10 {
		id := fmt.Sprintf("p%02d", i)
		if err := tt.ds.Set(ctx, tt.schema, id, &Account{ID: id, Username: "user" + id, Score: int64(i * 10), Password: "pw" + id}); err != nil {
			t.Fatal(err)
		}
	}
	q := strata.Q().Where("score >= $1", 50).OrderBy("score").Desc().Limit(3).Build()
	got, err := strata.SearchTyped[Account](ctx, tt.ds, tt.schema, &q)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range got {
		ids = append(ids, a.ID)
	}
	if diff := cmp.Diff([]string{"p09", "p08", "p07"}, ids); diff != "" {
		t.Errorf("Search ids (-want +got):\n%s", diff)
	}
	if got[0].Password != "pwp09" {
		t.Errorf("Search must return omit_cache fields from L3, got %q", got[0].Password)
	}
	var ptrs []*Account
	if err := tt.ds.Search(ctx, tt.schema, nil, &ptrs); err != nil || len(ptrs) != 10 {
		t.Errorf("Search(nil) = %d rows, %v", len(ptrs), err)
	}
	proj := strata.Q().Fields("score").OrderBy("id").Limit(2).Build()
	rows, err := strata.SearchTyped[Account](ctx, tt.ds, tt.schema, &proj)
	if err != nil || len(rows) != 2 || rows[1].ID != "p01" || rows[1].Score != 10 || rows[1].Username != "" {
		t.Errorf("projection = %+v, %v", rows, err)
	}
	n, err := tt.ds.Count(ctx, tt.schema, &q)
	if err != nil || n != 5 {
		t.Errorf("Count = %d, %v; want 5", n, err)
	}
	bad := strata.Q().OrderBy("score; DROP TABLE x").Build()
	if _, err := strata.SearchTyped[Account](ctx, tt.ds, tt.schema, &bad); !errors.Is(err, strata.ErrInvalidQuery) {
		t.Errorf("unknown order column: %v", err)
	}
}

// TestTieredStaleSetRace forces the interleaving of "Scaling Memcache at
// Facebook": a reader misses L1 and L2 and reads the row from L3; a writer
// then updates L3 and L2; the reader then fills L2 with what it read. With
// the lease the fill is refused; with the lease switched off the old value
// lands in Redis. Its hooks and lease switch are the reader's own (test
// hooks are per DataStore), and each case has its own schema and channel,
// so it runs in parallel.
func TestTieredStaleSetRace(t *testing.T) {
	t.Parallel()
	for _, guarded := range []bool{true, false} {
		t.Run(fmt.Sprintf("lease=%v", guarded), func(t *testing.T) {
			t.Parallel()
			tt := newTiered(t)
			ctx := ctxT(t)
			if err := tt.ds.Set(ctx, tt.schema, "r1", &Account{ID: "r1", Username: "old", Score: 1}); err != nil {
				t.Fatal(err)
			}
			tt.rdb.Del(ctx, "strata:"+tt.schema+":r1")
			reader := tt.open(t)

			read, resume := make(chan struct{}), make(chan struct{})
			var first atomic.Bool
			reader.SetTestHookAfterL3Read(func(schema, id string) {
				if schema == tt.schema && id == "r1" && first.CompareAndSwap(false, true) {
					close(read) // only the reader's first read pauses
					<-resume
				}
			})
			reader.DisableL2LeaseForTest(!guarded)

			done := make(chan error, 1)
			go func() {
				_, err := strata.GetTyped[Account](ctx, reader, tt.schema, "r1")
				done <- err
			}()
			<-read
			if err := tt.ds.Set(ctx, tt.schema, "r1", &Account{ID: "r1", Username: "new", Score: 2}); err != nil {
				t.Fatal(err)
			}
			close(resume)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the reader to drop its L1 copy", func() bool { return !reader.L1Has(tt.schema, "r1") })
			got, err := strata.GetTyped[Account](ctx, tt.open(t), tt.schema, "r1")
			if err != nil {
				t.Fatal(err)
			}
			if guarded && got.Username != "new" {
				t.Errorf("with the lease, a fresh instance reads %q: the stale fill reached redis", got.Username)
			}
			if !guarded && got.Username != "old" {
				t.Errorf("without the lease the race should leave the old value in redis (proving the test forces it), got %q", got.Username)
			}
		})
	}
}

// TestTieredResubscribeDropsL1 kills the other instance's pub/sub
// connection after changing a row behind its back: messages sent meanwhile
// are lost, so on resubscribing it must drop its whole L1.
func TestTieredResubscribeDropsL1(t *testing.T) {
	t.Parallel()
	tt := newTieredOn(t, testenv.StartRedis(t)) // CLIENT KILL must not disturb other tests
	ctx := ctxT(t)
	other := tt.open(t)
	if err := tt.ds.Set(ctx, tt.schema, "k1", &Account{ID: "k1", Username: "v1"}); err != nil {
		t.Fatal(err)
	}
	// The writer's invalidation may reach the other instance after its
	// first read and drop that copy, so read until the copy stays.
	waitFor(t, "the other instance to cache k1", func() bool {
		if _, err := strata.GetTyped[Account](ctx, other, tt.schema, "k1"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		return other.L1Has(tt.schema, "k1")
	})
	// Change L2 directly: no invalidation message is sent.
	tt.rdb.Del(ctx, "strata:"+tt.schema+":k1")
	if _, err := tt.pg.Exec(ctx, "UPDATE "+pgx.Identifier{tt.schema}.Sanitize()+" SET username = 'v2' WHERE id = 'k1'"); err != nil {
		t.Fatal(err)
	}
	if err := tt.rdb.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other instance to drop its L1 on resubscribe", func() bool { return !other.L1Has(tt.schema, "k1") })
	got, err := strata.GetTyped[Account](ctx, other, tt.schema, "k1")
	if err != nil || got.Username != "v2" {
		t.Errorf("after resubscribe Get = %+v, %v; want v2", got, err)
	}
}

// filled reports whether key holds a cached record rather than nothing or a
// fill lease's short-lived marker (records carry the schema's L2 TTL,
// markers the 10s lease TTL).
func filled(ctx context.Context, rdb *redis.Client, key string) bool {
	ttl, err := rdb.TTL(ctx, key).Result()
	return err == nil && ttl > time.Minute
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

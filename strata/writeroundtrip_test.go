package strata_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// TestSetMakesOneRedisRoundTrip: after its upsert, a Set tells Redis
// everything (DEL of the key, the search generation, the message to the
// other instances) in one round trip, and the other instance still drops
// its cached copy.
func TestSetMakesOneRedisRoundTrip(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	other := tt.open(t)
	// Warm up: the script is loaded, the other instance caches the record.
	if err := tt.ds.Set(ctx, tt.schema, "k0", &Account{ID: "k0", Username: "u0", Score: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := strata.GetTyped[Account](ctx, other, tt.schema, "k0"); err != nil {
		t.Fatal(err)
	}
	var rt redisRoundTrips
	if !tt.ds.AddRedisHookForTest(&rt) {
		t.Fatal("the store has no Redis")
	}
	const n = 20
	for i := range n {
		id := fmt.Sprintf("k%d", i%2)
		if err := tt.ds.Set(ctx, tt.schema, id, &Account{ID: id, Username: "u" + id, Score: int64(i + 2)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := rt.n.Load(); got != n {
		t.Errorf("%d Sets made %d Redis round trips, want %d (one each)", n, got, n)
	}
	waitFor(t, "the other instance to drop its copy", func() bool {
		a, err := strata.GetTyped[Account](ctx, other, tt.schema, "k0")
		return err == nil && a.Score == n // the last write of k0: i = n-2
	})
}

// TestSearchCachedSeesAWriteOnAnotherInstance: a search cached by one
// instance is not served after another instance's write, although writes
// advance the search generation only when the counter exists (SearchCached
// creates it before it caches).
func TestSearchCachedSeesAWriteOnAnotherInstance(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	other := tt.open(t)
	if err := other.Set(ctx, tt.schema, "s1", &Account{ID: "s1", Username: "s1", Level: 7}); err != nil {
		t.Fatal(err) // before any SearchCached: no counter, nothing advanced
	}
	q := &strata.Query{Where: "level = $1", Args: []any{7}}
	for round := range 3 {
		var got []Account
		if err := tt.ds.SearchCached(ctx, tt.schema, q, &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != round+1 {
			t.Fatalf("round %d: SearchCached found %d records, want %d", round, len(got), round+1)
		}
		var again []Account // served from the cache
		if err := tt.ds.SearchCached(ctx, tt.schema, q, &again); err != nil || len(again) != round+1 {
			t.Fatalf("round %d: cached SearchCached found %d records (%v), want %d", round, len(again), err, round+1)
		}
		id := fmt.Sprintf("s%d", round+2)
		if err := other.Set(ctx, tt.schema, id, &Account{ID: id, Username: id, Level: 7}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRedisOnlyWritesMakeOneRedisRoundTrip: on a schema whose truth is
// Redis, Set, SetMany and Delete each store or remove the records, advance
// the search generation (only if its counter exists) and tell the other
// instances in one round trip, and the other instance sees every change.
func TestRedisOnlyWritesMakeOneRedisRoundTrip(t *testing.T) {
	t.Parallel()
	addr := testenv.RedisAddr(t)
	ctx := ctxT(t)
	name := "sess_" + testenv.Suffix()
	open := func() *strata.DataStore {
		ds := openStore(t, strata.Config{RedisAddr: addr, InvalidationChannel: "strata:test:" + name},
			strata.Schema{Name: name, Model: &Session{}, L3: strata.PostgresPolicy{Disabled: true}})
		if err := ds.WaitSubscribed(ctx); err != nil {
			t.Fatal(err)
		}
		return ds
	}
	a, b := open(), open()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() {
		rdb.Del(context.Background(), "strata:"+name+":s1", "strata:"+name+":s2", "strata:"+name+":s3")
		rdb.Close()
	})
	// Warm up: the scripts are loaded, b caches s1.
	if err := a.Set(ctx, name, "s1", &Session{ID: "s1", UserID: "u0"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, name, "s3"); err != nil {
		t.Fatal(err)
	}
	if _, err := strata.GetTyped[Session](ctx, b, name, "s1"); err != nil {
		t.Fatal(err)
	}
	var rt redisRoundTrips
	if !a.AddRedisHookForTest(&rt) {
		t.Fatal("the store has no Redis")
	}
	if err := a.Set(ctx, name, "s1", &Session{ID: "s1", UserID: "u1"}); err != nil {
		t.Fatal(err)
	}
	if got := rt.n.Swap(0); got != 1 {
		t.Errorf("a Redis-only Set made %d Redis round trips, want 1", got)
	}
	if err := a.SetMany(ctx, name, map[string]any{"s2": &Session{ID: "s2", UserID: "u2"}, "s3": &Session{ID: "s3", UserID: "u3"}}); err != nil {
		t.Fatal(err)
	}
	if got := rt.n.Swap(0); got != 1 {
		t.Errorf("a Redis-only SetMany made %d Redis round trips, want 1", got)
	}
	waitFor(t, "b to see s1's new value", func() bool {
		s, err := strata.GetTyped[Session](ctx, b, name, "s1")
		return err == nil && s.UserID == "u1"
	})
	if _, err := strata.GetTyped[Session](ctx, b, name, "s2"); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, name, "s1"); err != nil {
		t.Fatal(err)
	}
	if got := rt.n.Swap(0); got != 1 {
		t.Errorf("a Redis-only Delete made %d Redis round trips, want 1", got)
	}
	waitFor(t, "b to drop s1", func() bool {
		_, err := strata.GetTyped[Session](ctx, b, name, "s1")
		return errors.Is(err, strata.ErrNotFound)
	})
	if n, err := rdb.Exists(ctx, "strata:"+l2redis.ReservedMark+"gen:"+name).Result(); err != nil || n != 0 {
		t.Errorf("the search generation counter exists after writes alone (%d, %v): writes must not create it", n, err)
	}
}

// TestInvalidateAllAdvancesAnExistingGenerationOnly: InvalidateAll removes
// the keys, then advances the search generation only if SearchCached
// created it (in the same script as the message), and a cached search is
// not served after it.
func TestInvalidateAllAdvancesAnExistingGenerationOnly(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	genKey := "strata:" + l2redis.ReservedMark + "gen:" + tt.schema
	if err := tt.ds.Set(ctx, tt.schema, "g1", &Account{ID: "g1", Username: "g1", Level: 3}); err != nil {
		t.Fatal(err)
	}
	if err := tt.ds.InvalidateAll(ctx, tt.schema); err != nil {
		t.Fatal(err)
	}
	if n, err := tt.rdb.Exists(ctx, genKey).Result(); err != nil || n != 0 {
		t.Fatalf("InvalidateAll created the search generation counter (%d, %v)", n, err)
	}
	q := &strata.Query{Where: "level = $1", Args: []any{3}}
	var got []Account
	if err := tt.ds.SearchCached(ctx, tt.schema, q, &got); err != nil || len(got) != 1 {
		t.Fatalf("SearchCached = %d records, %v", len(got), err)
	}
	// Behind Strata's back, then InvalidateAll: the cached search must go.
	if _, err := tt.pg.Exec(ctx, fmt.Sprintf(`UPDATE %q SET level = 4 WHERE id = 'g1'`, tt.schema)); err != nil {
		t.Fatal(err)
	}
	if err := tt.ds.InvalidateAll(ctx, tt.schema); err != nil {
		t.Fatal(err)
	}
	if err := tt.ds.SearchCached(ctx, tt.schema, q, &got); err != nil || len(got) != 0 {
		t.Errorf("SearchCached after InvalidateAll = %d records, %v; want 0", len(got), err)
	}
}

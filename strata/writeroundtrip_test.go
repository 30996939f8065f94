package strata_test

import (
	"fmt"
	"testing"

	"github.com/AndrewDonelson/strata/strata"
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

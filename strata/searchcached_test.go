package strata_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/strata"
)

// TestSearchCachedOmitCacheSameOnMissAndHit: the same SearchCached call
// returns the same rows whether it ran the query (a miss) or read the cached
// result set (a hit), and, as Get does, leaves omit_cache fields zero.
func TestSearchCachedOmitCacheSameOnMissAndHit(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	for i := range 4 {
		id := fmt.Sprintf("o%d", i)
		a := &Account{ID: id, Username: id, Score: int64(i), APIKey: "k" + id, Password: "secret-" + id}
		if err := tt.ds.Set(ctx, tt.schema, id, a); err != nil {
			t.Fatal(err)
		}
	}
	q := strata.Q().Where("score >= $1", 1).OrderBy("score").Build()
	before := redisKeys(t, tt)
	var miss, hit []Account
	if err := tt.ds.SearchCached(ctx, tt.schema, &q, &miss); err != nil {
		t.Fatal(err)
	}
	if added := newKeys(before, redisKeys(t, tt)); len(added) != 1 {
		t.Fatalf("the first SearchCached cached %d result sets, want 1: %q", len(added), added)
	}
	if err := tt.ds.SearchCached(ctx, tt.schema, &q, &hit); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(miss, hit); d != "" {
		t.Errorf("SearchCached miss vs hit (-miss +hit):\n%s", d)
	}
	// Pointer results and the paths that bypass the cache give the same rows.
	var ptrs []*Account
	if err := tt.ds.SearchCached(ctx, tt.schema, &q, &ptrs); err != nil {
		t.Fatal(err)
	}
	forced := q
	forced.ForceL3 = true
	var bypass []Account
	if err := tt.ds.SearchCached(ctx, tt.schema, &forced, &bypass); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]Account{"pointers": derefAll(ptrs), "ForceL3": bypass} {
		if d := cmp.Diff(miss, got); d != "" {
			t.Errorf("SearchCached %s (-miss +got):\n%s", name, d)
		}
	}
	if len(miss) != 3 {
		t.Fatalf("SearchCached returned %d rows, want 3", len(miss))
	}
	for _, a := range miss {
		want, err := strata.GetTyped[Account](ctx, tt.ds, tt.schema, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, a); d != "" {
			t.Errorf("SearchCached row %s differs from Get (-Get +SearchCached):\n%s", a.ID, d)
		}
	}
}

func derefAll[T any](ps []*T) []T {
	out := make([]T, len(ps))
	for i, p := range ps {
		out[i] = *p
	}
	return out
}

// TestSearchCachedKeysAreHashed: a cached result set's Redis key has a
// bounded length and holds none of the query's text or arguments; different
// queries get different keys and the same query finds its entry again.
func TestSearchCachedKeysAreHashed(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	emails := []string{"ada.lovelace@example.com", "grace.hopper@example.com"}
	for i, e := range emails {
		id := fmt.Sprintf("e%d", i)
		if err := tt.ds.Set(ctx, tt.schema, id, &Account{ID: id, Username: id, Email: e, Score: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	// A long condition: its text must not end up in the key either.
	long := "email = $1" + strings.Repeat(" AND username <> 'not-this-name'", 100)
	search := func(email string) []string {
		t.Helper()
		q := strata.Q().Where(long, email).Build()
		var rows []Account
		if err := tt.ds.SearchCached(ctx, tt.schema, &q, &rows); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
		return ids
	}
	k0 := redisKeys(t, tt)
	if got := search(emails[0]); !slices.Equal(got, []string{"e0"}) {
		t.Fatalf("search(%s) = %v", emails[0], got)
	}
	k1 := redisKeys(t, tt)
	if got := search(emails[1]); !slices.Equal(got, []string{"e1"}) {
		t.Fatalf("search(%s) = %v", emails[1], got)
	}
	k2 := redisKeys(t, tt)
	first, second := newKeys(k0, k1), newKeys(k1, k2)
	if len(first) != 1 || len(second) != 1 {
		t.Fatalf("each query should cache one result set: %q then %q", first, second)
	}
	if first[0] == second[0] {
		t.Errorf("two queries share the key %q", first[0])
	}
	// Bound: a result key is a short prefix, the schema's key prefix, a
	// generation (at most 20 digits) and a 32-digit hash, whatever the query.
	limit := len(tt.schema) + 96
	for _, k := range k2 {
		t.Logf("key %.120q (%d bytes)", k, len(k))
		if len(k) > limit {
			t.Errorf("key of %d bytes (limit %d): %.120q", len(k), limit, k)
		}
		for _, leak := range []string{"@example.com", "ada.lovelace", "not-this-name", "email"} {
			if strings.Contains(k, leak) {
				t.Errorf("key %.120q contains %q", k, leak)
			}
		}
	}
	// The same query hits its entry: a change made behind Strata's back
	// is not seen (the cached set is served).
	if _, err := tt.pg.Exec(ctx, "UPDATE "+pgx.Identifier{tt.schema}.Sanitize()+" SET email = 'moved@example.org' WHERE id = 'e0'"); err != nil {
		t.Fatal(err)
	}
	if got := search(emails[0]); !slices.Equal(got, []string{"e0"}) {
		t.Errorf("repeated query = %v, want the cached [e0]", got)
	}
	if k3 := redisKeys(t, tt); len(newKeys(k2, k3)) != 0 {
		t.Errorf("the repeated query wrote new keys %q", newKeys(k2, k3))
	}
}

// redisKeys returns every Redis key that names the test's schema, except
// its search generation counter (created by the first SearchCached, since
// writes advance it only once it exists).
func redisKeys(t *testing.T, tt *tiered) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var keys []string
	iter := tt.rdb.Scan(ctx, 0, "*"+tt.schema+"*", 1000).Iterator()
	for iter.Next(ctx) {
		if !strings.HasPrefix(iter.Val(), "strata:#gen:") {
			keys = append(keys, iter.Val())
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

// newKeys returns the keys of after that are not in before.
func newKeys(before, after []string) []string {
	var out []string
	for _, k := range after {
		if !slices.Contains(before, k) {
			out = append(out, k)
		}
	}
	return out
}

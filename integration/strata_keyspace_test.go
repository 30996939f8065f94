package integration_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/integration/harness"
	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/testkit"
	"github.com/AndrewDonelson/strata/testkit/rediskit"
)

// Account is the keyspace suite's record: a name to search by and a score
// to filter on.
type Account struct {
	ID       string `strata:"primary_key"`
	Username string `strata:"unique,index"`
	Score    int64
}

// TestKeyPrefixesCannotReachInternalKeys registers schemas whose Redis
// prefixes are "_gen" and "_q" — the names of Strata's generation-counter
// and cached-search key spaces before they were moved out of reach — next
// to an ordinary schema V. Records of all three must stay readable, their
// SearchCached must work, and nothing done to "_gen" or "_q" (a record whose
// id is V's prefix, InvalidateAll) may touch V's cached searches.
func TestKeyPrefixesCannotReachInternalKeys(t *testing.T) {
	t.Parallel()
	dsn := harness.PostgresDSN(t)
	addr := rediskit.StartServer(t).Addr // the prefixes are global: keep them off the shared server
	ctx := ctxT(t)
	sfx := testkit.Suffix()
	v := "v_" + sfx
	schemas := []strata.Schema{
		{Name: "_gen", Model: &Account{}, L3: strata.PostgresPolicy{TableName: "kgen_" + sfx}},
		{Name: "q_" + sfx, Model: &Account{}, L2: strata.RedisPolicy{KeyPrefix: "_q"}},
		{Name: v, Model: &Account{}},
	}
	openAll := func() *strata.DataStore {
		ds := open(t, strata.Config{PostgresDSN: dsn, RedisAddr: addr, InvalidationChannel: "strata:test:" + sfx}, schemas[0])
		for _, s := range schemas[1:] {
			if err := ds.Register(s); err != nil {
				t.Fatal(err)
			}
		}
		return ds
	}
	ds := openAll()
	migrate(t, ds, dsn, "kgen_"+sfx, "q_"+sfx, v)
	pg := pgConn(t, dsn)
	g, q := "_gen", "q_"+sfx

	for _, id := range []string{"v1", "v2", "v3"} {
		if err := ds.Set(ctx, v, id, &Account{ID: id, Username: id, Score: 1}); err != nil {
			t.Fatal(err)
		}
	}
	search := func(schema string) []string {
		t.Helper()
		var rows []Account
		qry := strata.Q().Where("score > $1", 0).OrderBy("id").Build()
		if err := ds.SearchCached(ctx, schema, &qry, &rows); err != nil {
			t.Fatalf("SearchCached(%s): %v", schema, err)
		}
		var names []string
		for _, r := range rows {
			names = append(names, r.Username)
		}
		return names
	}
	// A "_gen" record whose id is V's prefix: its key was V's generation
	// counter's.
	if err := ds.Set(ctx, g, v, &Account{ID: v, Username: "g-record", Score: 1}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"v1", "v2", "v3"}, search(v)); diff != "" {
		t.Fatalf("SearchCached(V) (-want +got):\n%s", diff)
	}
	other := openAll() // reads through Redis: nothing in its L1
	got, err := strata.GetTyped[Account](ctx, other, g, v)
	if err != nil || got.Username != "g-record" {
		t.Errorf("Get(_gen, %q) from another instance = %+v, %v; want the record", v, got, err)
	}

	// V's cached search is served from Redis now: a change made behind
	// Strata's back stays unseen (as documented) until something advances
	// V's generation or drops its cached results.
	if _, err := pg.Exec(ctx, "UPDATE "+pgx.Identifier{v}.Sanitize()+" SET username = 'changed' WHERE id = 'v1'"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"v1", "v2", "v3"}, search(v)); diff != "" {
		t.Fatalf("SearchCached(V) right after caching is not the cached result (-want +got):\n%s", diff)
	}
	for _, s := range []string{g, q} {
		for _, id := range []string{"a", "b"} {
			if err := ds.Set(ctx, s, id, &Account{ID: id, Username: s + "-" + id, Score: 2}); err != nil {
				t.Fatal(err)
			}
		}
		if err := ds.InvalidateAll(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{"v1", "v2", "v3"}, search(v)); diff != "" {
		t.Errorf("SearchCached(V) after writes and InvalidateAll on _gen and _q is not V's cached result (-want +got):\n%s", diff)
	}

	// The "_gen" and "_q" schemas work: records from every tier, and their
	// own cached searches (twice: a miss, then a hit).
	want := map[string][]string{g: {"_gen-a", "_gen-b", "g-record"}, q: {q + "-a", q + "-b"}}
	for _, s := range []string{g, q} {
		for range 2 {
			if diff := cmp.Diff(want[s], search(s)); diff != "" {
				t.Errorf("SearchCached(%s) (-want +got):\n%s", s, diff)
			}
		}
		for _, id := range []string{"a", "b"} {
			for _, inst := range []*strata.DataStore{ds, other, other} { // L3 or L2, then L1
				got, err := strata.GetTyped[Account](ctx, inst, s, id)
				if err != nil || got.Username != s+"-"+id {
					t.Errorf("Get(%s, %s) = %+v, %v", s, id, got, err)
				}
			}
		}
	}
}

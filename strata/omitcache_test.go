package strata_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// Vault has omit_cache fields of the kinds that matter to an upsert: a NOT
// NULL text column, an encrypted one and a nullable one.
type Vault struct {
	ID        string `strata:"primary_key"`
	Name      string
	Score     int64
	Password  string    `strata:"omit_cache"`
	Token     string    `strata:"omit_cache,encrypted"`
	Recovery  *string   `strata:"omit_cache"`
	CreatedAt time.Time `strata:"auto_now_add"`
	UpdatedAt time.Time `strata:"auto_now"`
}

// secrets is what a Vault holds in its omit_cache fields.
type secrets struct {
	Password, Token string
	Recovery        *string
}

// writePath is one way of writing records: every path must apply the same
// omit_cache rule.
type writePath struct {
	name  string
	mode  strata.WriteMode
	write func(ctx context.Context, ds *strata.DataStore, schema string, recs map[string]*Vault, opts ...strata.SetOption) error
}

var writePaths = []writePath{
	{"Set", strata.WriteThrough, func(ctx context.Context, ds *strata.DataStore, schema string, recs map[string]*Vault, opts ...strata.SetOption) error {
		for _, id := range slices.Sorted(maps.Keys(recs)) {
			if err := ds.Set(ctx, schema, id, recs[id], opts...); err != nil {
				return err
			}
		}
		return nil
	}},
	{"SetMany", strata.WriteThrough, func(ctx context.Context, ds *strata.DataStore, schema string, recs map[string]*Vault, opts ...strata.SetOption) error {
		pairs := map[string]any{}
		for id, m := range recs {
			pairs[id] = m
		}
		return ds.SetMany(ctx, schema, pairs, opts...)
	}},
	{"Tx", strata.WriteThrough, func(ctx context.Context, ds *strata.DataStore, schema string, recs map[string]*Vault, opts ...strata.SetOption) error {
		tx := ds.Tx(ctx)
		for _, id := range slices.Sorted(maps.Keys(recs)) {
			tx.Set(schema, id, recs[id], opts...)
		}
		return tx.Commit()
	}},
	{"WriteBehind", strata.WriteBehind, func(ctx context.Context, ds *strata.DataStore, schema string, recs map[string]*Vault, opts ...strata.SetOption) error {
		for _, id := range slices.Sorted(maps.Keys(recs)) {
			if err := ds.Set(ctx, schema, id, recs[id], opts...); err != nil {
				return err
			}
		}
		return ds.FlushDirty(ctx)
	}},
}

// vaultStore returns a DataStore on the test servers with a Vault schema
// of its own in the given write mode (flushed only by FlushDirty).
func vaultStore(t *testing.T, mode strata.WriteMode) (*strata.DataStore, string) {
	t.Helper()
	dsn, addr := testenv.PostgresDSN(t), testenv.RedisAddr(t)
	name := "vault_" + testenv.Suffix()
	pgTable(t, dsn, name)
	ds := openStore(t, strata.Config{
		PostgresDSN: dsn, RedisAddr: addr, EncryptionKey: testKey,
		InvalidationChannel: "strata:test:" + name, WriteBehindFlushInterval: time.Hour,
	}, strata.Schema{Name: name, Model: &Vault{}, WriteMode: mode})
	if err := ds.Migrate(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	return ds, name
}

// storedSecrets reads the omit_cache fields of every row from PostgreSQL
// (Search returns them, decrypted).
func storedSecrets(t *testing.T, ds *strata.DataStore, schema string) map[string]secrets {
	t.Helper()
	q := strata.Q().OrderBy("id").ForceL3().Build()
	rows, err := strata.SearchTyped[Vault](ctxT(t), ds, schema, &q)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]secrets{}
	for _, m := range rows {
		out[m.ID] = secrets{m.Password, m.Token, m.Recovery}
	}
	return out
}

func strp(s string) *string { return &s }

// TestOmitCacheKeptByReadModifyWrite: a record read with Get (omit_cache
// fields zero, as documented), changed and written back keeps the
// omit_cache values PostgreSQL holds; a non-zero omit_cache value is
// written; a new record with zero omit_cache fields is inserted with zeros.
// The same on every write path.
func TestOmitCacheKeptByReadModifyWrite(t *testing.T) {
	t.Parallel()
	for _, p := range writePaths {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			ds, schema := vaultStore(t, p.mode)
			ctx := ctxT(t)
			seed := map[string]*Vault{
				"m1": {ID: "m1", Name: "one", Score: 1, Password: "pw-1", Token: "tok-1", Recovery: strp("rec-1")},
				"m2": {ID: "m2", Name: "two", Score: 1, Password: "pw-2", Token: "tok-2", Recovery: strp("rec-2")},
			}
			if err := p.write(ctx, ds, schema, seed); err != nil {
				t.Fatal(err)
			}
			m1, err := strata.GetTyped[Vault](ctx, ds, schema, "m1")
			if err != nil {
				t.Fatal(err)
			}
			if m1.Password != "" || m1.Token != "" || m1.Recovery != nil {
				t.Fatalf("Get returned omit_cache fields: %+v", m1)
			}
			m1.Score = 2 // read, modify, write back
			m2 := &Vault{ID: "m2", Name: "two", Score: 2, Password: "pw-2b"}
			m3 := &Vault{ID: "m3", Name: "three", Score: 3}
			if err := p.write(ctx, ds, schema, map[string]*Vault{"m1": &m1, "m2": m2, "m3": m3}); err != nil {
				t.Fatal(err)
			}
			want := map[string]secrets{
				"m1": {"pw-1", "tok-1", strp("rec-1")},  // all kept
				"m2": {"pw-2b", "tok-2", strp("rec-2")}, // the one set is written
				"m3": {"", "", nil},                     // inserted with zeros
			}
			if d := cmp.Diff(want, storedSecrets(t, ds, schema)); d != "" {
				t.Errorf("omit_cache values in PostgreSQL (-want +got):\n%s", d)
			}
			got, err := strata.GetTyped[Vault](ctx, ds, schema, "m1")
			if err != nil || got.Score != 2 {
				t.Errorf("m1 after the write = %+v, %v; want score 2", got, err)
			}
		})
	}
}

// TestWriteBehindCoalescingKeepsOmitCache: two Sets of one key before a
// flush are coalesced; an omit_cache field the second leaves zero keeps the
// value the first one gave, as it would had the first been flushed.
func TestWriteBehindCoalescingKeepsOmitCache(t *testing.T) {
	t.Parallel()
	ds, schema := vaultStore(t, strata.WriteBehind)
	ctx := ctxT(t)
	if err := ds.Set(ctx, schema, "w1", &Vault{ID: "w1", Name: "w", Password: "pw-first", Token: "tok-first"}); err != nil {
		t.Fatal(err)
	}
	if err := ds.Set(ctx, schema, "w1", &Vault{ID: "w1", Name: "w", Score: 5, Token: "tok-second"}); err != nil {
		t.Fatal(err)
	}
	if n := ds.Stats().DirtyCount; n != 1 {
		t.Fatalf("DirtyCount = %d, want the two Sets coalesced into 1", n)
	}
	if err := ds.FlushDirty(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]secrets{"w1": {"pw-first", "tok-second", nil}}
	if d := cmp.Diff(want, storedSecrets(t, ds, schema)); d != "" {
		t.Errorf("omit_cache values in PostgreSQL (-want +got):\n%s", d)
	}
}

// TestClearOmitCacheField: Clear sets named omit_cache fields (by Go field
// or column name) to their zero value on every write path, leaves the others
// as stored, and refuses names that are not omit_cache fields.
func TestClearOmitCacheField(t *testing.T) {
	t.Parallel()
	for _, p := range writePaths {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			ds, schema := vaultStore(t, p.mode)
			ctx := ctxT(t)
			seed := map[string]*Vault{
				"m1": {ID: "m1", Name: "one", Password: "pw-1", Token: "tok-1", Recovery: strp("rec-1")},
				"m2": {ID: "m2", Name: "two", Password: "pw-2", Token: "tok-2", Recovery: strp("rec-2")},
			}
			if err := p.write(ctx, ds, schema, seed); err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{"Name", "Nope"} {
				err := p.write(ctx, ds, schema, map[string]*Vault{"m1": {ID: "m1", Name: "one"}}, strata.Clear(bad))
				if !errors.Is(err, strata.ErrInvalidModel) {
					t.Errorf("Clear(%q): %v, want ErrInvalidModel", bad, err)
				}
			}
			// Password by field name, recovery by column name; Token is
			// left zero without Clear, so it is kept.
			recs := map[string]*Vault{"m1": {ID: "m1", Name: "one"}, "m2": {ID: "m2", Name: "two", Password: "pw-2b"}}
			if err := p.write(ctx, ds, schema, recs, strata.Clear("Password", "recovery")); err != nil {
				t.Fatal(err)
			}
			want := map[string]secrets{
				"m1": {"", "tok-1", nil},
				"m2": {"pw-2b", "tok-2", nil}, // a value given wins over Clear
			}
			if d := cmp.Diff(want, storedSecrets(t, ds, schema)); d != "" {
				t.Errorf("omit_cache values in PostgreSQL (-want +got):\n%s", d)
			}
		})
	}
}

// TestWriteBehindCoalescingKeepsClear: a cleared field stays cleared when a
// later Set of the same key, coalesced with it, leaves the field zero.
func TestWriteBehindCoalescingKeepsClear(t *testing.T) {
	t.Parallel()
	ds, schema := vaultStore(t, strata.WriteBehind)
	ctx := ctxT(t)
	if err := ds.Set(ctx, schema, "w1", &Vault{ID: "w1", Password: "pw", Token: "tok"}); err != nil {
		t.Fatal(err)
	}
	if err := ds.FlushDirty(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ds.Set(ctx, schema, "w1", &Vault{ID: "w1"}, strata.Clear("Password")); err != nil {
		t.Fatal(err)
	}
	if err := ds.Set(ctx, schema, "w1", &Vault{ID: "w1", Score: 3}); err != nil {
		t.Fatal(err)
	}
	if err := ds.FlushDirty(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]secrets{"w1": {"", "tok", nil}}
	if d := cmp.Diff(want, storedSecrets(t, ds, schema)); d != "" {
		t.Errorf("omit_cache values in PostgreSQL (-want +got):\n%s", d)
	}
}

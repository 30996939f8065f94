package strata_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/AndrewDonelson/strata/strata"
)

// ctxCalls lists every public method that takes a context.Context, each
// called with ctx on schema.
func ctxCalls(ds *strata.DataStore, schema string) []struct {
	name string
	call func(ctx context.Context) error
} {
	acct := &Account{ID: "n1", Username: "nil-ctx"}
	return []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Get", func(ctx context.Context) error { return ds.Get(ctx, schema, "n1", &Account{}) }},
		{"GetTyped", func(ctx context.Context) error { _, err := strata.GetTyped[Account](ctx, ds, schema, "n1"); return err }},
		{"Set", func(ctx context.Context) error { return ds.Set(ctx, schema, "n1", acct) }},
		{"SetMany", func(ctx context.Context) error { return ds.SetMany(ctx, schema, map[string]any{"n1": acct}) }},
		{"GetMany", func(ctx context.Context) error {
			m := map[string]Account{}
			return ds.GetMany(ctx, schema, []string{"n1"}, &m)
		}},
		{"GetManyTyped", func(ctx context.Context) error {
			_, err := strata.GetManyTyped[Account](ctx, ds, schema, []string{"n1"})
			return err
		}},
		{"Delete", func(ctx context.Context) error { return ds.Delete(ctx, schema, "n1") }},
		{"Exists", func(ctx context.Context) error { _, err := ds.Exists(ctx, schema, "n1"); return err }},
		{"Search", func(ctx context.Context) error { var out []Account; return ds.Search(ctx, schema, nil, &out) }},
		{"SearchTyped", func(ctx context.Context) error {
			_, err := strata.SearchTyped[Account](ctx, ds, schema, nil)
			return err
		}},
		{"SearchCached", func(ctx context.Context) error { var out []Account; return ds.SearchCached(ctx, schema, nil, &out) }},
		{"Count", func(ctx context.Context) error { _, err := ds.Count(ctx, schema, nil); return err }},
		{"Invalidate", func(ctx context.Context) error { return ds.Invalidate(ctx, schema, "n1") }},
		{"InvalidateAll", func(ctx context.Context) error { return ds.InvalidateAll(ctx, schema) }},
		{"WarmCache", func(ctx context.Context) error { return ds.WarmCache(ctx, schema, 10) }},
		{"Migrate", func(ctx context.Context) error { return ds.Migrate(ctx) }},
		{"MigrateFrom", func(ctx context.Context) error { return ds.MigrateFrom(ctx, "testdata/none") }},
		{"MigrationStatus", func(ctx context.Context) error { _, err := ds.MigrationStatus(ctx); return err }},
		{"FlushDirty", func(ctx context.Context) error { return ds.FlushDirty(ctx) }},
		{"Tx.Commit", func(ctx context.Context) error { return ds.Tx(ctx).Set(schema, "n1", acct).Commit() }},
		{"Tx.Commit empty", func(ctx context.Context) error { return ds.Tx(ctx).Commit() }},
		{"Ping", func(ctx context.Context) error { return ds.Ping(ctx) }},
	}
}

// TestNilContextIsAnError: every method that takes a context returns an
// error wrapping ErrNilContext for a nil one, on a store with every tier
// and on an in-memory one, instead of panicking.
func TestNilContextIsAnError(t *testing.T) {
	t.Parallel()
	stores := map[string]func(t *testing.T) (*strata.DataStore, string){
		"memory": func(t *testing.T) (*strata.DataStore, string) {
			return openStore(t, strata.Config{}, strata.Schema{Name: "acct", Model: &Account{}}), "acct"
		},
		"servers": func(t *testing.T) (*strata.DataStore, string) {
			tt := newTiered(t)
			return tt.ds, tt.schema
		},
	}
	var nilCtx context.Context
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ds, schema := open(t)
			for _, c := range ctxCalls(ds, schema) {
				t.Run(c.name, func(t *testing.T) {
					err := func() (err error) {
						defer func() {
							if r := recover(); r != nil {
								err = fmt.Errorf("panicked: %v", r)
							}
						}()
						return c.call(nilCtx)
					}()
					if !errors.Is(err, strata.ErrNilContext) {
						t.Errorf("%s(nil ctx) = %v, want an error wrapping ErrNilContext", c.name, err)
					}
				})
			}
		})
	}
}

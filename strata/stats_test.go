package strata_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

type Tally struct {
	ID string `strata:"primary_key"`
	N  int
}

// counts is the part of Stats the counting rule governs.
type counts struct{ Gets, Sets, Deletes, Errors int64 }

func countsOf(s strata.Stats) counts { return counts{s.Gets, s.Sets, s.Deletes, s.Errors} }

// TestStatsCountRecordsNotCalls: Gets, Sets and Deletes count records (each
// id asked for, each record written, each id deleted), whichever call
// carries them and whether or not it succeeds; Errors counts failed calls.
func TestStatsCountRecordsNotCalls(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	dsn := testenv.PostgresDSN(t)
	name := "tally_" + testenv.Suffix()
	pgTable(t, dsn, name)
	ds := openStore(t, strata.Config{PostgresDSN: dsn}, strata.Schema{Name: name, Model: &Tally{}})
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ds.SetMany(ctx, name, map[string]any{"a": &Tally{ID: "a"}, "b": &Tally{ID: "b"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		op   func() error
		want counts
	}{
		{"Get", func() error { return ds.Get(ctx, name, "a", &Tally{}) }, counts{Gets: 1}},
		{"Get not found", func() error { _ = ds.Get(ctx, name, "zz", &Tally{}); return nil }, counts{Gets: 1}},
		{"GetTyped", func() error { _, err := strata.GetTyped[Tally](ctx, ds, name, "a"); return err }, counts{Gets: 1}},
		{"GetMany of 3 ids", func() error {
			m := map[string]Tally{}
			return ds.GetMany(ctx, name, []string{"a", "b", "zz"}, &m)
		}, counts{Gets: 3}},
		{"GetManyTyped of 3 ids", func() error {
			_, err := strata.GetManyTyped[Tally](ctx, ds, name, []string{"a", "b", "zz"})
			return err
		}, counts{Gets: 3}},
		{"Set", func() error { return ds.Set(ctx, name, "c", &Tally{ID: "c"}) }, counts{Sets: 1}},
		{"SetMany of 3", func() error {
			return ds.SetMany(ctx, name, map[string]any{"d": &Tally{ID: "d"}, "e": &Tally{ID: "e"}, "f": &Tally{ID: "f"}})
		}, counts{Sets: 3}},
		{"Delete", func() error { return ds.Delete(ctx, name, "f") }, counts{Deletes: 1}},
		{"Tx of 2 sets and 1 delete", func() error {
			return ds.Tx(ctx).Set(name, "g", &Tally{ID: "g"}).Set(name, "h", &Tally{ID: "h"}).Delete(name, "e").Commit()
		}, counts{Sets: 2, Deletes: 1}},
		{"failed Set", func() error { _ = ds.Set(ctx, name, "", &Tally{}); return nil }, counts{Sets: 1, Errors: 1}},
		{"failed SetMany of 2", func() error {
			_ = ds.SetMany(ctx, name, map[string]any{"i": &Tally{ID: "i"}, "j": &Tally{ID: "wrong"}})
			return nil
		}, counts{Sets: 2, Errors: 1}},
		{"failed Tx of 1 set and 1 delete", func() error {
			_ = ds.Tx(ctx).Set(name, "k", &Tally{ID: "wrong"}).Delete(name, "a").Commit()
			return nil
		}, counts{Sets: 1, Deletes: 1, Errors: 1}},
		{"failed GetMany of 2", func() error { _ = ds.GetMany(ctx, name, []string{"a", ""}, nil); return nil }, counts{Gets: 2, Errors: 1}},
		{"Search, Count and Exists count nothing", func() error {
			var rows []Tally
			if err := ds.Search(ctx, name, nil, &rows); err != nil {
				return err
			}
			if _, err := ds.Count(ctx, name, nil); err != nil {
				return err
			}
			_, err := ds.Exists(ctx, name, "a")
			return err
		}, counts{}},
	}
	for _, tt := range tests {
		before := countsOf(ds.Stats())
		if err := tt.op(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		after := countsOf(ds.Stats())
		got := counts{after.Gets - before.Gets, after.Sets - before.Sets, after.Deletes - before.Deletes, after.Errors - before.Errors}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: Stats moved by (-want +got):\n%s", tt.name, diff)
		}
	}
}

package strata_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/google/go-cmp/cmp"
)

// TestGetTypedL1HitKeepsTheFullPathsRules: GetTyped serves an L1 hit of a
// flat model on a fast path of its own (gethot.go). On a record held in L1,
// that path must answer every call exactly as the full path does: refuse a
// nil or cancelled context, the wrong type, an empty id and a closed store
// with their errors; count each call in Stats by the counting rule; report
// the hit to a recorder that is not the no-op; and hand out a copy the
// caller cannot use to change the cached value.
func TestGetTypedL1HitKeepsTheFullPathsRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rec := &recorder{hits: map[string]int{}}
	for _, tc := range []struct {
		name string
		cfg  strata.Config
		hits int // L1 hits the recorder must see
	}{
		{"no-op recorder", strata.Config{}, 0},
		{"recorder", strata.Config{Metrics: rec}, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := newMemStore(t, tc.cfg)
			want := Flat{ID: "f1", Name: "x", Score: 3, At: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}
			if err := ds.Set(ctx, "flat", "f1", &want); err != nil {
				t.Fatal(err)
			}
			before := ds.Stats()
			for range 5 {
				got, err := strata.GetTyped[Flat](ctx, ds, "flat", "f1")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("GetTyped (-want +got):\n%s", diff)
				}
				got.Name, got.Score = "changed by the caller", 99 // must not reach the cache
			}
			if got, err := strata.GetTyped[Flat](ctx, ds, "flat", "f1"); err != nil || got != want {
				t.Fatalf("after the caller changed its copies: %+v, %v; want %+v", got, err, want)
			}

			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			var nilCtx context.Context
			for _, c := range []struct {
				what string
				get  func() error
				want error
			}{
				{"a cancelled context", func() error { _, err := strata.GetTyped[Flat](cancelled, ds, "flat", "f1"); return err }, context.Canceled},
				{"a nil context", func() error { _, err := strata.GetTyped[Flat](nilCtx, ds, "flat", "f1"); return err }, strata.ErrNilContext},
				{"the wrong type", func() error { _, err := strata.GetTyped[Player](ctx, ds, "flat", "f1"); return err }, strata.ErrInvalidModel},
				{"an empty id", func() error { _, err := strata.GetTyped[Flat](ctx, ds, "flat", ""); return err }, strata.ErrMissingPrimaryKey},
				{"an unknown schema", func() error { _, err := strata.GetTyped[Flat](ctx, ds, "nope", "f1"); return err }, strata.ErrSchemaNotFound},
			} {
				if err := c.get(); !errors.Is(err, c.want) {
					t.Errorf("GetTyped with %s of a cached record: %v; want %v", c.what, err, c.want)
				}
			}
			got := ds.Stats()
			if d, e := got.Gets-before.Gets, got.Errors-before.Errors; d != 11 || e != 5 {
				t.Errorf("11 GetTyped calls, 5 failing, added %d Gets and %d Errors; want 11 and 5", d, e)
			}
			rec.mu.Lock()
			if n := rec.hits["l1"]; n != tc.hits {
				t.Errorf("the recorder saw %d L1 hits; want %d", n, tc.hits)
			}
			rec.mu.Unlock()

			if err := ds.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := strata.GetTyped[Flat](ctx, ds, "flat", "f1"); !errors.Is(err, strata.ErrUnavailable) {
				t.Errorf("GetTyped of a cached record after Close: %v; want ErrUnavailable", err)
			}
		})
	}
}

// TestGetTypedL1HitsCountExactlyUnderConcurrency: the fast path counts its
// hits in L1's tally rather than in a counter of its own; Stats must still
// count every call exactly once, whichever path served it, however many
// goroutines read at once — hits, misses, and Gets of other kinds mixed.
func TestGetTypedL1HitsCountExactlyUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ds := newMemStore(t, strata.Config{})
	for _, id := range []string{"a", "b", "c"} {
		if err := ds.Set(ctx, "flat", id, &Flat{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	before := ds.Stats().Gets
	const goroutines, rounds = 8, 3000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids := []string{"a", "b", "c", "missing"}
			for i := range rounds {
				id := ids[(g+i)%len(ids)]
				if _, err := strata.GetTyped[Flat](ctx, ds, "flat", id); (err != nil) != (id == "missing") {
					t.Errorf("GetTyped(%q): %v", id, err)
					return
				}
				if i%10 == 0 { // the full path, also counted
					_ = ds.Get(ctx, "flat", "a", &Flat{})
				}
			}
		}()
	}
	wg.Wait()
	want := int64(goroutines * (rounds + rounds/10))
	if got := ds.Stats().Gets - before; got != want {
		t.Fatalf("Stats counted %d Gets, want %d", got, want)
	}
}

package strata_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/AndrewDonelson/strata/strata"
)

// l1Holds is what ds's L1 holds for id: a username, or "(absent)".
func l1Holds(ds *strata.DataStore, schema, id string) string {
	u, ok := ds.L1Username(schema, id)
	if !ok {
		return "(absent)"
	}
	return u
}

// filledL1 writes id with username u through ds, reads it back (filling
// L1 with the version it read) and checks that L1 holds it.
func filledL1(t *testing.T, tt *tiered, ds *strata.DataStore, id, u string) {
	t.Helper()
	ctx := ctxT(t)
	if err := ds.Set(ctx, tt.schema, id, &Account{ID: id, Username: u}); err != nil {
		t.Fatal(err)
	}
	if a, err := strata.GetTyped[Account](ctx, ds, tt.schema, id); err != nil || a.Username != u {
		t.Fatalf("read back %q, %v; want %q", a.Username, err, u)
	}
	if v, ok := ds.L1Version(tt.schema, id); !ok || v == 0 {
		t.Fatalf("the read filled L1 with version %d (present %v), want the row's version", v, ok)
	}
}

// heldSet fills a versioned instance's L1 with id at "zero", turns its
// version guard on or off, and starts a Set of id to "one" that stops
// after its commit, before its refreshes, until release is called.
func heldSet(t *testing.T, guarded bool, id string) (tt *tiered, w *strata.DataStore, first <-chan error, release func()) {
	t.Helper()
	tt = newTiered(t)
	w = tt.versioned(t)
	filledL1(t, tt, w, id, "zero")
	w.DisableVersionGuardForTest(!guarded)
	held, release := holdBeforeRefresh(w, tt.schema, id)
	first = setAsync(ctxT(t), w, tt.schema, id, "one")
	<-held // "one" committed; its refreshes wait
	return tt, w, first, release
}

// TestWriterRefreshesItsOwnL1Entry: after a versioned Set, the writer's
// next read of a key it held is an L1 hit on the new value, not a Redis
// GET (the writer used to drop its entry).
func TestWriterRefreshesItsOwnL1Entry(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	w := tt.versioned(t)
	filledL1(t, tt, w, "o1", "zero")
	before, _ := w.L1Version(tt.schema, "o1")
	if err := w.Set(ctx, tt.schema, "o1", &Account{ID: "o1", Username: "one"}); err != nil {
		t.Fatal(err)
	}
	if got := l1Holds(w, tt.schema, "o1"); got != "one" {
		t.Fatalf("the writer's L1 holds %q after its Set of \"one\"", got)
	}
	if v, _ := w.L1Version(tt.schema, "o1"); v <= before {
		t.Errorf("L1 version %d after the write, was %d before", v, before)
	}
	// (A key the writer did not hold: see versionedl1create_test.go.)
}

// TestLocalWritersRefreshingL1OutOfOrderKeepTheNewer: two Sets on one
// instance commit one after the other and refresh its L1 in the opposite
// order. The older refresh finds the newer version and leaves it; without
// the version guard the older value stays in L1 after both returned.
func TestLocalWritersRefreshingL1OutOfOrderKeepTheNewer(t *testing.T) {
	t.Parallel()
	for _, guarded := range []bool{true, false} {
		t.Run(fmt.Sprintf("guard=%v", guarded), func(t *testing.T) {
			t.Parallel()
			tt, w, first, release := heldSet(t, guarded, "l1")
			ctx := ctxT(t)
			if err := w.Set(ctx, tt.schema, "l1", &Account{ID: "l1", Username: "two"}); err != nil {
				t.Fatal(err)
			}
			if got := l1Holds(w, tt.schema, "l1"); got != "two" {
				t.Fatalf("L1 holds %q after the newer Set returned, want \"two\"", got)
			}
			release()
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			pg, got := tt.pgUsername(t, "l1"), l1Holds(w, tt.schema, "l1")
			if pg != "two" {
				t.Fatalf("PostgreSQL holds %q, want the later commit's \"two\"", pg)
			}
			if guarded {
				if got != pg {
					t.Errorf("L1 holds %q, PostgreSQL %q: the older refresh won", got, pg)
				}
				if a, err := strata.GetTyped[Account](ctx, w, tt.schema, "l1"); err != nil || a.Username != pg {
					t.Errorf("the writer reads %q (%v), PostgreSQL holds %q", a.Username, err, pg)
				}
			} else if got != "one" {
				t.Errorf("without the version guard the older refresh should win (proving the race is forced), got %q", got)
			}
		})
	}
}

// TestDeleteRacingL1RefreshDoesNotResurrect: a Set commits, a Delete on
// the same instance commits and drops the L1 entry, then the Set's
// refresh arrives. It finds no entry and creates none; without the guard
// (a plain L1 store) the deleted row comes back in L1.
func TestDeleteRacingL1RefreshDoesNotResurrect(t *testing.T) {
	t.Parallel()
	for _, guarded := range []bool{true, false} {
		t.Run(fmt.Sprintf("guard=%v", guarded), func(t *testing.T) {
			t.Parallel()
			tt, w, first, release := heldSet(t, guarded, "x1")
			ctx := ctxT(t)
			if err := w.Delete(ctx, tt.schema, "x1"); err != nil {
				t.Fatal(err)
			}
			release()
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			if pg := tt.pgUsername(t, "x1"); pg != "(absent)" {
				t.Fatalf("PostgreSQL holds %q after the Delete", pg)
			}
			got := l1Holds(w, tt.schema, "x1")
			if guarded {
				if got != "(absent)" {
					t.Errorf("L1 holds %q after the Delete: the refresh resurrected the row", got)
				}
				if _, err := strata.GetTyped[Account](ctx, w, tt.schema, "x1"); !errors.Is(err, strata.ErrNotFound) {
					t.Errorf("the writer reads %v after the Delete, want ErrNotFound", err)
				}
			} else if got != "one" {
				t.Errorf("without the guard the late refresh should resurrect the row in L1 (proving the race is forced), got %q", got)
			}
		})
	}
}

// TestAnotherInstancesWriteDropsARefreshedL1Entry: an entry the writer
// refreshed is still dropped by another instance's later write, and the
// writer then reads that write.
func TestAnotherInstancesWriteDropsARefreshedL1Entry(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	w, other := tt.versioned(t), tt.versioned(t)
	filledL1(t, tt, w, "a1", "zero")
	if err := w.Set(ctx, tt.schema, "a1", &Account{ID: "a1", Username: "one"}); err != nil {
		t.Fatal(err)
	}
	if got := l1Holds(w, tt.schema, "a1"); got != "one" {
		t.Fatalf("the writer's L1 holds %q after its Set", got)
	}
	if err := other.Set(ctx, tt.schema, "a1", &Account{ID: "a1", Username: "two"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other instance's write to reach the writer", func() bool {
		a, err := strata.GetTyped[Account](ctx, w, tt.schema, "a1")
		return err == nil && a.Username == "two"
	})
}

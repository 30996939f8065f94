package strata_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/strata"
)

// l1Creators are the writes that create the writer's own L1 entry of a key
// it did not hold: a Set and a SetMany (of id and one other key).
var l1Creators = []batchWriter{
	{"Set", false, func(ctx context.Context, ds *strata.DataStore, schema, id, u string) error {
		return ds.Set(ctx, schema, id, &Account{ID: id, Username: u})
	}},
	batchWriters[0], // SetMany
}

// pgVersion is the row version PostgreSQL holds for id.
func (tt *tiered) pgVersion(t *testing.T, id string) uint64 {
	t.Helper()
	var v int64
	if err := tt.pg.QueryRow(ctxT(t), "SELECT strata_ver FROM "+pgx.Identifier{tt.schema}.Sanitize()+" WHERE id = $1", id).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return uint64(v)
}

// TestWriterCreatesItsOwnL1Entry: after a versioned Set or SetMany of keys
// its L1 did not hold — a row it inserts, and a row it never read — the
// writer's L1 holds each record at the version PostgreSQL gave it, so its
// next read is an L1 hit (writes used to leave such keys absent).
func TestWriterCreatesItsOwnL1Entry(t *testing.T) {
	for _, w := range l1Creators {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			tt := newTiered(t)
			ctx := ctxT(t)
			ds := tt.versioned(t)
			if err := tt.ds.Set(ctx, tt.schema, "old", &Account{ID: "old", Username: "zero"}); err != nil {
				t.Fatal(err) // (another instance's row: an update for ds)
			}
			for _, id := range []string{"new", "old"} {
				if err := w.write(ctx, ds, tt.schema, id, "one-"+id); err != nil {
					t.Fatal(err)
				}
				if got := l1Holds(ds, tt.schema, id); got != "one-"+id {
					t.Fatalf("after the writer's %s of %q its L1 holds %q, want %q", w.name, id, got, "one-"+id)
				}
				if v, _ := ds.L1Version(tt.schema, id); v != tt.pgVersion(t, id) {
					t.Errorf("%q: L1 version %d, PostgreSQL's %d", id, v, tt.pgVersion(t, id))
				}
			}
		})
	}
}

// raceL1Create runs w's write of id ("one") through a fresh versioned
// instance ds, whose L1 does not hold id, and holds it after its commit,
// before its refreshes, while between runs; then lets the refreshes
// through. It returns the fixture, ds, what PostgreSQL and ds's L1 hold then, and
// whether the guard was on. Without the guard (a plain L1 store) it checks
// that the late write did create "one" in L1, which proves the race is
// forced.
func raceL1Create(t *testing.T, w batchWriter, guarded bool, id string, between func(ctx context.Context, tt *tiered, ds *strata.DataStore)) (tt *tiered, ds *strata.DataStore, pg, got string, ok bool) {
	t.Helper()
	tt = newTiered(t)
	ctx := ctxT(t)
	ds = tt.versioned(t)
	ds.DisableVersionGuardForTest(!guarded)
	held, release := holdBeforeRefresh(ds, tt.schema, id)
	first := make(chan error, 1)
	go func() { first <- w.write(ctx, ds, tt.schema, id, "one") }()
	waitHeld(t, held, first) // "one" committed; its refreshes wait
	between(ctx, tt, ds)
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	pg, got = tt.pgUsername(t, id), l1Holds(ds, tt.schema, id)
	if !guarded && got != "one" {
		t.Errorf("without the guard the late write should create \"one\" in L1 (proving the race is forced), got %q", got)
	}
	return tt, ds, pg, got, guarded
}

// TestDeleteRacingL1CreateDoesNotResurrect: a Set or SetMany of a key the
// writer's L1 does not hold commits, a Delete on the same instance
// commits, then the write's refresh arrives. The Delete advanced the key's
// epoch after the write took it, so nothing is created; without the guard
// the deleted row comes back in L1.
func TestDeleteRacingL1CreateDoesNotResurrect(t *testing.T) {
	for _, w := range l1Creators {
		for _, guarded := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/guard=%v", w.name, guarded), func(t *testing.T) {
				t.Parallel()
				tt, ds, pg, got, ok := raceL1Create(t, w, guarded, "d1", func(ctx context.Context, tt *tiered, ds *strata.DataStore) {
					if err := ds.Delete(ctx, tt.schema, "d1"); err != nil {
						t.Fatal(err)
					}
				})
				if pg != "(absent)" {
					t.Fatalf("PostgreSQL holds %q after the Delete", pg)
				}
				if !ok {
					return
				}
				if got != "(absent)" {
					t.Errorf("L1 holds %q after the Delete: the write's L1 create resurrected the row", got)
				}
				if _, err := strata.GetTyped[Account](ctxT(t), ds, tt.schema, "d1"); !errors.Is(err, strata.ErrNotFound) {
					t.Errorf("the writer reads %v after the Delete, want ErrNotFound", err)
				}
			})
		}
	}
}

// TestAnotherInstancesWriteRacingL1CreateIsNotUndone: the writer's Set or
// SetMany of a key its L1 does not hold commits; another instance's write
// of the key commits after it and its message reaches the writer; then the
// writer's refresh arrives. The message advanced the key's epoch, so the
// older value is not created, and the writer reads the newer one; without
// the guard its L1 keeps serving the older value.
func TestAnotherInstancesWriteRacingL1CreateIsNotUndone(t *testing.T) {
	for _, w := range l1Creators {
		for _, guarded := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/guard=%v", w.name, guarded), func(t *testing.T) {
				t.Parallel()
				tt, ds, pg, got, ok := raceL1Create(t, w, guarded, "o1", func(ctx context.Context, tt *tiered, ds *strata.DataStore) {
					dropped := make(chan struct{}, 1)
					ds.SetTestHookL1Dropped(func(schema string, ids []string) {
						if schema == tt.schema && slices.Contains(ids, "o1") {
							select {
							case dropped <- struct{}{}:
							default:
							}
						}
					})
					if err := tt.versioned(t).Set(ctx, tt.schema, "o1", &Account{ID: "o1", Username: "two"}); err != nil {
						t.Fatal(err)
					}
					select {
					case <-dropped:
					case <-time.After(20 * time.Second):
						t.Fatal("the other instance's message did not reach the writer in 20 s")
					}
				})
				if pg != "two" {
					t.Fatalf("PostgreSQL holds %q, want the later commit's \"two\"", pg)
				}
				if !ok {
					return
				}
				if got == "one" {
					t.Errorf("the writer's L1 holds \"one\" after the newer write's message: its late create undid it")
				}
				if a, err := strata.GetTyped[Account](ctxT(t), ds, tt.schema, "o1"); err != nil || a.Username != "two" {
					t.Errorf("the writer reads %q (%v), PostgreSQL holds \"two\"", a.Username, err)
				}
			})
		}
	}
}

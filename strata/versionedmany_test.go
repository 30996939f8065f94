package strata_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/strata"
)

// Versioned batches: SetMany, a Tx's Sets and the write-behind flush
// refresh Redis with row versions, as a single Set does. Each race test
// runs twice: with the version guard, and without it (a plain SET, as a
// writer-fills cache without versions would), where the bad outcome must
// happen, which proves the test forces the race.

// writeBehindVersioned opens another instance of tt whose schema is in
// WriteBehind mode, migrated (versioned).
func (tt *tiered) writeBehindVersioned(t *testing.T) *strata.DataStore {
	t.Helper()
	ds := tt.openAs(t, strata.Schema{Name: tt.schema, Model: &Account{}, WriteMode: strata.WriteBehind})
	if err := ds.Migrate(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	return ds
}

// seedCached writes id with username "zero" and has Redis cache it, with
// its row version (a fill by a migrated instance).
func (tt *tiered) seedCached(t *testing.T, id string) {
	t.Helper()
	if err := tt.ds.Set(ctxT(t), tt.schema, id, &Account{ID: id, Username: "zero"}); err != nil {
		t.Fatal(err)
	}
	if _, err := strata.GetTyped[Account](ctxT(t), tt.versioned(t), tt.schema, id); err != nil {
		t.Fatal(err)
	}
	tt.cachedInRedis(t, id)
}

// batchWriter is a batch write path, writing id with username u through
// ds (a write-behind instance for the flush).
type batchWriter struct {
	name        string
	writeBehind bool
	write       func(ctx context.Context, ds *strata.DataStore, schema, id, u string) error
}

// batchWriters are the three batch write paths.
var batchWriters = []batchWriter{
	{"SetMany", false, func(ctx context.Context, ds *strata.DataStore, schema, id, u string) error {
		return ds.SetMany(ctx, schema, map[string]any{id: &Account{ID: id, Username: u}, id + "-other": &Account{ID: id + "-other", Username: u + "-other"}})
	}},
	{"Tx", false, func(ctx context.Context, ds *strata.DataStore, schema, id, u string) error {
		return ds.Tx(ctx).Set(schema, id, &Account{ID: id, Username: u}).Set(schema, id+"-other", &Account{ID: id + "-other", Username: u + "-other"}).Commit()
	}},
	{"flush", true, func(ctx context.Context, ds *strata.DataStore, schema, id, u string) error {
		if err := ds.Set(ctx, schema, id, &Account{ID: id, Username: u}); err != nil {
			return err
		}
		return ds.FlushDirty(ctx)
	}},
}

// waitHeld waits until the batch write is held before its refresh; it
// fails if the write ends first (it did not refresh) or in 20 s.
func waitHeld(t *testing.T, held <-chan struct{}, done <-chan error) {
	t.Helper()
	select {
	case <-held:
	case err := <-done:
		t.Fatalf("the write returned (%v) without reaching its Redis refresh", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the write did not reach its Redis refresh in 20 s")
	}
}

// writer opens the instance a batch writer writes through.
func (tt *tiered) writer(t *testing.T, writeBehind bool) *strata.DataStore {
	if writeBehind {
		return tt.writeBehindVersioned(t)
	}
	return tt.versioned(t)
}

// TestBatchWritesRefreshRedis: after a SetMany, a Tx or a write-behind
// flush of a cached key, Redis holds the new value (one GET for the next
// reader on any instance) instead of nothing.
func TestBatchWritesRefreshRedis(t *testing.T) {
	t.Parallel()
	for _, w := range batchWriters {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			tt := newTiered(t)
			ctx := ctxT(t)
			ds := tt.writer(t, w.writeBehind)
			tt.seedCached(t, "k1")
			if err := w.write(ctx, ds, tt.schema, "k1", "new"); err != nil {
				t.Fatal(err)
			}
			n, err := tt.rdb.Exists(ctx, "strata:"+tt.schema+":k1").Result()
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Fatalf("after the %s Redis holds no value for k1: the write deleted the key instead of refreshing it", w.name)
			}
			if got := tt.freshRead(t, "k1"); got != "new" {
				t.Errorf("a fresh instance reads %q from Redis after the %s, want \"new\"", got, w.name)
			}
		})
	}
}

// raceRefresh runs writer w's write of id ("one") through a fresh
// instance and holds it after its commit, before its Redis refresh, while
// between runs (another instance's write of id); then lets the refresh
// through. It returns what PostgreSQL holds and what a fresh instance
// reads (Redis's copy when there is one).
func raceRefresh(t *testing.T, w batchWriter, guarded bool, id string, between func(ctx context.Context, tt *tiered) error) (pg, got string) {
	t.Helper()
	tt := newTiered(t)
	ctx := ctxT(t)
	w1 := tt.writer(t, w.writeBehind)
	tt.seedCached(t, id)
	w1.DisableVersionGuardForTest(!guarded)
	held, release := holdBeforeRefresh(w1, tt.schema, id)
	first := make(chan error, 1)
	go func() { first <- w.write(ctx, w1, tt.schema, id, "one") }()
	waitHeld(t, held, first) // "one" committed; its refresh waits
	if err := between(ctx, tt); err != nil {
		t.Fatal(err)
	}
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	return tt.pgUsername(t, id), tt.freshRead(t, id)
}

// TestBatchWritesReachingRedisOutOfOrderKeepTheNewer: a batch write (SetMany,
// Tx, write-behind flush) commits, then a Set of the same id commits and
// reaches Redis first; the batch's refresh arrives last and loses to the
// newer version. Without the guard the older value stays in Redis.
func TestBatchWritesReachingRedisOutOfOrderKeepTheNewer(t *testing.T) {
	t.Parallel()
	for _, w := range batchWriters {
		for _, guarded := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/guard=%v", w.name, guarded), func(t *testing.T) {
				t.Parallel()
				pg, got := raceRefresh(t, w, guarded, "r1", func(ctx context.Context, tt *tiered) error {
					return tt.versioned(t).Set(ctx, tt.schema, "r1", &Account{ID: "r1", Username: "two"})
				})
				if pg != "two" {
					t.Fatalf("PostgreSQL holds %q, want the later commit's \"two\"", pg)
				}
				if guarded && got != pg {
					t.Errorf("a fresh instance reads %q from Redis, PostgreSQL holds %q: the %s's older refresh won", got, pg, w.name)
				} else if !guarded && got != "one" {
					t.Errorf("without the version guard the %s's older refresh should win (proving the race is forced), got %q", w.name, got)
				}
			})
		}
	}
}

// TestBatchWritesRacingDeleteDoNotResurrect: a batch write commits, a
// Delete commits and removes the key, then the batch's refresh reaches
// Redis. A refresh never creates a key, so the row stays deleted in every
// tier; a plain SET (no guard) brings it back.
func TestBatchWritesRacingDeleteDoNotResurrect(t *testing.T) {
	t.Parallel()
	for _, w := range batchWriters {
		for _, guarded := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/guard=%v", w.name, guarded), func(t *testing.T) {
				t.Parallel()
				pg, got := raceRefresh(t, w, guarded, "d1", func(ctx context.Context, tt *tiered) error {
					return tt.ds.Delete(ctx, tt.schema, "d1")
				})
				if pg != "(absent)" {
					t.Fatalf("PostgreSQL holds %q after the Delete", pg)
				}
				if guarded && got != pg {
					t.Errorf("a fresh instance reads %q, PostgreSQL holds nothing: the %s's refresh resurrected the row", got, w.name)
				} else if !guarded && got != "one" {
					t.Errorf("without the guard the %s's late refresh should resurrect the row (proving the race is forced), got %q", w.name, got)
				}
			})
		}
	}
}

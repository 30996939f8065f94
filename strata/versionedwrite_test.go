package strata_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/strata"
)

// versioned opens another instance of tt and migrates it, which makes its
// Sets refresh Redis with row versions.
func (tt *tiered) versioned(t *testing.T) *strata.DataStore {
	t.Helper()
	ds := tt.open(t)
	if err := ds.Migrate(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	return ds
}

// holdBeforeRefresh makes ds's first Set of id stop after its commit,
// before its Redis refresh, until release is called; held is closed once
// it stopped there.
func holdBeforeRefresh(ds *strata.DataStore, schema, id string) (held <-chan struct{}, release func()) {
	h, r := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	ds.SetTestHookBeforeRefresh(func(s, i string) {
		if s == schema && i == id && first.CompareAndSwap(false, true) {
			close(h)
			<-r
		}
	})
	return h, func() { close(r) }
}

// cachedInRedis waits until Redis holds id (fills run in the background).
func (tt *tiered) cachedInRedis(t *testing.T, id string) {
	t.Helper()
	waitFor(t, "redis to hold "+id, func() bool {
		n, err := tt.rdb.Exists(context.Background(), "strata:"+tt.schema+":"+id).Result()
		return err == nil && n == 1
	})
}

// pgUsername is what PostgreSQL holds for id, or "(absent)".
func (tt *tiered) pgUsername(t *testing.T, id string) string {
	t.Helper()
	var u string
	err := tt.pg.QueryRow(ctxT(t), "SELECT username FROM "+pgx.Identifier{tt.schema}.Sanitize()+" WHERE id = $1", id).Scan(&u)
	if errors.Is(err, pgx.ErrNoRows) {
		return "(absent)"
	}
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// freshRead is what a new instance, whose L1 is empty, reads: Redis's
// copy when there is one.
func (tt *tiered) freshRead(t *testing.T, id string) string {
	t.Helper()
	a, err := strata.GetTyped[Account](ctxT(t), tt.open(t), tt.schema, id)
	if errors.Is(err, strata.ErrNotFound) {
		return "(absent)"
	}
	if err != nil {
		t.Fatal(err)
	}
	return a.Username
}

// setAsync runs ds.Set of id with username u; its error arrives on the
// channel.
func setAsync(ctx context.Context, ds *strata.DataStore, schema, id, u string) <-chan error {
	done := make(chan error, 1)
	go func() { done <- ds.Set(ctx, schema, id, &Account{ID: id, Username: u}) }()
	return done
}

// TestWritersReachingRedisOutOfOrderKeepTheNewer: two writers commit one
// after the other and reach Redis in the opposite order. The row version
// makes the older refresh lose; without the version guard the older value
// stays in Redis after both returned (which proves the test forces it).
func TestWritersReachingRedisOutOfOrderKeepTheNewer(t *testing.T) {
	t.Parallel()
	for _, guarded := range []bool{true, false} {
		t.Run(fmt.Sprintf("guard=%v", guarded), func(t *testing.T) {
			t.Parallel()
			tt := newTiered(t)
			ctx := ctxT(t)
			w1, w2 := tt.versioned(t), tt.versioned(t)
			if err := w2.Set(ctx, tt.schema, "r1", &Account{ID: "r1", Username: "zero"}); err != nil {
				t.Fatal(err)
			}
			if _, err := strata.GetTyped[Account](ctx, tt.open(t), tt.schema, "r1"); err != nil {
				t.Fatal(err)
			}
			tt.cachedInRedis(t, "r1")
			w1.DisableVersionGuardForTest(!guarded)
			held, release := holdBeforeRefresh(w1, tt.schema, "r1")
			first := setAsync(ctx, w1, tt.schema, "r1", "one")
			<-held // "one" committed; its refresh waits
			if err := w2.Set(ctx, tt.schema, "r1", &Account{ID: "r1", Username: "two"}); err != nil {
				t.Fatal(err)
			}
			release()
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			pg, got := tt.pgUsername(t, "r1"), tt.freshRead(t, "r1")
			if pg != "two" {
				t.Fatalf("PostgreSQL holds %q, want the later commit's \"two\"", pg)
			}
			if guarded {
				for name, ds := range map[string]*strata.DataStore{"w1": w1, "w2": w2} {
					if a, err := strata.GetTyped[Account](ctx, ds, tt.schema, "r1"); err != nil || a.Username != pg {
						t.Errorf("%s reads %q (%v), PostgreSQL holds %q", name, a.Username, err, pg)
					}
				}
				if got != pg {
					t.Errorf("a fresh instance reads %q from redis, PostgreSQL holds %q: the older refresh won", got, pg)
				}
			} else if got != "one" {
				t.Errorf("without the version guard the older refresh should win (proving the race is forced), got %q", got)
			}
		})
	}
}

// TestSetRacingDeleteDoesNotResurrect: a Set commits, a Delete commits and
// removes the key, then the Set's refresh reaches Redis. A refresh never
// creates a key, so the row stays deleted in every tier; a plain SET (no
// guard) brings it back.
func TestSetRacingDeleteDoesNotResurrect(t *testing.T) {
	t.Parallel()
	for _, guarded := range []bool{true, false} {
		t.Run(fmt.Sprintf("guard=%v", guarded), func(t *testing.T) {
			t.Parallel()
			tt := newTiered(t)
			ctx := ctxT(t)
			w1 := tt.versioned(t)
			if err := tt.ds.Set(ctx, tt.schema, "d1", &Account{ID: "d1", Username: "zero"}); err != nil {
				t.Fatal(err)
			}
			if _, err := strata.GetTyped[Account](ctx, tt.open(t), tt.schema, "d1"); err != nil {
				t.Fatal(err)
			}
			tt.cachedInRedis(t, "d1")
			w1.DisableVersionGuardForTest(!guarded)
			held, release := holdBeforeRefresh(w1, tt.schema, "d1")
			first := setAsync(ctx, w1, tt.schema, "d1", "one")
			<-held
			if err := tt.ds.Delete(ctx, tt.schema, "d1"); err != nil {
				t.Fatal(err)
			}
			release()
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			pg, got := tt.pgUsername(t, "d1"), tt.freshRead(t, "d1")
			if pg != "(absent)" {
				t.Fatalf("PostgreSQL holds %q after the Delete", pg)
			}
			if guarded {
				if got != pg {
					t.Errorf("a fresh instance reads %q, PostgreSQL holds nothing: the refresh resurrected the row", got)
				}
				if _, err := strata.GetTyped[Account](ctx, w1, tt.schema, "d1"); !errors.Is(err, strata.ErrNotFound) {
					t.Errorf("the writer reads %v after the Delete, want ErrNotFound", err)
				}
			} else if got != "one" {
				t.Errorf("without the guard the late refresh should resurrect the row (proving the race is forced), got %q", got)
			}
		})
	}
}

// TestReaderFillRacingWritesKeepsTheNewer: the older of two writes is held
// before its refresh; the newer one finds no key to refresh; a reader
// then misses, reads the newer row from PostgreSQL and fills Redis with its
// version. The older refresh, arriving last, loses to the reader's fill.
func TestReaderFillRacingWritesKeepsTheNewer(t *testing.T) {
	t.Parallel()
	for _, guarded := range []bool{true, false} {
		t.Run(fmt.Sprintf("guard=%v", guarded), func(t *testing.T) {
			t.Parallel()
			tt := newTiered(t)
			ctx := ctxT(t)
			w1, w2, reader := tt.versioned(t), tt.versioned(t), tt.versioned(t)
			w1.DisableVersionGuardForTest(!guarded)
			held, release := holdBeforeRefresh(w1, tt.schema, "f1")
			first := setAsync(ctx, w1, tt.schema, "f1", "one")
			<-held
			if err := w2.Set(ctx, tt.schema, "f1", &Account{ID: "f1", Username: "two"}); err != nil {
				t.Fatal(err)
			}
			if a, err := strata.GetTyped[Account](ctx, reader, tt.schema, "f1"); err != nil || a.Username != "two" {
				t.Fatalf("reader Get = %q, %v", a.Username, err)
			}
			tt.cachedInRedis(t, "f1") // the reader's fill, with the row's version
			release()
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			pg, got := tt.pgUsername(t, "f1"), tt.freshRead(t, "f1")
			if guarded && got != pg {
				t.Errorf("a fresh instance reads %q from redis, PostgreSQL holds %q: the older refresh beat the reader's fill", got, pg)
			}
			if !guarded && got != "one" {
				t.Errorf("without the guard the older refresh should win (proving the race is forced), got %q", got)
			}
		})
	}
}

package strata_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/AndrewDonelson/strata/strata"
)

// readUsername reads id through ds by Get or GetMany and returns its
// username, or "(absent)".
func readUsername(ctx context.Context, t *testing.T, ds *strata.DataStore, schema, id string, many bool) string {
	t.Helper()
	if many {
		got, err := strata.GetManyTyped[Account](ctx, ds, schema, []string{id})
		if err != nil {
			t.Fatal(err)
		}
		if a, ok := got[id]; ok {
			return a.Username
		}
		return "(absent)"
	}
	a, err := strata.GetTyped[Account](ctx, ds, schema, id)
	if errors.Is(err, strata.ErrNotFound) {
		return "(absent)"
	}
	if err != nil {
		t.Fatal(err)
	}
	return a.Username
}

// openNoNegative is tt.versioned without negative caching.
func (tt *tiered) openNoNegative(t *testing.T) *strata.DataStore {
	t.Helper()
	ds := openStore(t, strata.Config{
		PostgresDSN: tt.dsn, RedisAddr: tt.addr, EncryptionKey: testKey,
		InvalidationChannel: tt.channel, NegativeCacheTTL: -1,
	}, strata.Schema{Name: tt.schema, Model: &Account{}})
	if err := ds.Migrate(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestReadsDuringTheWritersUpkeepDoNotGoBack: the run-31 fault-suite
// failure, forced. A reader (of another instance, or of the writer's own)
// takes the fill lease of a cold key and reads the row from PostgreSQL;
// the writer's Delete commits and stops before its Redis upkeep; the
// writer's instance then reads the key twice, one read after the other,
// while the held reader's fill lands in between. Both reads must see the
// Delete: once one has, the other must not bring the row back from Redis
// or L1. Without the in-flight guard (or, for the writer's own fill,
// without voiding its fills) the second read returns the deleted row.
func TestReadsDuringTheWritersUpkeepDoNotGoBack(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		filler, mode string
		many         bool
	}{
		{"another instance", "on", false},
		{"another instance", "on", true},
		{"another instance", "off", false},
		{"another instance", "off", true},
		{"this instance", "on", false},
		{"this instance", "on", true},
		{"this instance", "no-void", false},
	} {
		t.Run(fmt.Sprintf("%s/guard=%s/many=%v", c.filler, c.mode, c.many), func(t *testing.T) {
			t.Parallel()
			tt := newTiered(t)
			ctx := ctxT(t)
			// Without remembered misses: a read's absence must not be
			// what the next read returns, or the race would hide.
			w := tt.openNoNegative(t)
			const id = "d1"
			if err := w.Set(ctx, tt.schema, id, &Account{ID: id, Username: "zero"}); err != nil {
				t.Fatal(err)
			}
			tt.rdb.Del(ctx, "strata:"+tt.schema+":"+id)
			w.DropL1(tt.schema, id)
			w.SetInFlightGuardForTest(tt.schema, c.mode)
			filler := w
			if c.filler == "another instance" {
				filler = tt.openNoNegative(t)
			}

			// The filler's Get holds the lease and has read "zero".
			read, resume := make(chan struct{}), make(chan struct{})
			var first atomic.Bool
			filler.SetTestHookAfterL3Read(func(schema, i string) {
				if schema == tt.schema && i == id && first.CompareAndSwap(false, true) {
					close(read)
					<-resume
				}
			})
			filled := make(chan string, 1)
			go func() {
				filled <- readUsername(ctx, t, filler, tt.schema, id, false)
			}()
			<-read

			// The Delete commits and waits before its upkeep.
			held, release := make(chan struct{}), make(chan struct{})
			var once atomic.Bool
			w.SetTestHookBeforeInvalidate(func(schema string, ids []string) {
				if schema == tt.schema && once.CompareAndSwap(false, true) {
					close(held)
					<-release
				}
			})
			deleted := make(chan error, 1)
			go func() { deleted <- w.Delete(ctx, tt.schema, id) }()
			<-held

			r1 := readUsername(ctx, t, w, tt.schema, id, c.many)
			close(resume)
			if got := <-filled; got != "zero" {
				t.Fatalf("the held reader read %q, want the row before the Delete", got)
			}
			tt.cachedInRedis(t, id) // its fill runs after its Get returned
			r2 := readUsername(ctx, t, w, tt.schema, id, c.many)
			close(release)
			if err := <-deleted; err != nil {
				t.Fatal(err)
			}
			if c.mode == "on" {
				if r1 != "(absent)" || r2 != "(absent)" {
					t.Fatalf("the writer's reads during its Delete's upkeep returned %q then %q; want the Delete seen by both", r1, r2)
				}
			} else if r1 != "(absent)" || r2 != "zero" {
				t.Fatalf("without the guard the reads should see the Delete and then the row again (proving the race is forced), got %q then %q", r1, r2)
			}
			if got := readUsername(ctx, t, w, tt.schema, id, false); got != "(absent)" {
				t.Errorf("after the Delete returned the writer reads %q", got)
			}
		})
	}
}

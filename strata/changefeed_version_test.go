package strata_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// feedApplied returns functions to note consumer's count of applied
// changes and to wait until its change feed has applied more than that.
func feedApplied(t *testing.T, consumer *strata.DataStore) (reset func(), wait func()) {
	var at atomic.Int64
	return func() { at.Store(int64(consumer.Stats().ChangeFeed.Changes)) }, func() {
		t.Helper()
		waitFor(t, "the change feed to apply the change", func() bool { return int64(consumer.Stats().ChangeFeed.Changes) > at.Load() })
	}
}

// TestChangeFeedKeepsANewerRefresh: the feed's invalidation of a change
// keeps a Redis value at least as new as the change (the writer's own
// refresh), instead of deleting it; with the version guard off it deletes
// it every time.
func TestChangeFeedKeepsANewerRefresh(t *testing.T) {
	for _, guarded := range []bool{true, false} {
		t.Run(fmt.Sprintf("guard=%v", guarded), func(t *testing.T) {
			e := newFeedEnv(t, testenv.RedisAddr(t))
			consumer, w := e.open(t, true), e.open(t, false)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			for _, ds := range []*strata.DataStore{consumer, w} {
				if err := ds.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
			}
			waitConsumer(t, consumer)
			consumer.DisableVersionGuardForTest(!guarded)
			rdb := redis.NewClient(&redis.Options{Addr: e.Redis})
			t.Cleanup(func() { rdb.Close() })
			key := "strata:" + e.Schema + ":k1"
			if err := w.Set(ctx, e.Schema, "k1", &feedRec{ID: "k1", V: 1}); err != nil {
				t.Fatal(err)
			}
			reset, wait := feedApplied(t, consumer)
			kept := 0
			const rounds = 5
			for i := range rounds {
				waitFor(t, "redis to hold k1", func() bool {
					read(t, w, e.Schema, "k1") // fills Redis at the row's version
					return rdb.Exists(ctx, key).Val() == 1
				})
				reset()
				if err := w.Set(ctx, e.Schema, "k1", &feedRec{ID: "k1", V: i + 2}); err != nil {
					t.Fatal(err)
				}
				wait()
				if rdb.Exists(ctx, key).Val() == 1 {
					kept++
				}
				if got := read(t, e.open(t, false), e.Schema, "k1"); got != i+2 {
					t.Fatalf("round %d: a fresh instance reads %d, PostgreSQL holds %d", i, got, i+2)
				}
			}
			t.Logf("the writer's refresh survived the feed's invalidation in %d of %d rounds", kept, rounds)
			if guarded && kept == 0 {
				t.Errorf("the feed deleted the writer's refresh (of the change's own version) in all %d rounds", rounds)
			}
			if !guarded && kept != 0 {
				t.Errorf("without the version guard the feed should delete the key every time, kept it %d times", kept)
			}
		})
	}
}

// TestChangeFeedSeesAVersionBumpedOutsideStrata: a row cached by Strata at
// some version is updated with plain pgx; the trigger gives the update a
// higher version, so the feed removes the cached copy and every instance
// reads the new value. With the trigger dropped the update keeps the old
// version and the feed keeps the stale copy (proving the trigger is what
// makes writes outside Strata visible).
func TestChangeFeedSeesAVersionBumpedOutsideStrata(t *testing.T) {
	for _, guarded := range []bool{true, false} {
		t.Run(fmt.Sprintf("trigger=%v", guarded), func(t *testing.T) {
			e := newFeedEnv(t, testenv.RedisAddr(t))
			consumer, w := e.open(t, true), e.open(t, false)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			for _, ds := range []*strata.DataStore{consumer, w} {
				if err := ds.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
			}
			waitConsumer(t, consumer)
			conn := e.pgx(t)
			reset, wait := feedApplied(t, consumer)
			reset()
			if err := w.Set(ctx, e.Schema, "x1", &feedRec{ID: "x1", V: 1}); err != nil {
				t.Fatal(err)
			}
			wait() // the insert's own change, which would remove a fill made before it
			rdb := redis.NewClient(&redis.Options{Addr: e.Redis})
			t.Cleanup(func() { rdb.Close() })
			waitFor(t, "redis to hold x1", func() bool {
				read(t, w, e.Schema, "x1") // fills Redis at the row's version
				return rdb.Exists(ctx, "strata:"+e.Schema+":x1").Val() == 1
			})
			if !guarded {
				e.exec(t, conn, `DROP TRIGGER strata_ver_bump ON %s`)
			}
			reset()
			e.exec(t, conn, `UPDATE %s SET v = 2 WHERE id = 'x1'`)
			wait()
			got := read(t, e.open(t, false), e.Schema, "x1")
			if guarded && got != 2 {
				t.Errorf("after the feed applied a write made with pgx, a fresh instance reads %d, PostgreSQL holds 2", got)
			}
			if !guarded && got != 1 {
				t.Errorf("without the trigger the stale copy should stay (proving the test depends on it), read %d", got)
			}
		})
	}
}

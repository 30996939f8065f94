package strata_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// TestChangeFeedKeepsANewerRefresh: the feed's invalidation of a change
// keeps a Redis value at least as new as the change (the writer's own
// refresh), instead of deleting it; with the version guard off it deletes
// it every time.
//
// Each round is exact, so that one round cannot spoil the next (CI run
// 24b failed "deleted the writer's refresh in all 5 rounds" when it was
// not):
//   - before the Set, Redis holds a versioned value of k1: a fill lease
//     marker does not count (a Get's fill lands after it returns, and a
//     refresh that finds the lease voids it), and the fresh readers
//     migrate, so their fills are versioned too (an unversioned fill is
//     deleted, not refreshed, by the next Set);
//   - the consumer applies the Set's change only after the Set returned
//     (feedGate): the other order, the feed first, deletes the older value
//     and the refresh then never recreates the key — right, but nothing
//     this test could check the guard with;
//   - the test waits for the feed to have applied exactly the changes
//     made so far, counted from the first write.
func TestChangeFeedKeepsANewerRefresh(t *testing.T) {
	t.Parallel()
	for _, guarded := range []bool{true, false} {
		t.Run(fmt.Sprintf("guard=%v", guarded), func(t *testing.T) {
			t.Parallel()
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
			key := "strata:" + e.Schema + ":k1"
			gate := newFeedGate(key)
			consumer.AddRedisHookForTest(gate)
			rdb := redis.NewClient(&redis.Options{Addr: e.Redis})
			t.Cleanup(func() { rdb.Close() })
			conn := e.pgx(t)
			if err := w.Set(ctx, e.Schema, "k1", &feedRec{ID: "k1", V: 1}); err != nil {
				t.Fatal(err)
			}
			writes := 1
			waitFeedChanges(t, consumer, writes)
			const rounds = 5
			for i := range rounds {
				before := waitVersionedInRedis(t, rdb, key, func() {
					read(t, w, e.Schema, "k1") // fills Redis at the row's version
				})
				hold := gate.hold()
				if err := w.Set(ctx, e.Schema, "k1", &feedRec{ID: "k1", V: i + 2}); err != nil {
					t.Fatal(err)
				}
				writes++
				ver := rowVersionOf(t, conn, e.Schema, "k1")
				refreshed, ok := versionInRedis(t, rdb, key)
				hold() // the feed may apply the Set's change now
				if !ok || refreshed != ver || ver <= before {
					t.Fatalf("round %d: after the Set, redis holds version %d (present %v), want the Set's %d over %d: the writer's refresh did not land", i, refreshed, ok, ver, before)
				}
				waitFeedChanges(t, consumer, writes)
				after, kept := versionInRedis(t, rdb, key)
				switch {
				case guarded && (!kept || after != ver):
					t.Errorf("round %d: the feed's invalidation of version %d left version %d (present %v): it should keep the writer's refresh of the change's own version", i, ver, after, kept)
				case !guarded && kept:
					t.Errorf("round %d: without the version guard the feed should delete the key, it holds version %d", i, after)
				}
				if got := read(t, e.openMigrated(t), e.Schema, "k1"); got != i+2 {
					t.Fatalf("round %d: a fresh instance reads %d, PostgreSQL holds %d", i, got, i+2)
				}
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
	t.Parallel()
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
			if err := w.Set(ctx, e.Schema, "x1", &feedRec{ID: "x1", V: 1}); err != nil {
				t.Fatal(err)
			}
			waitFeedChanges(t, consumer, 1) // the insert's own change, which would remove a fill made before it
			rdb := redis.NewClient(&redis.Options{Addr: e.Redis})
			t.Cleanup(func() { rdb.Close() })
			// A versioned value, not the lease of a fill still on its way:
			// the feed would remove that lease, and the fill with it.
			waitVersionedInRedis(t, rdb, "strata:"+e.Schema+":x1", func() {
				read(t, w, e.Schema, "x1") // fills Redis at the row's version
			})
			if !guarded {
				e.exec(t, conn, `DROP TRIGGER strata_ver_bump ON %s`)
			}
			e.exec(t, conn, `UPDATE %s SET v = 2 WHERE id = 'x1'`)
			waitFeedChanges(t, consumer, 2)
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

// TestChangeFeedKeepsTheConsumersNewerL1Entry: on the instance that
// streams the slot, the feed's invalidation of a Set made there keeps the
// L1 entry the Set refreshed (it holds the change's own version), so the
// writer's next read is still an L1 hit; with the version guard off it
// drops it.
func TestChangeFeedKeepsTheConsumersNewerL1Entry(t *testing.T) {
	t.Parallel()
	for _, guarded := range []bool{true, false} {
		t.Run(fmt.Sprintf("guard=%v", guarded), func(t *testing.T) {
			t.Parallel()
			e := newFeedEnv(t, testenv.RedisAddr(t))
			ctx := ctxT(t)
			c := e.open(t, true)
			if err := c.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			waitConsumer(t, c)
			c.DisableVersionGuardForTest(!guarded)
			conn := e.pgx(t)
			for i := 1; i <= 3; i++ {
				if err := c.Set(ctx, e.Schema, "k", &feedRec{ID: "k", V: i}); err != nil {
					t.Fatal(err)
				}
				if !guarded {
					continue // (the refresh itself is a plain store then)
				}
				if v, ok := c.L1Version(e.Schema, "k"); !ok || v != rowVersionOf(t, conn, e.Schema, "k") {
					t.Fatalf("write %d: L1 holds version %d (present %v) after the Set, want the row's", i, v, ok)
				}
			}
			waitFeedChanges(t, c, 3)
			_, held := c.L1Version(e.Schema, "k")
			switch {
			case guarded && !held:
				t.Error("the feed's invalidation dropped the writer's refreshed L1 entry, which holds the change's version")
			case !guarded && held:
				t.Error("without the version guard the feed should drop the entry (proving the test reaches it)")
			}
		})
	}
}

package strata_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata"
)

// TestWarmCacheWriteDuringWarmWins: a write (through another instance)
// lands after WarmCache has read a page from L3 and before it fills the
// caches. The write wins: no tier keeps the page's older value. With the
// L2 lease switched off the older value does land in Redis, which shows the
// test catches the race. Its hook and lease switch belong to its own
// DataStore and each case has its own schema, so it runs in parallel.
func TestWarmCacheWriteDuringWarmWins(t *testing.T) {
	t.Parallel()
	for _, guarded := range []bool{true, false} {
		t.Run(fmt.Sprintf("lease=%v", guarded), func(t *testing.T) {
			t.Parallel()
			tt := newTiered(t)
			ctx := ctxT(t)
			other := tt.open(t)
			pairs := map[string]any{}
			for i := range 10 {
				id := fmt.Sprintf("w%02d", i)
				pairs[id] = &Account{ID: id, Username: id, Score: 1}
			}
			if err := tt.ds.SetMany(ctx, tt.schema, pairs); err != nil {
				t.Fatal(err)
			}
			if err := tt.ds.InvalidateAll(ctx, tt.schema); err != nil {
				t.Fatal(err)
			}
			var once sync.Once
			tt.ds.SetTestHookWarmBeforeFill(func(schema string, _ []string) {
				if schema != tt.schema {
					return
				}
				once.Do(func() { // the page holds w03 at score 1; now it changes
					if err := other.Set(ctx, tt.schema, "w03", &Account{ID: "w03", Username: "w03", Score: 2}); err != nil {
						t.Error(err)
					}
				})
			})
			tt.ds.DisableL2LeaseForTest(!guarded)
			t.Cleanup(func() {
				tt.ds.SetTestHookWarmBeforeFill(nil)
				tt.ds.DisableL2LeaseForTest(false)
			})
			if err := tt.ds.WarmCache(ctx, tt.schema, 0); err != nil {
				t.Fatal(err)
			}
			tt.ds.SetTestHookWarmBeforeFill(nil)
			tt.ds.DisableL2LeaseForTest(false)

			// L2, as a fresh instance reads it.
			fresh := tt.open(t)
			got, err := strata.GetTyped[Account](ctx, fresh, tt.schema, "w03")
			if err != nil {
				t.Fatal(err)
			}
			if guarded && got.Score != 2 {
				t.Errorf("after WarmCache with a write in the middle, L2 serves score %d; want the write's 2", got.Score)
			}
			if !guarded && got.Score != 1 {
				t.Errorf("with the lease off L2 serves score %d; want the stale 1 (the race did not happen)", got.Score)
			}
			if !guarded {
				return
			}
			// The warming instance's L1 converges on the write too.
			waitFor(t, "the warming instance to serve the write", func() bool {
				a, err := strata.GetTyped[Account](ctx, tt.ds, tt.schema, "w03")
				return err == nil && a.Score == 2
			})
			if n := tt.ds.L1Len(tt.schema); n < 9 {
				t.Errorf("WarmCache left %d entries in L1, want at least the 9 untouched", n)
			}
		})
	}
}

// redisRoundTrips counts a client's round trips for its callers: one per
// command sent alone, one per pipeline; connection handshakes are not
// counted.
type redisRoundTrips struct{ n atomic.Int64 }

func handshakeCmd(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "client", "auth", "select":
		return true
	}
	return false
}

func (r *redisRoundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *redisRoundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !handshakeCmd(cmd) {
			r.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (r *redisRoundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && !handshakeCmd(cmds[0]) {
			r.n.Add(1)
		}
		return next(ctx, cmds)
	}
}

// TestWarmCacheRedisRoundTrips: warming 2,000 records (4 pages of 500)
// costs a few Redis round trips per page, not one or two per record, and
// fills both caches.
func TestWarmCacheRedisRoundTrips(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	const n, pages = 2000, 4
	pairs := map[string]any{}
	for i := range n {
		id := fmt.Sprintf("r%04d", i)
		pairs[id] = &Account{ID: id, Username: id}
	}
	if err := tt.ds.SetMany(ctx, tt.schema, pairs); err != nil {
		t.Fatal(err)
	}
	if err := tt.ds.InvalidateAll(ctx, tt.schema); err != nil {
		t.Fatal(err)
	}
	var rt redisRoundTrips
	if !tt.ds.AddRedisHookForTest(&rt) {
		t.Fatal("the store has no Redis")
	}
	start := time.Now()
	if err := tt.ds.WarmCache(ctx, tt.schema, 0); err != nil {
		t.Fatal(err)
	}
	took, trips := time.Since(start), rt.n.Load()
	t.Logf("WarmCache of %d records (%d pages): %d Redis round trips, %v", n, pages, trips, took.Round(time.Millisecond))
	if limit := int64(3*pages + 10); trips > limit {
		t.Errorf("WarmCache made %d Redis round trips for %d pages; want at most %d", trips, pages, limit)
	}
	if got := tt.ds.L1Len(tt.schema); got != n {
		t.Errorf("L1 holds %d records after WarmCache, want %d", got, n)
	}
	keys := redisKeys(t, tt)
	records := 0
	for _, k := range keys {
		if len(k) == len("strata:"+tt.schema+":r0000") {
			records++
		}
	}
	if records != n {
		t.Errorf("L2 holds %d record keys after WarmCache, want %d", records, n)
	}
}

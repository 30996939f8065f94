package l1mem_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l1mem"
)

// TestCacheConcurrentSafe hammers every operation from several goroutines
// on a small cache so shards evict constantly; run it with -race.
func TestCacheConcurrentSafe(t *testing.T) {
	t.Parallel()
	for _, p := range allPolicies {
		t.Run(p.String(), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			clk := newFakeClock()
			c := mustNew(t, &l1mem.Options[int, int]{
				Shards: 4, MaxEntries: 16, Eviction: p, DefaultTTL: time.Second, Clock: clk,
				SweepInterval: time.Millisecond,
				OnEvict:       func(k, v int, _ l1mem.EvictReason) { _ = k + v },
			})
			var wg sync.WaitGroup
			for g := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(g), 7))
					for range 3000 {
						k := r.IntN(200)
						switch op := r.IntN(100); {
						case op < 50:
							if v, ok := c.Get(k); ok && v != k {
								t.Errorf("Get(%d) = %d", k, v)
								return
							}
						case op < 70:
							c.Set(k, k)
						case op < 75:
							_ = c.SetWithTTL(k, k, time.Duration(r.IntN(3))*time.Second)
						case op < 80:
							c.Delete(k)
						case op < 85:
							c.SetIfEpoch(k, k, c.Epoch(k))
						case op < 90:
							v, err := c.GetOrLoad(ctx, k, func(_ context.Context, k int) (int, error) { return k, nil })
							if err != nil || v != k {
								t.Errorf("GetOrLoad(%d) = %d, %v", k, v, err)
								return
							}
						case op < 92:
							clk.Advance(100 * time.Millisecond)
						case op < 93:
							c.Range(func(k, v int) bool { return k == v })
						case op < 94:
							c.Stats()
							c.Len()
						case op < 95:
							c.DeleteExpired()
						case op == 99 && r.IntN(20) == 0:
							c.Clear()
						default:
							c.Has(k)
						}
					}
				}()
			}
			wg.Wait()
			for i, n := range c.Stats().ShardSizes {
				if n > 16 {
					t.Fatalf("shard %d holds %d > 16", i, n)
				}
			}
		})
	}
}

// TestHotKeyConcurrentSafe has every goroutine read and write the same few
// keys, so the read buffer of one shard is contended and drained while
// readers keep recording into it.
func TestHotKeyConcurrentSafe(t *testing.T) {
	t.Parallel()
	c := mustNew(t, &l1mem.Options[int, int]{Shards: 1, MaxEntries: 4})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20000 {
				k := i % 6
				if g == 0 && i%10 == 0 {
					c.Set(k, k)
					continue
				}
				if v, ok := c.Get(k); ok && v != k {
					t.Errorf("Get(%d) = %d", k, v)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := c.Len(); n > 4 {
		t.Fatalf("Len = %d > 4", n)
	}
}

// TestGetExpiredRacingClearConcurrentSafe is the crash of issue 11 item 1:
// a Get that finds an expired entry removes it after leaving its read
// section, and a Clear in between shrank the shard's slab, so the removal
// indexed past its end. With entries that expire at once, every Get takes
// that path.
func TestGetExpiredRacingClearConcurrentSafe(t *testing.T) {
	t.Parallel()
	c := mustNew(t, &l1mem.Options[int, int]{Shards: 1, DefaultTTL: time.Nanosecond, DisableSweep: true})
	deadline := time.Now().Add(300 * time.Millisecond)
	var wg sync.WaitGroup
	var stop atomic.Bool
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				k := i % 64
				c.Set(k, k)
				if v, ok := c.Get(k); ok && v != k {
					t.Errorf("Get(%d) = %d", k, v)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			c.Clear()
		}
	}()
	time.Sleep(time.Until(deadline))
	stop.Store(true)
	wg.Wait()
}

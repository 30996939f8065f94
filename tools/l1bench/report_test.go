package l1bench

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l1mem"
)

func needReport(t *testing.T) {
	if os.Getenv("L1BENCH_REPORT") == "" {
		t.Skip("set L1BENCH_REPORT=1 to measure hit ratios and memory")
	}
}

// hitRatio replays requests Zipf(1.01) draws over Keys keys through c:
// a Get, and a Set on a miss.
func hitRatio(c Cache, requests int) float64 {
	z := Zipf(42, Keys)
	hits := 0
	for range requests {
		k := Key(z.Uint64())
		if _, ok := c.Get(k); ok {
			hits++
			continue
		}
		c.Set(k, ValueOf(1))
		if wt, ok := c.(waiter); ok {
			wt.Wait()
		}
	}
	return 100 * float64(hits) / float64(requests)
}

// exact builds a one-shard l1mem cache: the policy over the whole capacity
// rather than per shard.
func exact(p l1mem.EvictionPolicy) func(int, time.Duration) Cache {
	return func(n int, _ time.Duration) Cache {
		c, err := l1mem.New(&l1mem.Options[string, Value]{Shards: 1, MaxEntries: n, Eviction: p, DisableSweep: true})
		if err != nil {
			panic(err)
		}
		return l1memCache{c}
	}
}

func TestHitRatio(t *testing.T) {
	needReport(t)
	const requests = 2_000_000
	makers := []Maker{
		{"l1mem-lru, 1 shard", exact(l1mem.EvictLRU)},
		{"l1mem-lfu, 1 shard (exact LFU)", exact(l1mem.EvictLFU)},
		{"l1mem-lru", func(n int, ttl time.Duration) Cache { return newL1mem(n, ttl, l1mem.EvictLRU) }},
		{"l1mem-lfu", func(n int, ttl time.Duration) Cache { return newL1mem(n, ttl, l1mem.EvictLFU) }},
		{"l1mem-fifo", func(n int, ttl time.Duration) Cache { return newL1mem(n, ttl, l1mem.EvictFIFO) }},
		{"l1mem-tinylfu", func(n int, ttl time.Duration) Cache { return newL1mem(n, ttl, l1mem.EvictTinyLFU) }},
		{"otter", newOtter},
		{"ristretto", newRistretto},
		{"hashicorp (exact LRU)", newHashicorp},
	}
	fmt.Printf("| cache | hit %% @10k | hit %% @100k |\n|---|---|---|\n")
	only := os.Getenv("L1BENCH_ONLY")
	for _, m := range makers {
		if only != "" && !strings.Contains(m.Name, only) {
			continue
		}
		var r [2]float64
		for i, capacity := range []int{10_000, 100_000} {
			c := m.New(capacity, 0)
			r[i] = hitRatio(c, requests)
			c.Close()
		}
		fmt.Printf("| %s | %.2f | %.2f |\n", m.Name, r[0], r[1])
	}
}

type sizer interface{ Len() int }

func (c l1memCache) Len() int     { return c.c.Len() }
func (c otterCache) Len() int     { return c.c.EstimatedSize() }
func (c hashicorpCache) Len() int { return c.c.Len() }

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestBytesPerEntry fills each cache (capacity 100k, with a TTL) with 100k
// distinct keys and reports heap growth per resident entry. Keys are
// allocated beforehand and not counted.
func TestBytesPerEntry(t *testing.T) {
	needReport(t)
	const n = 100_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = Key(uint64(i))
	}
	makers := []Maker{
		{"l1mem-lru", func(n int, ttl time.Duration) Cache { return newL1mem(n*5/4, ttl, l1mem.EvictLRU) }},
		{"l1mem-tinylfu", func(n int, ttl time.Duration) Cache { return newL1mem(n*5/4, ttl, l1mem.EvictTinyLFU) }},
		{"otter", newOtter},
		{"hashicorp", newHashicorp},
	}
	fmt.Printf("| cache (TTL 1h) | resident | bytes/entry |\n|---|---|---|\n")
	for _, m := range makers {
		before := heap()
		c := m.New(n, time.Hour)
		for i, k := range keys {
			c.Set(k, ValueOf(i))
		}
		after := heap()
		resident := c.(sizer).Len()
		fmt.Printf("| %s | %d | %.1f |\n", m.Name, resident, float64(after-before)/float64(resident))
		runtime.KeepAlive(c)
		c.Close()
	}
}

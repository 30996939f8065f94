package l1mem_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l1mem"
)

func mustNew[K comparable, V any](t testing.TB, o *l1mem.Options[K, V]) *l1mem.Cache[K, V] {
	t.Helper()
	c, err := l1mem.New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    *l1mem.Options[string, int]
		wantErr error
	}{
		{"nil means defaults", nil, nil},
		{"zero value", &l1mem.Options[string, int]{}, nil},
		{"one shard", &l1mem.Options[string, int]{Shards: 1}, nil},
		{"shards not power of two", &l1mem.Options[string, int]{Shards: 3}, l1mem.ErrInvalidOptions},
		{"negative shards", &l1mem.Options[string, int]{Shards: -1}, l1mem.ErrInvalidOptions},
		{"too many shards", &l1mem.Options[string, int]{Shards: 1 << 17}, l1mem.ErrInvalidOptions},
		{"negative max entries", &l1mem.Options[string, int]{MaxEntries: -1}, l1mem.ErrInvalidOptions},
		{"unknown policy", &l1mem.Options[string, int]{Eviction: 99}, l1mem.ErrInvalidOptions},
		{"negative ttl", &l1mem.Options[string, int]{DefaultTTL: -time.Second}, l1mem.ErrInvalidOptions},
		{"negative sweep", &l1mem.Options[string, int]{SweepInterval: -time.Second}, l1mem.ErrInvalidOptions},
		{"negative load timeout", &l1mem.Options[string, int]{LoadTimeout: -time.Second}, l1mem.ErrInvalidOptions},
		{"every policy", &l1mem.Options[string, int]{MaxEntries: 10, Eviction: l1mem.EvictTinyLFU}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := l1mem.New(tt.opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("New() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if c != nil {
					t.Fatal("New returned a cache with an error")
				}
				if msg := err.Error(); len(msg) < 7 || msg[:7] != "l1mem: " {
					t.Fatalf("error %q lacks the l1mem: prefix", msg)
				}
				return
			}
			_ = c.Close()
		})
	}
}

var allPolicies = []l1mem.EvictionPolicy{l1mem.EvictLRU, l1mem.EvictLFU, l1mem.EvictFIFO, l1mem.EvictTinyLFU}

func TestBasicOperations(t *testing.T) {
	t.Parallel()
	for _, p := range allPolicies {
		t.Run(p.String(), func(t *testing.T) {
			t.Parallel()
			c := mustNew(t, &l1mem.Options[string, int]{MaxEntries: 100, Eviction: p})
			if _, ok := c.Get("a"); ok {
				t.Fatal("Get on empty cache hit")
			}
			c.Set("a", 1)
			c.Set("b", 2)
			if v, ok := c.Get("a"); !ok || v != 1 {
				t.Fatalf("Get(a) = %v, %v; want 1, true", v, ok)
			}
			c.Set("a", 3)
			if v, _ := c.Get("a"); v != 3 {
				t.Fatalf("Get(a) after overwrite = %v, want 3", v)
			}
			if !c.Has("b") || c.Has("zz") {
				t.Fatal("Has is wrong")
			}
			if n := c.Len(); n != 2 {
				t.Fatalf("Len = %d, want 2", n)
			}
			if !c.Delete("a") || c.Delete("a") {
				t.Fatal("Delete should report presence once")
			}
			if c.Has("a") {
				t.Fatal("deleted key still present")
			}
			st := c.Stats()
			if st.Hits != 2 || st.Misses != 1 || st.Entries != 1 || len(st.ShardSizes) != l1mem.DefaultShards {
				t.Fatalf("Stats = %+v", st)
			}
			c.Clear()
			if c.Len() != 0 || c.Has("b") {
				t.Fatal("Clear left entries")
			}
		})
	}
}

func TestIntegerAndStructKeys(t *testing.T) {
	t.Parallel()
	type point struct{ X, Y int }
	ci := mustNew[int64, string](t, nil)
	cs := mustNew[point, int](t, nil)
	ci.Set(42, "x")
	cs.Set(point{1, 2}, 3)
	if v, ok := ci.Get(42); !ok || v != "x" {
		t.Fatal("int64 key lost")
	}
	if v, ok := cs.Get(point{1, 2}); !ok || v != 3 {
		t.Fatal("struct key lost")
	}
	if _, ok := cs.Get(point{2, 1}); ok {
		t.Fatal("struct key collision")
	}
}

func TestCapacityPerShard(t *testing.T) {
	t.Parallel()
	for _, p := range allPolicies {
		t.Run(p.String(), func(t *testing.T) {
			t.Parallel()
			c := mustNew(t, &l1mem.Options[int, int]{Shards: 4, MaxEntries: 8, Eviction: p})
			for i := range 1000 {
				c.Set(i, i)
			}
			st := c.Stats()
			for i, n := range st.ShardSizes {
				if n > 8 {
					t.Fatalf("shard %d holds %d > 8", i, n)
				}
			}
			if st.Entries != c.Len() || st.Entries > 32 || st.Evictions != uint64(1000-st.Entries) {
				t.Fatalf("Stats = %+v, Len = %d", st, c.Len())
			}
		})
	}
}

func TestLRUOrder(t *testing.T) {
	t.Parallel()
	c := mustNew(t, &l1mem.Options[string, int]{Shards: 1, MaxEntries: 3})
	c.Set("a", 1)
	c.Set("b", 2)
	c.Set("c", 3)
	c.Get("a") // a is now the most recent; b is the oldest
	c.Set("d", 4)
	if c.Has("b") || !c.Has("a") || !c.Has("c") || !c.Has("d") {
		t.Fatal("LRU did not evict the least recently used key")
	}
}

func TestFIFOOrder(t *testing.T) {
	t.Parallel()
	c := mustNew(t, &l1mem.Options[string, int]{Shards: 1, MaxEntries: 3, Eviction: l1mem.EvictFIFO})
	c.Set("a", 1)
	c.Set("b", 2)
	c.Set("c", 3)
	c.Get("a")
	c.Set("d", 4)
	if c.Has("a") || !c.Has("b") {
		t.Fatal("FIFO did not evict the first inserted key")
	}
}

func TestLFUOrder(t *testing.T) {
	t.Parallel()
	c := mustNew(t, &l1mem.Options[string, int]{Shards: 1, MaxEntries: 3, Eviction: l1mem.EvictLFU})
	c.Set("a", 1)
	c.Set("b", 2)
	c.Set("c", 3)
	for range 3 {
		c.Get("a")
		c.Get("c")
	}
	c.Set("d", 4)
	if c.Has("b") || !c.Has("a") || !c.Has("c") {
		t.Fatal("LFU did not evict the least frequently used key")
	}
}

func TestTinyLFUKeepsFrequentKeys(t *testing.T) {
	t.Parallel()
	c := mustNew(t, &l1mem.Options[int, int]{Shards: 1, MaxEntries: 100, Eviction: l1mem.EvictTinyLFU})
	for round := range 20 {
		for k := range 50 {
			c.Set(k, k)
			c.Get(k)
		}
		// A scan of one-off keys must not flush the frequent ones.
		for k := range 200 {
			c.Set(1000+round*200+k, k)
		}
	}
	kept := 0
	for k := range 50 {
		if c.Has(k) {
			kept++
		}
	}
	if kept < 45 {
		t.Fatalf("TinyLFU kept %d of 50 frequent keys through scans", kept)
	}
}

type evictRecord struct {
	key    string
	value  int
	reason l1mem.EvictReason
}

type evictLog struct {
	mu  sync.Mutex
	got []evictRecord
}

func (l *evictLog) add(k string, v int, r l1mem.EvictReason) {
	l.mu.Lock()
	l.got = append(l.got, evictRecord{k, v, r})
	l.mu.Unlock()
}

func (l *evictLog) take() []evictRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	g := l.got
	l.got = nil
	sort.Slice(g, func(i, j int) bool { return g[i].key < g[j].key })
	return g
}

func TestOnEvictReasons(t *testing.T) {
	t.Parallel()
	var log evictLog
	clk := newFakeClock()
	c := mustNew(t, &l1mem.Options[string, int]{
		Shards: 1, MaxEntries: 2, OnEvict: log.add, Clock: clk, DisableSweep: true,
	})
	steps := []struct {
		name string
		do   func()
		want []evictRecord
	}{
		{"replace", func() { c.Set("a", 1); c.Set("a", 2) }, []evictRecord{{"a", 1, l1mem.ReasonReplaced}}},
		{"capacity", func() { c.Set("b", 3); c.Set("c", 4) }, []evictRecord{{"a", 2, l1mem.ReasonCapacity}}},
		{"delete", func() { c.Delete("b") }, []evictRecord{{"b", 3, l1mem.ReasonDeleted}}},
		{"delete absent", func() { c.Delete("nope") }, nil},
		{"expire on read", func() {
			_ = c.SetWithTTL("d", 5, time.Second)
			clk.Advance(2 * time.Second)
			c.Get("d")
		}, []evictRecord{{"d", 5, l1mem.ReasonExpired}}},
		{"expire by sweep", func() {
			_ = c.SetWithTTL("e", 6, time.Second)
			clk.Advance(2 * time.Second)
			if n := c.DeleteExpired(); n != 1 {
				t.Errorf("DeleteExpired = %d, want 1", n)
			}
		}, []evictRecord{{"e", 6, l1mem.ReasonExpired}}},
		{"clear", func() { c.Clear() }, []evictRecord{{"c", 4, l1mem.ReasonCleared}}},
	}
	for _, s := range steps {
		s.do()
		got := log.take()
		if fmt.Sprint(got) != fmt.Sprint(s.want) {
			t.Fatalf("%s: evictions = %v, want %v", s.name, got, s.want)
		}
	}
	if st := c.Stats(); st.Evictions != 1 || st.Expirations != 2 {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestOnEvictMayReenterCache(t *testing.T) {
	t.Parallel()
	var c *l1mem.Cache[int, int]
	c = mustNew(t, &l1mem.Options[int, int]{Shards: 1, MaxEntries: 1, OnEvict: func(k, v int, _ l1mem.EvictReason) {
		c.Has(k) // would deadlock if called under the shard lock
	}})
	c.Set(1, 1)
	c.Set(2, 2)
	c.Delete(2)
}

func TestRange(t *testing.T) {
	t.Parallel()
	c := mustNew[int, int](t, nil)
	for i := range 100 {
		c.Set(i, i*i)
	}
	seen := map[int]int{}
	c.Range(func(k, v int) bool {
		seen[k] = v
		c.Has(k) // Range runs fn without locks
		return true
	})
	if len(seen) != 100 || seen[7] != 49 {
		t.Fatalf("Range saw %d entries", len(seen))
	}
	n := 0
	c.Range(func(int, int) bool { n++; return n < 5 })
	if n != 5 {
		t.Fatalf("Range did not stop: %d calls", n)
	}
}

func TestSetWithTTLRejectsNegative(t *testing.T) {
	t.Parallel()
	c := mustNew[string, int](t, nil)
	if err := c.SetWithTTL("a", 1, -time.Second); !errors.Is(err, l1mem.ErrInvalidTTL) {
		t.Fatalf("err = %v, want ErrInvalidTTL", err)
	}
	if c.Has("a") {
		t.Fatal("negative TTL stored a value")
	}
}

func TestZeroAllocations(t *testing.T) {
	for _, p := range allPolicies {
		t.Run(p.String(), func(t *testing.T) {
			evicted := 0
			c := mustNew(t, &l1mem.Options[string, int]{
				MaxEntries: 1000, Eviction: p, DefaultTTL: time.Hour,
				OnEvict: func(string, int, l1mem.EvictReason) { evicted++ },
			})
			keys := make([]string, 64)
			for i := range keys {
				keys[i] = fmt.Sprintf("key-%d", i)
				c.Set(keys[i], i)
			}
			i := 0
			if a := testing.AllocsPerRun(1000, func() { c.Get(keys[i%64]); i++ }); a != 0 {
				t.Errorf("Get hit allocates %v", a)
			}
			ctx := context.Background()
			if a := testing.AllocsPerRun(1000, func() { _, _ = c.GetOrLoad(ctx, keys[i%64], loadNothing); i++ }); a != 0 {
				t.Errorf("GetOrLoad hit allocates %v", a)
			}
			if a := testing.AllocsPerRun(1000, func() { c.Set(keys[i%64], i); i++ }); a != 0 {
				t.Errorf("Set of an existing key allocates %v", a)
			}
			if evicted < 1000 {
				t.Errorf("OnEvict saw %d replacements", evicted)
			}
		})
	}
}

// loadNothing is a loader that captures nothing, as TestZeroAllocations
// needs: GetOrLoad keeps a capturing closure for a background load, so
// its caller allocates it even on a hit.
func loadNothing(context.Context, string) (int, error) { return 0, errors.New("not in the cache") }

func TestEvictReasonString(t *testing.T) {
	t.Parallel()
	for r, want := range map[l1mem.EvictReason]string{
		l1mem.ReasonCapacity: "capacity", l1mem.ReasonExpired: "expired", l1mem.ReasonDeleted: "deleted",
		l1mem.ReasonReplaced: "replaced", l1mem.ReasonCleared: "cleared", 0: "unknown",
	} {
		if r.String() != want {
			t.Errorf("%d.String() = %q, want %q", r, r.String(), want)
		}
	}
	if l1mem.EvictTinyLFU.String() != "tinylfu" || l1mem.EvictionPolicy(9).String() == "" {
		t.Error("EvictionPolicy.String is wrong")
	}
}

// TestIndexAgainstMap churns one unbounded shard through growth and
// backward-shift deletion and compares it with a map.
func TestIndexAgainstMap(t *testing.T) {
	t.Parallel()
	c := mustNew(t, &l1mem.Options[int, int]{Shards: 1})
	want := map[int]int{}
	r := uint64(1)
	for step := range 200_000 {
		r = r*6364136223846793005 + 1442695040888963407
		k := int(r>>40) % 5000
		switch {
		case r>>20&3 == 0:
			if c.Delete(k) != (want[k] != 0) {
				t.Fatalf("step %d: Delete(%d) disagrees", step, k)
			}
			delete(want, k)
		default:
			c.Set(k, step+1)
			want[k] = step + 1
		}
	}
	if c.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", c.Len(), len(want))
	}
	for k := range 5000 {
		v, ok := c.Get(k)
		if ok != (want[k] != 0) || v != want[k] {
			t.Fatalf("Get(%d) = %d, %v; want %d", k, v, ok, want[k])
		}
	}
}

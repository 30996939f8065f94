package l1mem_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l1mem"
	"pgregory.net/rapid"
)

// refEntry is one entry of the reference model.
type refEntry struct {
	val    int
	exp    int64 // fake-clock nanoseconds; 0 = never
	bucket int   // LFU use count - 1, saturating at 63
	touch  int64 // tick of the last use (LRU/LFU order)
	ins    int64 // tick of insertion (FIFO order)
}

// refCache is a deliberately naive cache with the documented semantics of
// one shard: linear scans instead of lists, maps instead of slabs.
type refCache struct {
	policy l1mem.EvictionPolicy
	cap    int
	m      map[int]*refEntry
	tick   int64
}

func (r *refCache) use(e *refEntry) {
	r.tick++
	switch r.policy {
	case l1mem.EvictLRU:
		e.touch = r.tick
	case l1mem.EvictLFU:
		if e.bucket < 63 {
			e.bucket++
		}
		e.touch = r.tick
	}
}

// victim returns the key the policy evicts, or -1 when it cannot be
// predicted (TinyLFU).
func (r *refCache) victim() int {
	best, bk := (*refEntry)(nil), -1
	for k, e := range r.m {
		if best == nil || r.less(e, best) {
			best, bk = e, k
		}
	}
	return bk
}

func (r *refCache) less(a, b *refEntry) bool {
	switch r.policy {
	case l1mem.EvictFIFO:
		return a.ins < b.ins
	case l1mem.EvictLFU:
		if a.bucket != b.bucket {
			return a.bucket < b.bucket
		}
	}
	return a.touch < b.touch
}

func (r *refCache) set(k, v int, exp int64) {
	if e, ok := r.m[k]; ok {
		e.val, e.exp = v, exp
		r.use(e)
		return
	}
	if r.cap > 0 && len(r.m) >= r.cap && r.policy != l1mem.EvictTinyLFU {
		delete(r.m, r.victim())
	}
	r.tick++
	r.m[k] = &refEntry{val: v, exp: exp, touch: r.tick, ins: r.tick}
}

func expired(e *refEntry, now int64) bool { return e.exp != 0 && e.exp <= now }

// TestModel drives each policy through random operations on one shard and
// compares every result, and the full contents, with refCache.
func TestModel(t *testing.T) {
	t.Parallel()
	for _, p := range allPolicies {
		t.Run(p.String(), func(t *testing.T) {
			t.Parallel()
			rapid.Check(t, func(rt *rapid.T) { runModel(rt, p) })
		})
	}
}

func runModel(t *rapid.T, p l1mem.EvictionPolicy) {
	capacity := rapid.IntRange(1, 8).Draw(t, "capacity")
	clk := newFakeClock()
	base := clk.Now().UnixNano()
	c, err := l1mem.New(&l1mem.Options[int, int]{
		Shards: 1, MaxEntries: capacity, Eviction: p, Clock: clk, DisableSweep: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetExact()
	ref := &refCache{policy: p, cap: capacity, m: map[int]*refEntry{}}
	now := func() int64 { return clk.Now().UnixNano() - base }
	deadline := func(ttl time.Duration) int64 {
		if ttl == 0 {
			return 0
		}
		return now() + int64(ttl)
	}
	key := rapid.IntRange(0, 12)
	inserted := -1 // key just written, for the TinyLFU contents check

	t.Repeat(map[string]func(*rapid.T){
		"Get": func(t *rapid.T) {
			k := key.Draw(t, "key")
			v, ok := c.Get(k)
			e, want := ref.m[k]
			if want && expired(e, now()) {
				delete(ref.m, k)
				want = false
			}
			if ok != want || (ok && v != e.val) {
				t.Fatalf("Get(%d) = %d, %v; model has %v", k, v, ok, e)
			}
			if ok {
				ref.use(e)
			}
		},
		"Set": func(t *rapid.T) {
			k, v := key.Draw(t, "key"), rapid.Int().Draw(t, "val")
			c.Set(k, v)
			ref.set(k, v, 0)
			inserted = k
		},
		"SetWithTTL": func(t *rapid.T) {
			k, v := key.Draw(t, "key"), rapid.Int().Draw(t, "val")
			ttl := time.Duration(rapid.IntRange(0, 3).Draw(t, "ttl")) * time.Second
			if err := c.SetWithTTL(k, v, ttl); err != nil {
				t.Fatal(err)
			}
			ref.set(k, v, deadline(ttl))
			inserted = k
		},
		"SetIfEpoch": func(t *rapid.T) {
			k, v := key.Draw(t, "key"), rapid.Int().Draw(t, "val")
			if !c.SetIfEpoch(k, v, c.Epoch(k)) {
				t.Fatalf("SetIfEpoch(%d) with a fresh epoch refused", k)
			}
			ref.set(k, v, 0)
			inserted = k
		},
		"Delete": func(t *rapid.T) {
			k := key.Draw(t, "key")
			_, want := ref.m[k]
			if got := c.Delete(k); got != want {
				t.Fatalf("Delete(%d) = %v, want %v", k, got, want)
			}
			delete(ref.m, k)
		},
		"Has": func(t *rapid.T) {
			k := key.Draw(t, "key")
			e, want := ref.m[k]
			want = want && !expired(e, now())
			if got := c.Has(k); got != want {
				t.Fatalf("Has(%d) = %v, want %v", k, got, want)
			}
		},
		"Advance": func(t *rapid.T) {
			clk.Advance(time.Duration(rapid.IntRange(1, 2000).Draw(t, "ms")) * time.Millisecond)
		},
		"DeleteExpired": func(t *rapid.T) {
			want := 0
			for k, e := range ref.m {
				if expired(e, now()) {
					delete(ref.m, k)
					want++
				}
			}
			if got := c.DeleteExpired(); got != want {
				t.Fatalf("DeleteExpired = %d, want %d", got, want)
			}
		},
		"Clear": func(t *rapid.T) {
			c.Clear()
			clear(ref.m)
		},
		"": func(t *rapid.T) {
			checkContents(t, c, ref, now(), inserted)
			inserted = -1
		},
	})
}

// checkContents compares the whole cache with the model. For TinyLFU,
// whose victims the model cannot predict, the cache may hold fewer entries
// than the model; the model then drops what the cache evicted.
func checkContents(t *rapid.T, c *l1mem.Cache[int, int], ref *refCache, now int64, inserted int) {
	got := map[int]int{}
	c.Range(func(k, v int) bool { got[k] = v; return true })
	if c.Len() > ref.cap {
		t.Fatalf("Len %d exceeds capacity %d", c.Len(), ref.cap)
	}
	if ref.policy == l1mem.EvictTinyLFU {
		for k := range ref.m {
			if !c.Holds(k) {
				delete(ref.m, k)
			}
		}
		if inserted >= 0 && c.Len() == 0 {
			t.Fatalf("after writing %d the cache is empty", inserted)
		}
	}
	want := map[int]int{}
	for k, e := range ref.m {
		if !expired(e, now) {
			want[k] = e.val
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("contents = %v, model = %v", got, want)
	}
	if ref.policy != l1mem.EvictTinyLFU && c.Len() != len(ref.m) {
		t.Fatalf("Len = %d, model holds %d", c.Len(), len(ref.m))
	}
}

package l1mem_test

import (
	"container/list"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/AndrewDonelson/strata/l1mem"
)

// The benchmark workload: a Zipf (s=1.01) stream over 1M keys against a
// cache of 100k entries (256 shards x 390).
const (
	benchKeys     = 1_000_000
	benchCapacity = 100_000
	benchShards   = 256
	benchStream   = 1 << 20
	benchHotKeys  = 50_000 // ranks used for the Get-hit stream: all fit
)

var (
	benchOnce    sync.Once
	benchAll     []string // Zipf stream over benchKeys ranks
	benchHits    []string // Zipf stream restricted to the top benchHotKeys ranks
	benchHotSet  []string // the top benchHotKeys keys, for prefilling
	benchWriteOp []bool   // 10% true: the 90/10 mix
)

func benchData() {
	benchOnce.Do(func() {
		r := rand.New(rand.NewPCG(1, 2))
		z := rand.NewZipf(r, 1.01, 1, benchKeys-1)
		benchAll = make([]string, benchStream)
		benchHits = make([]string, 0, benchStream)
		benchWriteOp = make([]bool, benchStream)
		for i := range benchAll {
			k := z.Uint64()
			benchAll[i] = "key:" + strconv.FormatUint(k, 10)
			benchWriteOp[i] = r.IntN(10) == 0
		}
		for len(benchHits) < benchStream {
			if k := z.Uint64(); k < benchHotKeys {
				benchHits = append(benchHits, "key:"+strconv.FormatUint(k, 10))
			}
		}
		for k := range benchHotKeys {
			benchHotSet = append(benchHotSet, "key:"+strconv.Itoa(k))
		}
	})
}

// benchCache is the surface every benchmarked cache offers.
type benchCache interface {
	Get(string) (int, bool)
	Set(string, int)
}

type l1memBench struct{ c *l1mem.Cache[string, int] }

func (b l1memBench) Get(k string) (int, bool) { return b.c.Get(k) }
func (b l1memBench) Set(k string, v int)      { b.c.Set(k, v) }

func newL1mem(b *testing.B, p l1mem.EvictionPolicy) benchCache {
	c, err := l1mem.New(&l1mem.Options[string, int]{
		MaxEntries: benchCapacity / benchShards, Eviction: p, DisableSweep: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	return l1memBench{c}
}

// mutexLRU is the baseline: 256 shards, each a mutex around a map and a
// container/list; every hit takes the exclusive lock to move the entry.
type mutexLRU struct{ shards [benchShards]lruShard }

type lruShard struct {
	mu  sync.Mutex
	m   map[string]*list.Element
	l   list.List
	cap int
	_   [40]byte
}

type lruItem struct {
	k string
	v int
}

func newMutexLRU(capacity int) *mutexLRU {
	c := &mutexLRU{}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*list.Element)
		c.shards[i].cap = capacity / benchShards
	}
	return c
}

func fnv(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

func (c *mutexLRU) Get(k string) (int, bool) {
	s := &c.shards[fnv(k)%benchShards]
	s.mu.Lock()
	e, ok := s.m[k]
	if !ok {
		s.mu.Unlock()
		return 0, false
	}
	s.l.MoveToFront(e)
	v := e.Value.(*lruItem).v
	s.mu.Unlock()
	return v, true
}

func (c *mutexLRU) Set(k string, v int) {
	s := &c.shards[fnv(k)%benchShards]
	s.mu.Lock()
	if e, ok := s.m[k]; ok {
		e.Value.(*lruItem).v = v
		s.l.MoveToFront(e)
		s.mu.Unlock()
		return
	}
	s.m[k] = s.l.PushFront(&lruItem{k, v})
	if s.l.Len() > s.cap {
		e := s.l.Back()
		s.l.Remove(e)
		delete(s.m, e.Value.(*lruItem).k)
	}
	s.mu.Unlock()
}

var benchSeed atomic.Uint64

func runGetHitParallel(b *testing.B, c benchCache) {
	benchData()
	for i, k := range benchHotSet {
		c.Set(k, i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(benchSeed.Add(7919) * 104729 % benchStream)
		for pb.Next() {
			if _, ok := c.Get(benchHits[i&(benchStream-1)]); !ok {
				panic("miss in hit benchmark")
			}
			i++
		}
	})
}

func runGetHitSingle(b *testing.B, c benchCache) {
	benchData()
	for i, k := range benchHotSet {
		c.Set(k, i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := c.Get(benchHits[i&(benchStream-1)]); !ok {
			panic("miss in hit benchmark")
		}
		i++
	}
}

func warm(c benchCache) {
	for i, k := range benchAll {
		c.Set(k, i)
	}
}

func runMixParallel(b *testing.B, c benchCache) {
	benchData()
	warm(c)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(benchSeed.Add(7919) * 104729 % benchStream)
		for pb.Next() {
			j := i & (benchStream - 1)
			if benchWriteOp[j] {
				c.Set(benchAll[j], j)
			} else {
				c.Get(benchAll[j])
			}
			i++
		}
	})
}

func runSetParallel(b *testing.B, c benchCache) {
	benchData()
	warm(c)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(benchSeed.Add(7919) * 104729 % benchStream)
		for pb.Next() {
			j := i & (benchStream - 1)
			c.Set(benchAll[j], j)
			i++
		}
	})
}

func BenchmarkGetHitParallel(b *testing.B) {
	b.Run("l1mem-lru", func(b *testing.B) { runGetHitParallel(b, newL1mem(b, l1mem.EvictLRU)) })
	b.Run("l1mem-tinylfu", func(b *testing.B) { runGetHitParallel(b, newL1mem(b, l1mem.EvictTinyLFU)) })
	b.Run("Baseline-mutexlru", func(b *testing.B) { runGetHitParallel(b, newMutexLRU(benchCapacity)) })
}

func BenchmarkGetHitSingle(b *testing.B) {
	b.Run("l1mem-lru", func(b *testing.B) { runGetHitSingle(b, newL1mem(b, l1mem.EvictLRU)) })
	b.Run("l1mem-tinylfu", func(b *testing.B) { runGetHitSingle(b, newL1mem(b, l1mem.EvictTinyLFU)) })
	b.Run("Baseline-mutexlru", func(b *testing.B) { runGetHitSingle(b, newMutexLRU(benchCapacity)) })
}

func BenchmarkMix9010Parallel(b *testing.B) {
	b.Run("l1mem-lru", func(b *testing.B) { runMixParallel(b, newL1mem(b, l1mem.EvictLRU)) })
	b.Run("l1mem-tinylfu", func(b *testing.B) { runMixParallel(b, newL1mem(b, l1mem.EvictTinyLFU)) })
	b.Run("Baseline-mutexlru", func(b *testing.B) { runMixParallel(b, newMutexLRU(benchCapacity)) })
}

func BenchmarkSetParallel(b *testing.B) {
	b.Run("l1mem-lru", func(b *testing.B) { runSetParallel(b, newL1mem(b, l1mem.EvictLRU)) })
	b.Run("l1mem-tinylfu", func(b *testing.B) { runSetParallel(b, newL1mem(b, l1mem.EvictTinyLFU)) })
	b.Run("Baseline-mutexlru", func(b *testing.B) { runSetParallel(b, newMutexLRU(benchCapacity)) })
}

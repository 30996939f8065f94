package l1bench

import (
	"container/list"
	"hash/maphash"
	"sync"
	"time"

	"github.com/AndrewDonelson/strata/l1mem"
	"github.com/dgraph-io/ristretto/v2"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/maypok86/otter/v2"
)

// Shards is the shard count of l1mem and of the mutex LRU baseline.
const Shards = 256

// Cache is the surface every compared cache offers.
type Cache interface {
	Get(string) (Value, bool)
	// Has reports whether the key is resident, without counting as a use
	// where the cache offers such a lookup.
	Has(string) bool
	Set(string, Value)
	Close()
}

// Maker builds a cache holding about capacity entries; ttl > 0 asks for
// expiry support (used by the memory measurement).
type Maker struct {
	Name string
	New  func(capacity int, ttl time.Duration) Cache
}

// Makers lists every compared cache.
var Makers = []Maker{
	{"l1mem-lru", func(n int, ttl time.Duration) Cache { return newL1mem(n, ttl, l1mem.EvictLRU) }},
	{"l1mem-tinylfu", func(n int, ttl time.Duration) Cache { return newL1mem(n, ttl, l1mem.EvictTinyLFU) }},
	{"otter", newOtter},
	{"ristretto", newRistretto},
	{"hashicorp", newHashicorp},
	{"mutexlru", func(n int, _ time.Duration) Cache { return NewMutexLRU(n) }},
}

type l1memCache struct{ c *l1mem.Cache[string, Value] }

func newL1mem(n int, ttl time.Duration, p l1mem.EvictionPolicy) Cache {
	c, err := l1mem.New(&l1mem.Options[string, Value]{
		MaxEntries: max(1, n/Shards), Eviction: p, DefaultTTL: ttl,
	})
	if err != nil {
		panic(err)
	}
	return l1memCache{c}
}

func (c l1memCache) Get(k string) (Value, bool) { return c.c.Get(k) }
func (c l1memCache) Has(k string) bool          { return c.c.Has(k) }
func (c l1memCache) Set(k string, v Value)      { c.c.Set(k, v) }
func (c l1memCache) Close()                     { _ = c.c.Close() }

type otterCache struct{ c *otter.Cache[string, Value] }

func newOtter(n int, ttl time.Duration) Cache {
	o := &otter.Options[string, Value]{MaximumSize: n}
	if ttl > 0 {
		o.ExpiryCalculator = otter.ExpiryWriting[string, Value](ttl)
	}
	return otterCache{otter.Must(o)}
}

func (c otterCache) Get(k string) (Value, bool) { return c.c.GetIfPresent(k) }
func (c otterCache) Has(k string) bool {
	_, ok := c.c.GetEntryQuietly(k)
	return ok
}
func (c otterCache) Set(k string, v Value) { c.c.Set(k, v) }
func (c otterCache) Close()                {}

type ristrettoCache struct {
	c   *ristretto.Cache[string, Value]
	ttl time.Duration
}

func newRistretto(n int, ttl time.Duration) Cache {
	c, err := ristretto.NewCache(&ristretto.Config[string, Value]{
		NumCounters: int64(10 * n), MaxCost: int64(n), BufferItems: 64,
		IgnoreInternalCost: true, // cost 1 per entry: MaxCost is an entry count
	})
	if err != nil {
		panic(err)
	}
	return ristrettoCache{c, ttl}
}

func (c ristrettoCache) Get(k string) (Value, bool) { return c.c.Get(k) }

// Has uses Get: ristretto has no lookup that is not a use.
func (c ristrettoCache) Has(k string) bool {
	_, ok := c.c.Get(k)
	return ok
}
func (c ristrettoCache) Set(k string, v Value) {
	if c.ttl > 0 {
		c.c.SetWithTTL(k, v, 1, c.ttl)
		return
	}
	c.c.Set(k, v, 1)
}
func (c ristrettoCache) Close() { c.c.Close() }

// Wait flushes ristretto's asynchronous write buffer.
func (c ristrettoCache) Wait() { c.c.Wait() }

type hashicorpCache struct{ c *lru.Cache[string, Value] }

func newHashicorp(n int, _ time.Duration) Cache {
	c, err := lru.New[string, Value](n)
	if err != nil {
		panic(err)
	}
	return hashicorpCache{c}
}

func (c hashicorpCache) Get(k string) (Value, bool) { return c.c.Get(k) }
func (c hashicorpCache) Has(k string) bool          { return c.c.Contains(k) }
func (c hashicorpCache) Set(k string, v Value)      { c.c.Add(k, v) }
func (c hashicorpCache) Close()                     {}

// MutexLRU is the plain baseline: 256 shards, each a mutex around a map and
// a container/list; every hit takes the exclusive lock to move the entry.
type MutexLRU struct {
	seed   maphash.Seed
	shards [Shards]mutexShard
}

type mutexShard struct {
	mu  sync.Mutex
	m   map[string]*list.Element
	l   list.List
	cap int
	_   [40]byte
}

type lruItem struct {
	k string
	v Value
}

// NewMutexLRU returns a baseline LRU holding about capacity entries.
func NewMutexLRU(capacity int) *MutexLRU {
	c := &MutexLRU{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*list.Element)
		c.shards[i].cap = max(1, capacity/Shards)
	}
	return c
}

func (c *MutexLRU) shard(k string) *mutexShard {
	return &c.shards[maphash.String(c.seed, k)%Shards]
}

// Get returns the value of k and moves it to the front.
func (c *MutexLRU) Get(k string) (Value, bool) {
	s := c.shard(k)
	s.mu.Lock()
	e, ok := s.m[k]
	if !ok {
		s.mu.Unlock()
		return Value{}, false
	}
	s.l.MoveToFront(e)
	v := e.Value.(*lruItem).v
	s.mu.Unlock()
	return v, true
}

// Has reports whether k is resident, without moving it.
func (c *MutexLRU) Has(k string) bool {
	s := c.shard(k)
	s.mu.Lock()
	_, ok := s.m[k]
	s.mu.Unlock()
	return ok
}

// Set stores k, evicting the shard's least recently used entry when full.
func (c *MutexLRU) Set(k string, v Value) {
	s := c.shard(k)
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

// Close does nothing.
func (c *MutexLRU) Close() {}

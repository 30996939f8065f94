package l1mem

import (
	"fmt"
	"math/bits"
	"time"
)

// EvictionPolicy chooses which entry a full shard gives up.
type EvictionPolicy uint8

const (
	// EvictLRU evicts the least recently used entry (reads and writes both
	// count as use), approximated as CLOCK for reads: see the package
	// documentation. This is the default.
	EvictLRU EvictionPolicy = iota
	// EvictLFU evicts the least frequently used entry, the least recently
	// used one among equals. Counts saturate at 64 and are forgotten when an
	// entry leaves the cache.
	EvictLFU
	// EvictFIFO evicts the oldest inserted entry; reads do not reorder.
	EvictFIFO
	// EvictTinyLFU is W-TinyLFU: a small LRU admission window in front of a
	// segmented LRU, and a frequency sketch that admits a newcomer only when
	// it has been seen more often than the entry it would displace. It has
	// the best hit ratio of the four on skewed workloads.
	EvictTinyLFU
)

// String returns the policy name, e.g. "lru".
func (p EvictionPolicy) String() string {
	switch p {
	case EvictLRU:
		return "lru"
	case EvictLFU:
		return "lfu"
	case EvictFIFO:
		return "fifo"
	case EvictTinyLFU:
		return "tinylfu"
	}
	return fmt.Sprintf("EvictionPolicy(%d)", uint8(p))
}

// Defaults used for zero fields of [Options].
const (
	DefaultShards        = 256
	DefaultSweepInterval = 30 * time.Second
	DefaultLoadTimeout   = 30 * time.Second
	maxShards            = 1 << 16
	maxEntriesPerShard   = 1 << 30
	minTotalPerShard     = 64
)

// Options configures a [Cache]. A nil *Options, or a zero field, means the
// default stated on the field.
type Options[K comparable, V any] struct {
	// Shards is the number of independent shards; each has its own lock,
	// eviction policy and capacity.
	// default: 256, or with MaxTotalEntries, fewer so that each shard
	// holds at least 64 entries. Must be a power of two, at most 65536.
	Shards int

	// MaxEntries is the capacity of EACH shard; the cache holds at most
	// Shards*MaxEntries entries. Set it or MaxTotalEntries, not both.
	// default: 0, meaning unbounded. Must not be negative.
	MaxEntries int

	// MaxTotalEntries is the capacity of the whole cache, spread over the
	// shards as evenly as it divides (shards differ by at most one
	// entry). Each shard still evicts on its own, so the cache can evict
	// while some other shard has room. Set it or MaxEntries, not both.
	// default: 0, meaning MaxEntries decides. Must not be negative, nor
	// smaller than Shards when Shards is set.
	MaxTotalEntries int

	// Eviction is the policy a full shard uses to choose a victim.
	// default: EvictLRU.
	Eviction EvictionPolicy

	// DefaultTTL is the lifetime of entries written by [Cache.Set],
	// [Cache.SetIfEpoch] and [Cache.GetOrLoad].
	// default: 0, meaning entries never expire. Must not be negative.
	DefaultTTL time.Duration

	// SweepInterval is how often a background goroutine removes expired
	// entries. Expired entries are never returned whether or not the sweep
	// has run; the sweep only frees their memory.
	// default: 30s. Must not be negative.
	SweepInterval time.Duration

	// DisableSweep turns the background goroutine off; expired entries are
	// then removed when read, or by [Cache.DeleteExpired].
	// default: false.
	DisableSweep bool

	// OnEvict, if set, is called once for every entry that leaves the cache,
	// with the reason. It runs on the goroutine that caused the eviction,
	// after the shard lock is released, so it may call back into the cache.
	// default: nil.
	OnEvict func(key K, value V, reason EvictReason)

	// LoadTimeout bounds each load that [Cache.GetOrLoad] runs. The load
	// is detached from its callers (each of them leaves when its own
	// context ends), so this is what stops a hung source from holding a
	// goroutine and the key's flight forever; callers still waiting then
	// get the loader's error, normally wrapping
	// [context.DeadlineExceeded].
	// default: 30s. Must not be negative.
	LoadTimeout time.Duration

	// NegativeTTL is how long a key whose loader found nothing is
	// remembered as missing: when the load function of [Cache.GetOrLoad]
	// returns an error wrapping [ErrNotFound], or [Cache.GetOrLoadMany]'s
	// leaves a key out of its map, later calls for that key get
	// [ErrNotFound] (or leave it out) without loading, until NegativeTTL
	// passes or the key is Set, Deleted or Cleared. A remembered miss is
	// stored under the same epoch guard as a loaded value, takes room in
	// its shard like an entry, is never returned by Get, Has, Range or
	// All, and is not passed to OnEvict.
	// default: 0, meaning misses are not remembered. Must not be negative.
	NegativeTTL time.Duration

	// Clock supplies the time for TTLs.
	// default: the system's monotonic clock.
	Clock Clock
}

// withDefaults validates o and returns a copy with zero fields filled.
func (o *Options[K, V]) withDefaults() (Options[K, V], error) {
	var r Options[K, V]
	if o != nil {
		r = *o
	}
	switch {
	case r.Shards < 0 || r.Shards > maxShards:
		return r, fmt.Errorf("%w: Shards %d out of range [0, %d]", ErrInvalidOptions, r.Shards, maxShards)
	case r.Shards > 0 && bits.OnesCount(uint(r.Shards)) != 1:
		return r, fmt.Errorf("%w: Shards %d is not a power of two", ErrInvalidOptions, r.Shards)
	case r.MaxEntries < 0 || r.MaxEntries > maxEntriesPerShard:
		return r, fmt.Errorf("%w: MaxEntries %d out of range [0, %d]", ErrInvalidOptions, r.MaxEntries, maxEntriesPerShard)
	case r.MaxTotalEntries < 0:
		return r, fmt.Errorf("%w: negative MaxTotalEntries %d", ErrInvalidOptions, r.MaxTotalEntries)
	case r.MaxEntries > 0 && r.MaxTotalEntries > 0:
		return r, fmt.Errorf("%w: MaxEntries (per shard) and MaxTotalEntries (whole cache) are both set; set one", ErrInvalidOptions)
	case r.MaxTotalEntries > 0 && r.Shards > 0 && r.MaxTotalEntries < r.Shards:
		return r, fmt.Errorf("%w: MaxTotalEntries %d is smaller than Shards %d, which would leave shards without room", ErrInvalidOptions, r.MaxTotalEntries, r.Shards)
	case r.Eviction > EvictTinyLFU:
		return r, fmt.Errorf("%w: unknown Eviction %d", ErrInvalidOptions, r.Eviction)
	case r.DefaultTTL < 0:
		return r, fmt.Errorf("%w: negative DefaultTTL %v", ErrInvalidOptions, r.DefaultTTL)
	case r.SweepInterval < 0:
		return r, fmt.Errorf("%w: negative SweepInterval %v", ErrInvalidOptions, r.SweepInterval)
	case r.LoadTimeout < 0:
		return r, fmt.Errorf("%w: negative LoadTimeout %v", ErrInvalidOptions, r.LoadTimeout)
	case r.NegativeTTL < 0:
		return r, fmt.Errorf("%w: negative NegativeTTL %v", ErrInvalidOptions, r.NegativeTTL)
	}
	if r.Shards == 0 {
		r.Shards = DefaultShards
		if r.MaxTotalEntries > 0 {
			// At least minTotalPerShard entries per shard: a policy
			// over a handful of entries evicts almost at random.
			n := max(1, r.MaxTotalEntries/minTotalPerShard)
			r.Shards = min(DefaultShards, 1<<(bits.Len(uint(n))-1))
		}
	}
	per := r.MaxTotalEntries / r.Shards
	if r.MaxTotalEntries%r.Shards != 0 {
		per++
	}
	if per > maxEntriesPerShard {
		return r, fmt.Errorf("%w: MaxTotalEntries %d over %d shards is more than %d per shard", ErrInvalidOptions, r.MaxTotalEntries, r.Shards, maxEntriesPerShard)
	}
	if r.SweepInterval == 0 {
		r.SweepInterval = DefaultSweepInterval
	}
	if r.LoadTimeout == 0 {
		r.LoadTimeout = DefaultLoadTimeout
	}
	return r, nil
}

// shardCapacity is the capacity of shard i: MaxEntries, or an even share
// of MaxTotalEntries, the first shards taking one more for the remainder.
func (o *Options[K, V]) shardCapacity(i int) int {
	if o.MaxTotalEntries == 0 {
		return o.MaxEntries
	}
	n := o.MaxTotalEntries / o.Shards
	if i < o.MaxTotalEntries%o.Shards {
		n++
	}
	return n
}

// Package l1mem is a generic, sharded, in-process cache: Strata's first
// tier, and a cache to use on its own.
//
// The module's non-test code imports only the Go standard library, so a
// program that wants a fast sharded cache with TTLs, eviction policies and
// single-flight loading can depend on l1mem without pulling in Redis,
// PostgreSQL or any other third-party module.
//
// # Keys and values
//
// A [Cache] maps any comparable K to any V. The key is generic rather than
// always a string so that integer and struct keys need no formatting, and
// so that Strata can key its tier by whatever its schemas use; the common
// cases stay as fast as a string-keyed cache. Keys whose underlying kind is a
// string or an integer are hashed by specialised functions
// ([hash/maphash.String], a 64-bit mixer) that never allocate; other key
// types go through [hash/maphash.Comparable]. Values are stored by value in
// a per-shard slab and copied out by Get: the cache never hands out a
// pointer into its own storage. (For pointer, slice or map values the
// caller shares what the pointer refers to; Strata stores decoded copies.)
//
// # Shards and capacity
//
// The cache is split into [Options.Shards] shards (256 by default) chosen by
// the key's hash. Each shard has its own lock, its own eviction policy and
// its own capacity: [Options.MaxEntries] is PER SHARD, so the cache holds at
// most Shards*MaxEntries entries. MaxEntries 0 means unbounded. To size the
// whole cache instead, set [Options.MaxTotalEntries]: it is spread over the
// shards (and, unless Shards is set, a small cache gets fewer shards so
// each holds at least 64 entries). Either way each shard evicts on its own.
//
// # Eviction policies
//
// [EvictLFU] and [EvictFIFO] follow the textbook policy within a shard.
// [EvictLRU] (default) is LRU for writes and CLOCK (second chance) for
// reads: a read only marks the entry, and when the oldest entry is
// marked, eviction clears the mark and moves the entry to the newest end
// instead of evicting it. So no entry read since it last reached the
// oldest end is evicted while an unread one is left, but the order among
// entries read meanwhile is not kept. On a Zipf(1.01) stream over 1M keys
// with 256 shards it hits 61.09% at 10k entries and 78.46% at 100k,
// against 60.29% and 78.00% for exact LRU. [EvictTinyLFU] is W-TinyLFU, which admits a new
// entry only when a frequency sketch says it is more popular than the entry
// it would replace; it has the best hit ratio on skewed (Zipf-like)
// workloads. LFU counts saturate at 64.
//
// One approximation buys read speed: for LFU and TinyLFU, a read of an
// entry that the reader's processor recorded for the policy a moment ago
// (fewer than MaxEntries/64 to MaxEntries/16 recorded reads of that shard
// ago, depending on where in its window the mark fell; for TinyLFU
// MaxEntries/2 to 2*MaxEntries) is not recorded again, and for all three
// an overwrite of an entry whose last overwrite was about as recent does
// not move it either (LRU marks it instead). Measured on a Zipf(1.01)
// stream over 1M keys with 256 shards, TinyLFU hits 67.24% and 79.57%.
// FIFO never reorders, so reads cost it nothing.
//
// # Read path
//
// Get never allocates and never waits for another reader, nor for the
// eviction policy. Each shard has a reader-biased lock: a reader counts
// itself in one of 16 slots, chosen by a hash of its goroutine's stack
// address, and checks that no writer is active, so concurrent reads of one
// shard usually write different cache lines (two goroutines share a slot
// in one shard of 16; no runtime internals are involved). Hits and misses
// are counted in the same slot. A read of an LRU entry sets the entry's
// mark if it is clear (one load of a line the read fetched anyway, and a
// store once per round of the eviction sweep). Under the other policies a
// read does not reorder the policy's lists itself: it appends the entry's slab index to one of the shard's four
// small lossy rings (chosen by the same hash), which is replayed in order
// by the next writer (before it evicts anything) or by the reader that
// fills the ring. That replay holds only the mutex writers queue on,
// without raising the flag that stops readers, so other readers go on
// meanwhile, and it writes nothing that
// readers read: the policy keeps its lists apart from the entries, and
// whether a read is worth recording is decided from marks each ring keeps
// for itself. A reader that finds the ring full while another replay is
// under way drops its read, which only makes the eviction order slightly
// less exact.
//
// Writers take the shard exclusively: they wait for readers in progress to
// leave (read sections are a hash probe and a copy) and readers arriving
// meanwhile wait for them. Each shard indexes its entries with its own
// open-addressing table keyed by the cache's hash, so an operation hashes
// its key once.
//
// # Expiry
//
// Every entry can carry a deadline: [Options.DefaultTTL] for Set, or a
// per-entry TTL via [Cache.SetWithTTL]. An expired entry is never returned;
// a read that finds one removes it. A background goroutine
// ([Options.SweepInterval], 30s by default) removes the rest, holding each
// shard lock for at most 256 slots at a time. [Cache.Close] stops it.
// The clock is injectable ([Options.Clock]) for tests.
//
// # Eviction callback
//
// [Options.OnEvict] receives every entry that leaves the cache with an
// [EvictReason]: capacity, expired, deleted, replaced or cleared. It runs
// after the shard lock is released, so it may call back into the cache.
//
// # Fill guard for tiered caches
//
// A cache in front of a slower source of truth races with invalidation: a
// reader loads an old value, a writer updates the source and invalidates
// the cache, then the reader stores its old value. [Cache.Epoch] and
// [Cache.SetIfEpoch] close that window: take the key's epoch before the
// slow read and store with SetIfEpoch, which refuses the fill if the key
// was Set, Deleted or Cleared in between. The epochs live in a small
// per-shard table indexed by hash, not in the entries, so they survive the
// entry being evicted or deleted. See [Cache.SetIfEpoch] for the exact
// guarantee. [Cache.GetOrLoad] uses the guard for every load and collapses
// concurrent loads of one key into one call.
//
// # Loading
//
// [Cache.GetOrLoad] runs each load on its own goroutine, detached from the
// callers: its context keeps the values of the first caller's context but
// not its cancellation, and is bounded by [Options.LoadTimeout] (30s by
// default). Every caller waits only as long as its own context allows, so
// a caller that gives up never fails the others, and the load can still
// fill the cache. A caller joins a load in progress only if the key has not
// been written, deleted or cleared since that load began; otherwise it
// starts a new load, so a read that begins after a write returned never
// receives a value loaded before it. [Cache.Close] cancels the loads in
// progress and waits for them.
//
// [Cache.GetOrLoadMany] does the same for a batch: one load call for the
// keys that are neither cached nor being loaded, joining the loads under
// way for the others under the same rule.
//
// With [Options.NegativeTTL] set, a key the loader reports missing (an
// error wrapping [ErrNotFound], or a key GetOrLoadMany's loader leaves out
// of its map) is remembered as missing for that long, under the same epoch
// guard as a loaded value, so lookups of keys that do not exist stop
// reaching the source; a Set, Delete or Clear of the key ends it.
//
// # Other operations
//
// [Cache.SetIfAbsent] stores a value only where none is held;
// [Cache.All] iterates over the entries as an [iter.Seq2].
//
// # Statistics
//
// [Cache.Stats] returns a snapshot: hits, misses, capacity evictions,
// expirations and per-shard sizes.
package l1mem

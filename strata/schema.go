package strata

import (
	"context"
	"time"

	"github.com/AndrewDonelson/strata/l1mem"
)

// WriteMode chooses how Set reaches the tiers. The zero value means "not
// set": a Schema inherits Config.DefaultWriteMode, and a Config gets
// WriteThrough.
type WriteMode int

const (
	// WriteThrough writes the source of truth (L3), then refreshes L2 (on
	// a migrated schema, guarded by the row version) or invalidates it,
	// and invalidates L1 and the other instances' L1, before Set returns
	// (with Config.ChangeFeed on, a Set's Redis refresh and message follow
	// its return; see there); the next read fills L1. It is the default.
	WriteThrough WriteMode = iota + 1
	// WriteThroughL1Async behaves as WriteThrough: L1 is filled by the next
	// read. (A writer refreshes only Redis, where the row version orders
	// concurrent writers; see Consistency in the package documentation.)
	WriteThroughL1Async
	// WriteBehind writes L1 at once and L3 later, in batches, from a
	// background flusher.
	WriteBehind
)

func (m WriteMode) String() string {
	switch m {
	case 0:
		return "inherit"
	case WriteThrough:
		return "WriteThrough"
	case WriteThroughL1Async:
		return "WriteThroughL1Async"
	case WriteBehind:
		return "WriteBehind"
	}
	return "WriteMode(?)"
}

// EvictionPolicy chooses which L1 entry leaves a full shard. The zero value
// means "not set": a Schema inherits Config.L1Pool.Eviction, and a Config
// gets EvictLRU. (So a schema can ask for EvictLRU explicitly under a Config
// whose default is another policy.)
type EvictionPolicy int

const (
	// EvictLRU evicts the least recently used entry. It is the default.
	EvictLRU EvictionPolicy = iota + 1
	// EvictLFU evicts the least frequently used entry.
	EvictLFU
	// EvictFIFO evicts the oldest entry.
	EvictFIFO
	// EvictTinyLFU is W-TinyLFU: new entries pass through a small LRU
	// window, and one leaving the window stays only if a frequency sketch
	// has seen it more often than the entry it would displace. A scan of
	// one-off keys cannot flush the frequently read ones, so on skewed
	// (Zipf-like) loads it keeps more hits than LRU; see the README.
	EvictTinyLFU
)

func (p EvictionPolicy) String() string {
	switch p {
	case 0:
		return "inherit"
	case EvictLRU:
		return "LRU"
	case EvictLFU:
		return "LFU"
	case EvictFIFO:
		return "FIFO"
	case EvictTinyLFU:
		return "TinyLFU"
	}
	return "EvictionPolicy(?)"
}

// l1mem returns the l1mem policy of a resolved (non-zero) p.
func (p EvictionPolicy) l1mem() l1mem.EvictionPolicy {
	switch p {
	case EvictLFU:
		return l1mem.EvictLFU
	case EvictFIFO:
		return l1mem.EvictFIFO
	case EvictTinyLFU:
		return l1mem.EvictTinyLFU
	}
	return l1mem.EvictLRU
}

// Schema describes one registered model and how its tiers behave.
type Schema struct {
	// Name identifies the schema in every call. Default: the snake_case
	// name of the model's struct type.
	Name string
	// Model is a pointer to a zero value of the struct type, e.g. &Player{}.
	Model any
	// L1 configures the in-memory tier for this schema.
	L1 MemPolicy
	// L2 configures the Redis tier for this schema.
	L2 RedisPolicy
	// L3 configures the PostgreSQL tier for this schema.
	L3 PostgresPolicy
	// WriteMode for this schema. Default (zero): Config.DefaultWriteMode.
	WriteMode WriteMode
	// Indexes adds database indexes beyond those declared by struct tags.
	Indexes []Index
	// Hooks are callbacks around reads and writes.
	Hooks SchemaHooks
	// RefreshAhead, a fraction of a TTL between 0 and 1, turns on
	// refresh-ahead: a Get that finds a record in the last RefreshAhead of
	// its L1 or L2 TTL returns it at once and reloads it in the background,
	// so a key that keeps being read never expires under its readers. An
	// L1 entry is reloaded from the tiers below it, once per instance; an
	// L2 entry from PostgreSQL, once per window across the whole fleet (a
	// claim in Redis decides which instance), and the reload replaces the
	// Redis value only if no write, delete or fill changed it meanwhile.
	// For example 0.2 with a 10-minute L2 TTL reloads a hot key about every
	// 8 minutes. It needs a lower tier to reload from. Default (0): off.
	RefreshAhead float64
}

// MemPolicy configures L1 for one schema.
type MemPolicy struct {
	// TTL of an L1 entry. Default (0): Config.DefaultL1TTL.
	TTL time.Duration
	// MaxEntries per shard (there are 256 shards). Default (0):
	// Config.L1Pool.MaxEntries.
	MaxEntries int
	// Eviction policy. Default (zero): Config.L1Pool.Eviction.
	Eviction EvictionPolicy
}

// RedisPolicy configures L2 for one schema.
type RedisPolicy struct {
	// TTL of an L2 entry. Default (0): Config.DefaultL2TTL.
	TTL time.Duration
	// KeyPrefix is the middle part of the Redis keys strata:{prefix}:{id}:
	// 1 to 63 ASCII letters, digits and underscores, not starting with a
	// digit, and used by no other schema of the DataStore. Strata's own
	// keys live under strata:#gen: and strata:#q:, which no prefix can
	// reach. Default: the schema name.
	KeyPrefix string
	// LeaseWait is how long a read that misses Redis while another reader
	// (in this process or any other) is filling the key from PostgreSQL
	// waits for that fill before reading PostgreSQL itself, so that a cold
	// key costs one query across the fleet. The wait also ends with the
	// caller's deadline. Default (0): DefaultLeaseWait. Negative: never
	// wait (every instance reads PostgreSQL, as before).
	LeaseWait time.Duration
	// Encrypt seals the schema's encrypted fields in Redis too, with
	// Config.EncryptionKey, for a Redis shared with others; without it
	// they are ciphertext in PostgreSQL only. L1 holds plaintext either
	// way. Cached search results (SearchCached) and the write-behind
	// journal still hold plaintext. Default: false.
	Encrypt bool
}

// DefaultLeaseWait is the default RedisPolicy.LeaseWait: a few PostgreSQL
// point reads and a Redis fill.
const DefaultLeaseWait = 150 * time.Millisecond

// PostgresPolicy configures L3 for one schema.
type PostgresPolicy struct {
	// TableName is the PostgreSQL table. Default: the schema name.
	TableName string
	// ReadReplica is an optional DSN of a read-only replica that serves this
	// schema's queries and counts.
	ReadReplica string
	// PartitionBy names a column to partition the table by (hash
	// partitioning; see the migrate package). Ids stay unique across
	// partitions: a write that changes the column's value moves the row to
	// its new partition, keeping its auto_now_add time.
	PartitionBy string
	// Disabled opts the schema out of L3: Redis (or, without Redis, L1) is
	// then its source of truth, as for sessions that live in Redis only.
	Disabled bool
}

// Index is an extra database index.
type Index struct {
	// Fields are column names.
	Fields []string
	// Unique makes it a UNIQUE index.
	Unique bool
	// Name is optional; a deterministic name is generated when empty.
	Name string
}

// SchemaHooks are optional callbacks. A hook that panics is recovered, the
// panic and its stack are logged at Error through Config.Logger, and the
// call returns an error wrapping ErrHookPanic whose message says what had
// happened already: a panic in BeforeSet or BeforeGet aborts the operation
// ("nothing was written/read"); a panic in AfterSet comes after the write
// was stored ("the write was stored": do not retry it blindly); a panic in
// AfterGet comes after the value was read ("the value was read": dest, or
// GetTyped's result, holds it as the hook left it). A panic in OnWriteError
// has no caller to go to and is only logged.
type SchemaHooks struct {
	// BeforeSet runs before any tier is written; a non-nil error aborts the
	// write and is returned.
	BeforeSet func(ctx context.Context, v any) error
	// AfterSet runs after a fully successful write (Set, SetMany and Tx,
	// once per record).
	AfterSet func(ctx context.Context, v any)
	// BeforeGet runs before a read.
	BeforeGet func(ctx context.Context, id string)
	// AfterGet runs after a successful Get or GetTyped, with the value
	// returned.
	AfterGet func(ctx context.Context, v any)
	// OnWriteError receives a write-behind entry that exhausted its retries,
	// with an error wrapping ErrWriteBehindMaxRetry.
	OnWriteError func(ctx context.Context, key string, err error)
}

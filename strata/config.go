package strata

import (
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/codec"
	"github.com/AndrewDonelson/strata/strata/clock"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// Defaults applied by NewDataStore to zero Config fields.
const (
	DefaultL1MaxEntries              = 100_000
	DefaultL1TTL                     = 5 * time.Minute
	DefaultL2TTL                     = 30 * time.Minute
	DefaultL3MaxConns                = 20
	DefaultL3MinConns                = 2
	DefaultL3MaxConnLifetime         = 30 * time.Minute
	DefaultL3MaxConnIdleTime         = 10 * time.Minute
	DefaultWriteBehindFlushInterval  = 500 * time.Millisecond
	DefaultWriteBehindFlushThreshold = 100
	DefaultWriteBehindMaxRetry       = 5
	DefaultWriteBehindMaxPending     = 100_000
	DefaultNegativeCacheTTL          = time.Second
	DefaultInvalidationChannel       = "strata:invalidate"
	DefaultInvalidationHealthCheck   = time.Second
	// DefaultQueryLimit bounds a Search given a nil Query or no Limit.
	DefaultQueryLimit = 100
	// L1Shards is the number of shards of every L1 cache; MaxEntries limits
	// each shard.
	L1Shards = 256
)

// Config configures a DataStore. Every zero field gets the default named on
// it; Config{} is a working in-memory store.
type Config struct {
	// PostgresDSN enables L3: NewDataStore opens a pool for it, which Close
	// closes. Empty: no PostgreSQL (unless PostgresPool is set).
	PostgresDSN string
	// PostgresPool enables L3 on a pool the caller owns — one with a
	// BeforeConnect hook for IAM tokens, otelpgx's tracer, or the pool the
	// service already has. Close does not close it. Read replicas
	// (L3Policy.ReadReplica) share it as their primary; L3Pool sizes only
	// the replica pools. It must not use the simple protocol. Set it or
	// PostgresDSN, not both. Default: nil.
	PostgresPool *pgxpool.Pool

	// RedisClient enables L2 on a client the caller owns
	// (redis.NewClient, NewFailoverClient or NewClusterClient), e.g. one
	// with redisotel's hooks or the client the service already has. Close
	// does not close it. It must be built with ContextTimeoutEnabled: true,
	// or NewDataStore refuses it (ErrInvalidConfig): without it a call's
	// context deadline cannot bound the waits on Redis, and Strata promises
	// that every call returns by its deadline. (A UniversalClient of
	// another type cannot be checked; NewDataStore logs that at Error.)
	// Every other Redis field, L2Pool included, must be left zero with it.
	// Default: nil.
	RedisClient redis.UniversalClient
	// RedisURL enables L2 from a URL, parsed by go-redis's parsers:
	// redis://[user:password@]host:port[/db][?options] (rediss:// for TLS,
	// unix:///path/redis.sock for a socket); with repeated addr=host:port
	// options, the seeds of a Redis Cluster (redis.ParseClusterURL); with
	// master_name=NAME, Sentinels (redis.ParseFailoverURL: the URL's user
	// and password are then the Sentinels' and the master's go in
	// username= and password= options). Redis fields of Config that are
	// set win over the URL's. Set RedisURL or RedisAddr, not both.
	// Default: "".
	RedisURL string
	// RedisAddr (host:port) enables L2. Empty: no Redis. It is an address,
	// not a URL: NewDataStore refuses "redis://..." (use RedisURL). A
	// comma-separated list selects a Redis Cluster, or Sentinels with
	// RedisMasterName. NewDataStore does not contact Redis; call
	// DataStore.Ping to check the address and credentials at start-up.
	RedisAddr string
	// RedisUsername is the Redis ACL user (Redis 6+); the README lists the
	// ACL that user needs. Default: "" (the default user).
	RedisUsername string
	// RedisPassword authenticates to Redis. Default: none.
	RedisPassword string
	// RedisDB selects the Redis database. Default: 0.
	RedisDB int
	// RedisTLS, when set, makes every connection to Redis (and to the
	// Sentinels) use TLS with this configuration: RootCAs for a private CA,
	// Certificates for client certificates (tls-auth-clients), ServerName
	// when it differs from the host. A rediss:// RedisURL turns TLS on by
	// itself, with the system's roots. Default: nil (no TLS).
	RedisTLS *tls.Config
	// RedisMasterName, when set, makes RedisAddr a comma-separated list of
	// Sentinel addresses and connects to the master of that name. (A
	// comma-separated RedisAddr without it selects a Redis Cluster.)
	// Default: "" (no Sentinel).
	RedisMasterName string
	// RedisSentinelUsername and RedisSentinelPassword authenticate to the
	// Sentinels, when they require it (RedisUsername and RedisPassword are
	// the master's). Default: none.
	RedisSentinelUsername string
	RedisSentinelPassword string

	// L1Pool sizes the in-memory tier.
	L1Pool L1PoolConfig
	// L2Pool sizes the Redis connection pool.
	L2Pool L2PoolConfig
	// L3Pool sizes the PostgreSQL connection pool.
	L3Pool L3PoolConfig

	// DefaultL1TTL is the L1 TTL of schemas that set none. Default: 5m.
	DefaultL1TTL time.Duration
	// DefaultL2TTL is the L2 TTL of schemas that set none. Default: 30m.
	DefaultL2TTL time.Duration

	// DefaultWriteMode of schemas that set none. Default: WriteThrough.
	DefaultWriteMode WriteMode
	// WriteBehindFlushInterval is how often dirty entries are flushed.
	// Default: 500ms.
	WriteBehindFlushInterval time.Duration
	// WriteBehindFlushThreshold flushes early once this many entries are
	// dirty. Default: 100.
	WriteBehindFlushThreshold int
	// WriteBehindMaxRetry is how many times a failed flush of an entry is
	// retried before it goes to OnWriteError. Default: 5.
	WriteBehindMaxRetry int
	// WriteBehindMaxPending bounds the write-behind entries waiting for L3,
	// per schema; a Set beyond it fails with ErrWriteBehindFull instead of
	// growing memory without limit. Default: 100,000.
	WriteBehindMaxPending int
	// WriteBehindJournal makes write-behind durable across a crash: a
	// write-behind Set is acknowledged only once it is in a Redis Stream
	// (one round trip; it still does not fill L2), the flusher acknowledges
	// the stream entries after PostgreSQL has committed them, and entries
	// left unacknowledged for WriteBehindJournalClaimIdle (their instance
	// died) are claimed and flushed by another instance, or the next one to
	// start. The journal is as durable as Redis's persistence (appendonly).
	// It needs Redis and PostgreSQL. See truth_journal.go and the README.
	// Default: false.
	WriteBehindJournal bool
	// WriteBehindJournalClaimIdle is how long a journal entry stays
	// unacknowledged before another instance claims it. Set it well above
	// WriteBehindFlushInterval. Default: 30s.
	WriteBehindJournalClaimIdle time.Duration

	// NegativeCacheTTL is how long an id found missing in PostgreSQL is
	// remembered as missing, so a hot missing key does not reach PostgreSQL
	// on every Get: in L1 (where a GetMany remembers the ids it did not
	// find too), and in Redis, where the reader that queried
	// PostgreSQL under the key's fill lease leaves an absence marker that
	// every instance reads, so the fleet makes one query per TTL. A write of
	// that id through any instance ends both at once: the write deletes the
	// Redis key (a marker racing the write is refused, its lease voided),
	// and its invalidation drops the L1 entries. A row inserted into
	// PostgreSQL behind Strata's back is seen once the TTL passes (or at
	// once with the change feed). It applies only with Redis. Default: 1s;
	// negative: off.
	NegativeCacheTTL time.Duration

	// InvalidationChannel is the Redis pub/sub channel instances share.
	// Default: "strata:invalidate".
	InvalidationChannel string
	// InvalidationHealthCheck is how long the invalidation subscriber waits
	// without traffic before it PINGs its connection. An instance serves
	// from L1 only while its subscription is live: a failed connection is
	// noticed at once, a silent one (a frozen server, a network dropping
	// packets) within 2 × InvalidationHealthCheck of its last reply, and
	// from then until the subscription is back and L1 has been dropped,
	// reads neither use nor fill L1. It must be at least 10ms.
	// Default: 1s (a silent loss is noticed within 2s).
	InvalidationHealthCheck time.Duration

	// Codec encodes values for L2. Default: codec.MsgPack{}.
	Codec codec.Codec
	// Clock is the time source for TTLs and auto_now fields. Default: the
	// system clock.
	Clock clock.Clock
	// Metrics receives per-tier hits, misses, latencies and errors.
	// Default: discard.
	Metrics metrics.MetricsRecorder
	// Tracer starts one span per operation (see Tracer); the module
	// github.com/AndrewDonelson/strata/strata/otel provides one for
	// OpenTelemetry. Default (nil): no spans, at no cost.
	Tracer Tracer
	// Logger receives log lines. Default: discard. A *slog.Logger fits, and
	// receives each call's context with the lines logged during it (see
	// Logger).
	Logger Logger

	// EncryptionKey enables AES-256-GCM for fields tagged encrypted. It must
	// be exactly 32 bytes. Default (nil): encryption off and the tag ignored.
	EncryptionKey []byte
	// PreviousEncryptionKeys are keys that sealed values before
	// EncryptionKey: values sealed with them still open, and
	// DataStore.Reencrypt rewrites them with EncryptionKey. Each must be 32
	// bytes; they need EncryptionKey. Sealed values carry a key id (see
	// keyring.go) so the right key is picked; values sealed before key ids
	// existed are tried with every key. Default: none.
	PreviousEncryptionKeys [][]byte

	// ChangeFeed makes PostgreSQL's commit log (logical replication) drive
	// invalidation, so that writes made outside Strata, and writes whose
	// writer failed or crashed before invalidating, still reach every
	// cache. It needs PostgresDSN, wal_level=logical and a role with the
	// REPLICATION attribute; Migrate creates the publication and the slot.
	// With it on, a single-record WriteThrough Set of a migrated schema
	// returns once PostgreSQL has committed and the writer's L1 is
	// refreshed; its Redis refresh and message follow in the background,
	// shared with the Sets of the next 500 µs (Close waits for them), since
	// the feed invalidates the commit even if this process dies first. Until then this instance reads that id
	// from PostgreSQL; other instances may read the previous value from
	// Redis meanwhile, as from their L1 until the message arrives.
	// See coherence_feed.go and the README. Default: false.
	ChangeFeed bool
	// ChangeFeedSlot names the replication slot and the publication.
	// Default: "strata_" and a hash of InvalidationChannel, so services
	// that share a database but not a channel do not share a slot.
	ChangeFeedSlot string
	// ChangeFeedReleaseAfter is how long the instance streaming the slot
	// may fail to apply changes (its Redis refuses or cannot be reached)
	// before it gives the slot up so that another instance takes over; an
	// instance takes the slot only while its Redis answers a PING. Nothing
	// is lost meanwhile: the slot's position waits for the changes to be
	// applied. Default: 10s.
	ChangeFeedReleaseAfter time.Duration
}

// L1PoolConfig sizes the in-memory tier.
type L1PoolConfig struct {
	// MaxEntries per shard (256 shards). Default: 100,000.
	MaxEntries int
	// Eviction policy of schemas that set none. Default (zero): EvictLRU.
	Eviction EvictionPolicy
}

// L2PoolConfig sizes the Redis client. Zero fields keep go-redis defaults.
type L2PoolConfig struct {
	// PoolSize is the maximum number of connections. Default: go-redis's
	// (10 per CPU).
	PoolSize int
	// MinIdleConns kept open. Default: 0.
	MinIdleConns int
	// DialTimeout. Default: go-redis's (5s).
	DialTimeout time.Duration
	// ReadTimeout bounds each wait for a Redis reply. It also caps the
	// Redis part of a read that PostgreSQL can answer (Get, GetMany,
	// Exists on a schema with L3): when the call's context has a deadline,
	// Redis gets half of the time left, at most ReadTimeout, and a Redis
	// that does not answer by then is skipped for PostgreSQL.
	// Default: go-redis's (3s).
	ReadTimeout time.Duration
	// WriteTimeout. Default: go-redis's (ReadTimeout).
	WriteTimeout time.Duration
	// PoolTimeout bounds the wait for a free connection when all PoolSize
	// are busy (a call's deadline, when earlier, bounds it too).
	// Default: go-redis's (ReadTimeout + 1s).
	PoolTimeout time.Duration
	// MaxRetries is how many times go-redis retries a command that failed
	// on the network; -1 turns retries off. Default: go-redis's (3).
	MaxRetries int
}

// L3PoolConfig sizes the PostgreSQL pool.
type L3PoolConfig struct {
	// MaxConns. Default: 20.
	MaxConns int32
	// MinConns. Default: 2.
	MinConns int32
	// MaxConnLifetime. Default: 30m.
	MaxConnLifetime time.Duration
	// MaxConnIdleTime. Default: 10m.
	MaxConnIdleTime time.Duration
}

// withDefaults validates c and returns it with every zero field defaulted.
func (c Config) withDefaults() (Config, error) {
	if err := c.checkGiven(); err != nil {
		return Config{}, err
	}
	c.fillPoolDefaults()
	if c.L3Pool.MinConns > c.L3Pool.MaxConns {
		return Config{}, badConfig("L3Pool.MinConns", "%d exceeds L3Pool.MaxConns %d", c.L3Pool.MinConns, c.L3Pool.MaxConns)
	}
	c.fillModeDefaults()
	if c.WriteBehindJournal && (c.RedisAddr == "" && c.RedisURL == "" && c.RedisClient == nil || c.PostgresDSN == "" && c.PostgresPool == nil) {
		return Config{}, badConfig("WriteBehindJournal", "needs Redis (the journal) and PostgreSQL (where it is flushed)")
	}
	c.fillCoherenceDefaults()
	if c.InvalidationHealthCheck < 10*time.Millisecond {
		return Config{}, badConfig("InvalidationHealthCheck", "must be at least 10ms, got %v", c.InvalidationHealthCheck)
	}
	if err := c.checkFeedConfig(); err != nil {
		return Config{}, err
	}
	c.fillPluginDefaults()
	return c, nil
}

// badConfig is the error of a Config field that cannot be used.
func badConfig(field, why string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(why, args...))
}

// checkGiven checks the fields as the caller gave them, before defaults.
func (c *Config) checkGiven() error {
	if c.EncryptionKey != nil && len(c.EncryptionKey) != 32 {
		return badConfig("EncryptionKey", "must be exactly 32 bytes for AES-256, got %d", len(c.EncryptionKey))
	}
	if len(c.PreviousEncryptionKeys) > 0 && c.EncryptionKey == nil {
		return badConfig("PreviousEncryptionKeys", "need EncryptionKey, the key that seals new values")
	}
	if err := c.checkNotNegative(); err != nil {
		return err
	}
	if err := checkHostPorts(c.RedisAddr); err != nil {
		return badConfig("RedisAddr", "%v", err)
	}
	if err := c.checkClients(); err != nil { // see lifecycle_clients.go
		return err
	}
	if c.DefaultWriteMode < 0 || c.DefaultWriteMode > WriteBehind {
		return badConfig("DefaultWriteMode", "unknown mode %d", int(c.DefaultWriteMode))
	}
	if c.L1Pool.Eviction < 0 || c.L1Pool.Eviction > EvictTinyLFU {
		return badConfig("L1Pool.Eviction", "unknown policy %d", int(c.L1Pool.Eviction))
	}
	return nil
}

// checkNotNegative refuses a negative duration, size or count.
func (c *Config) checkNotNegative() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"DefaultL1TTL", c.DefaultL1TTL}, {"DefaultL2TTL", c.DefaultL2TTL},
		{"WriteBehindFlushInterval", c.WriteBehindFlushInterval},
		{"L3Pool.MaxConnLifetime", c.L3Pool.MaxConnLifetime}, {"L3Pool.MaxConnIdleTime", c.L3Pool.MaxConnIdleTime},
		{"L2Pool.DialTimeout", c.L2Pool.DialTimeout}, {"L2Pool.ReadTimeout", c.L2Pool.ReadTimeout},
		{"L2Pool.WriteTimeout", c.L2Pool.WriteTimeout},
		{"InvalidationHealthCheck", c.InvalidationHealthCheck},
		{"WriteBehindJournalClaimIdle", c.WriteBehindJournalClaimIdle},
	} {
		if d.v < 0 {
			return badConfig(d.name, "must not be negative, got %v", d.v)
		}
	}
	for _, n := range []struct {
		name string
		v    int
	}{
		{"L1Pool.MaxEntries", c.L1Pool.MaxEntries}, {"WriteBehindFlushThreshold", c.WriteBehindFlushThreshold},
		{"WriteBehindMaxRetry", c.WriteBehindMaxRetry}, {"RedisDB", c.RedisDB},
		{"WriteBehindMaxPending", c.WriteBehindMaxPending},
		{"L2Pool.PoolSize", c.L2Pool.PoolSize}, {"L2Pool.MinIdleConns", c.L2Pool.MinIdleConns},
		{"L3Pool.MaxConns", int(c.L3Pool.MaxConns)}, {"L3Pool.MinConns", int(c.L3Pool.MinConns)},
	} {
		if n.v < 0 {
			return badConfig(n.name, "must not be negative, got %d", n.v)
		}
	}
	return nil
}

// setDefault sets *v to def when it is the zero value.
func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// fillPoolDefaults defaults the L1 and PostgreSQL pool sizes and lifetimes.
func (c *Config) fillPoolDefaults() {
	setDefault(&c.L1Pool.MaxEntries, DefaultL1MaxEntries)
	setDefault(&c.L1Pool.Eviction, EvictLRU)
	setDefault(&c.L3Pool.MaxConns, DefaultL3MaxConns)
	setDefault(&c.L3Pool.MinConns, DefaultL3MinConns)
	setDefault(&c.L3Pool.MaxConnLifetime, DefaultL3MaxConnLifetime)
	setDefault(&c.L3Pool.MaxConnIdleTime, DefaultL3MaxConnIdleTime)
}

// fillModeDefaults defaults the TTLs, the write mode and write-behind's
// knobs.
func (c *Config) fillModeDefaults() {
	setDefault(&c.DefaultL1TTL, DefaultL1TTL)
	setDefault(&c.DefaultL2TTL, DefaultL2TTL)
	setDefault(&c.DefaultWriteMode, WriteThrough)
	setDefault(&c.WriteBehindFlushInterval, DefaultWriteBehindFlushInterval)
	setDefault(&c.WriteBehindFlushThreshold, DefaultWriteBehindFlushThreshold)
	setDefault(&c.WriteBehindMaxRetry, DefaultWriteBehindMaxRetry)
	setDefault(&c.NegativeCacheTTL, DefaultNegativeCacheTTL)
	setDefault(&c.WriteBehindMaxPending, DefaultWriteBehindMaxPending)
}

// fillCoherenceDefaults defaults the journal's claim time and the
// invalidation channel and its health check.
func (c *Config) fillCoherenceDefaults() {
	setDefault(&c.WriteBehindJournalClaimIdle, DefaultWriteBehindJournalClaimIdle)
	setDefault(&c.InvalidationChannel, DefaultInvalidationChannel)
	setDefault(&c.InvalidationHealthCheck, DefaultInvalidationHealthCheck)
}

// fillPluginDefaults defaults the codec, clock, metrics recorder and logger.
func (c *Config) fillPluginDefaults() {
	if c.Codec == nil {
		c.Codec = codec.MsgPack{}
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Metrics == nil {
		c.Metrics = metrics.Noop{}
	}
	if c.Logger == nil {
		c.Logger = nopLogger{}
	}
}

// checkHostPorts checks a comma-separated list of host:port addresses (or
// an empty one).
func checkHostPorts(list string) error {
	if list == "" {
		return nil
	}
	if strings.Contains(list, "://") {
		return fmt.Errorf("takes host:port (comma-separated for a Cluster, or for Sentinels with RedisMasterName), not a URL: got %q; give a URL in RedisURL instead", redactDSN(list))
	}
	for _, addr := range strings.Split(list, ",") {
		addr = strings.TrimSpace(addr)
		if addr == "" {
			return fmt.Errorf("%q has an empty address in its list", list)
		}
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("%q is not host:port: %w", addr, err)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q needs a port number from 1 to 65535 after the colon", addr)
		}
	}
	return nil
}

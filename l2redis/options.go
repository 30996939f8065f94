package l2redis

import (
	"fmt"
	"time"
)

// NoExpiry, passed as a TTL, writes a key that never expires. It is the only
// way to write a key without a TTL: a zero TTL means [Options.DefaultTTL].
const NoExpiry time.Duration = -1

// Options tune a [Store]. A nil *Options, and every zero field, means the
// default written on the field.
type Options struct {
	// DefaultTTL is the TTL of a write whose ttl argument is zero. It must
	// be positive.
	// default: 30m
	DefaultTTL time.Duration

	// TTLJitter spreads expiries: each TTL is moved by a random amount in
	// ±TTLJitter×TTL so that keys written together do not expire together.
	// It must be in [0, 0.5]. Keys written with NoExpiry are not affected.
	// default: 0 (no jitter)
	TTLJitter float64

	// LeaseTTL is how long a fill lease granted by GetOrLease stands if no
	// write, delete or fill ends it first. It bounds how long a crashed
	// filler can keep other callers from filling the key. It must be
	// positive.
	// default: 10s
	LeaseTTL time.Duration

	// ScanCount is the COUNT hint given to SCAN by DeletePrefix, and the
	// largest number of keys one UNLINK carries. It must not be negative.
	// default: 1000
	ScanCount int

	// GenerationPrefix is put before a namespace to form the key of its
	// generation counter. It must not be a prefix that cached records use;
	// the default's [ReservedMark] keeps it apart from every [Key] whose
	// prefix has none (see the key layout on [KeyRoot]).
	// default: "strata:#gen:"
	GenerationPrefix string

	// BreakerFailures is how many calls in a row must fail with
	// ErrUnavailable before the Store's circuit breaker opens and fails
	// calls at once (with ErrBreakerOpen). It must not be negative.
	// default: 3
	BreakerFailures int

	// BreakerCooldown is how long the breaker stays open before it lets one
	// probe call through. A negative value disables the breaker.
	// default: 1s
	BreakerCooldown time.Duration

	// OnBreakerChange, when set, is called on the calling goroutine each
	// time the Store's breaker opens (open true) or a probe closes it
	// (false), once per change; it must return quickly. A metrics exporter
	// counts these.
	OnBreakerChange func(open bool)

	// ResultPrefix is put before "<namespace>:<generation>:<query>" to form
	// the key of a cached result set.
	// It must not be a prefix that cached records use either.
	// default: "strata:#q:"
	ResultPrefix string
}

const (
	defaultTTL              = 30 * time.Minute
	defaultLeaseTTL         = 10 * time.Second
	defaultScanCount        = 1000
	defaultGenerationPrefix = KeyRoot + ":" + ReservedMark + "gen:"
	defaultResultPrefix     = KeyRoot + ":" + ReservedMark + "q:"
	maxJitter               = 0.5
	defaultBreakerFailures  = 3
	defaultBreakerCooldown  = time.Second
)

// withDefaults returns a copy of o (nil allowed) with zero fields defaulted,
// or an error naming the first field out of range.
func (o *Options) withDefaults() (Options, error) {
	var out Options
	if o != nil {
		out = *o
	}
	if out.DefaultTTL == 0 {
		out.DefaultTTL = defaultTTL
	}
	if out.LeaseTTL == 0 {
		out.LeaseTTL = defaultLeaseTTL
	}
	if out.ScanCount == 0 {
		out.ScanCount = defaultScanCount
	}
	if out.BreakerFailures == 0 {
		out.BreakerFailures = defaultBreakerFailures
	}
	if out.BreakerCooldown == 0 {
		out.BreakerCooldown = defaultBreakerCooldown
	}
	if out.GenerationPrefix == "" {
		out.GenerationPrefix = defaultGenerationPrefix
	}
	if out.ResultPrefix == "" {
		out.ResultPrefix = defaultResultPrefix
	}
	switch {
	case out.DefaultTTL < 0:
		return out, fmt.Errorf("%w: DefaultTTL %v is negative", ErrInvalidOptions, out.DefaultTTL)
	case out.TTLJitter < 0 || out.TTLJitter > maxJitter || out.TTLJitter != out.TTLJitter:
		return out, fmt.Errorf("%w: TTLJitter %v is outside [0, %v]", ErrInvalidOptions, out.TTLJitter, maxJitter)
	case out.LeaseTTL < time.Millisecond:
		return out, fmt.Errorf("%w: LeaseTTL %v is below 1ms", ErrInvalidOptions, out.LeaseTTL)
	case out.ScanCount < 0:
		return out, fmt.Errorf("%w: ScanCount %d is negative", ErrInvalidOptions, out.ScanCount)
	case out.BreakerFailures < 0:
		return out, fmt.Errorf("%w: BreakerFailures %d is negative", ErrInvalidOptions, out.BreakerFailures)
	case out.GenerationPrefix == out.ResultPrefix:
		return out, fmt.Errorf("%w: GenerationPrefix and ResultPrefix are both %q", ErrInvalidOptions, out.ResultPrefix)
	}
	return out, nil
}

// Config describes a connection for [Open], the convenience constructor.
// Zero fields take go-redis's defaults.
type Config struct {
	// Addr is host:port of the server. A comma-separated list of several
	// addresses selects a Redis Cluster client seeded with them; with
	// MasterName set they are Sentinel addresses instead.
	// default: none, required
	Addr string

	// MasterName selects a Sentinel-managed master of that name.
	// default: "" (no Sentinel)
	MasterName string

	// Username and Password authenticate the connection (ACL or
	// requirepass).
	// default: "" (no authentication)
	Username string
	Password string

	// DB is the database number; Redis Cluster only has DB 0.
	// default: 0
	DB int

	// PoolSize is the most connections the client keeps per server.
	// default: go-redis's, 10 per GOMAXPROCS
	PoolSize int

	// MinIdleConns is how many idle connections the client keeps open.
	// default: 0
	MinIdleConns int

	// DialTimeout bounds establishing a connection.
	// default: go-redis's, 5s
	DialTimeout time.Duration

	// ReadTimeout and WriteTimeout bound each socket read and write. A
	// call's context deadline, when earlier, bounds them too (Open turns on
	// go-redis's ContextTimeoutEnabled).
	// default: go-redis's, 5s each
	ReadTimeout  time.Duration
	WriteTimeout time.Duration

	// MaxRetries is how many times a failed command is retried; -1
	// disables retries.
	// default: go-redis's, 3
	MaxRetries int

	// PoolTimeout bounds waiting for a free connection when all are busy.
	// default: go-redis's, ReadTimeout + 1s
	PoolTimeout time.Duration
}

// BusOptions tune a [Bus]. A nil *BusOptions, and every zero field, means the
// default written on the field.
type BusOptions struct {
	// Channel is the pub/sub channel the bus publishes and listens on.
	// default: "strata:invalidate"
	Channel string

	// InstanceID names this process in the messages it publishes, so it can
	// skip its own messages and others can track its sequence numbers. Give
	// each live instance a distinct ID.
	// default: 16 random hex digits
	InstanceID string

	// OnMessage receives every message from another instance (and this
	// one's own when DeliverOwn is set), one at a time on the bus's
	// goroutine, in the order Redis delivered them.
	// default: nil (messages are dropped after sequence tracking)
	OnMessage func(Invalidation)

	// OnResubscribe is called on the bus's goroutine after Redis has
	// acknowledged a subscription — the first one and every one after a
	// reconnect — and when a source's sequence numbers skip. Messages may
	// have been lost in each case, so a caching layer drops everything it
	// holds. No message received after the acknowledgement is delivered to
	// OnMessage before the call returns.
	// default: nil
	OnResubscribe func(ResubscribeEvent)

	// DeliverOwn makes OnMessage see messages this instance published.
	// default: false
	DeliverOwn bool

	// HealthCheckInterval is how long the subscriber waits for traffic
	// before it sends a PING on the subscription connection; a PING
	// unanswered for another interval makes it declare the connection
	// lost ([Bus.Live] turns false, OnLost is called), drop it and
	// subscribe again. A connection that goes silent is therefore noticed
	// at most 2 × HealthCheckInterval after its last reply; one that fails
	// outright is noticed at once. An idle subscriber sends one PING per
	// interval. It must be at least 10ms.
	// default: 1s (silent loss noticed within 2s)
	HealthCheckInterval time.Duration

	// OnLost is called on the bus's goroutine when the subscriber notices
	// that its connection is lost, once per loss, with the cause; Live is
	// already false then. OnResubscribe follows when Redis acknowledges a
	// new subscription.
	// default: nil
	OnLost func(error)

	// BreakerFailures and BreakerCooldown configure Publish's circuit
	// breaker as Options' fields of the same names do the Store's: while
	// Redis is down, Publish fails at once (still using up its sequence
	// number) instead of waiting out go-redis's retries.
	// default: 3 and 1s; a negative BreakerCooldown disables it
	BreakerFailures int
	BreakerCooldown time.Duration

	// MinBackoff and MaxBackoff bound the wait between failed attempts to
	// subscribe; the wait doubles from MinBackoff up to MaxBackoff.
	// default: 50ms and 2s
	MinBackoff time.Duration
	MaxBackoff time.Duration
}

const (
	// DefaultChannel is the invalidation channel used when
	// BusOptions.Channel is empty.
	DefaultChannel = "strata:invalidate"

	defaultHealthCheck = time.Second
	defaultMinBackoff  = 50 * time.Millisecond
	defaultMaxBackoff  = 2 * time.Second
)

func (o *BusOptions) withDefaults() (BusOptions, error) {
	var out BusOptions
	if o != nil {
		out = *o
	}
	if out.Channel == "" {
		out.Channel = DefaultChannel
	}
	if out.InstanceID == "" {
		out.InstanceID = randomID()
	}
	if out.HealthCheckInterval == 0 {
		out.HealthCheckInterval = defaultHealthCheck
	}
	if out.MinBackoff == 0 {
		out.MinBackoff = defaultMinBackoff
	}
	if out.BreakerFailures == 0 {
		out.BreakerFailures = defaultBreakerFailures
	}
	if out.BreakerCooldown == 0 {
		out.BreakerCooldown = defaultBreakerCooldown
	}
	if out.MaxBackoff == 0 {
		out.MaxBackoff = defaultMaxBackoff
	}
	switch {
	case out.HealthCheckInterval < 10*time.Millisecond:
		return out, fmt.Errorf("%w: HealthCheckInterval %v is below 10ms", ErrInvalidOptions, out.HealthCheckInterval)
	case out.MinBackoff < 0 || out.MaxBackoff < out.MinBackoff:
		return out, fmt.Errorf("%w: backoff bounds %v..%v are not ordered", ErrInvalidOptions, out.MinBackoff, out.MaxBackoff)
	case out.BreakerFailures < 0:
		return out, fmt.Errorf("%w: BreakerFailures %d is negative", ErrInvalidOptions, out.BreakerFailures)
	case len(out.InstanceID) > maxField:
		return out, fmt.Errorf("%w: InstanceID is longer than %d bytes", ErrInvalidOptions, maxField)
	}
	return out, nil
}

package metrics

import "time"

// The interfaces below are optional: a MetricsRecorder that also implements
// one of them receives its events (the DataStore finds out by a type
// assertion), so recorders written against MetricsRecorder alone keep
// compiling and working. Like MetricsRecorder's methods, they must be safe
// for concurrent use and fast.

// Outcomes of a lease wait, passed to LeaseRecorder.LeaseWait.
const (
	// LeaseFilled: the other reader's fill landed and was read.
	LeaseFilled = "filled"
	// LeaseGranted: the other reader gave the lease up (or died) and this
	// reader took it, to fill the key itself.
	LeaseGranted = "granted"
	// LeaseGaveUp: the schema's lease wait (or the caller's deadline) ran
	// out; the reader read PostgreSQL without filling.
	LeaseGaveUp = "gave_up"
	// LeaseError: Redis failed while the reader waited.
	LeaseError = "error"
)

// LeaseRecorder receives lease waits: a read that missed Redis found
// another reader (of any instance) filling the key, and waited for that
// fill rather than read PostgreSQL too.
type LeaseRecorder interface {
	// LeaseWait records one such wait: how long it lasted (0 when the
	// schema does not wait) and its outcome (LeaseFilled, LeaseGranted,
	// LeaseGaveUp or LeaseError).
	LeaseWait(schema string, d time.Duration, outcome string)
}

// InvalidationRecorder receives the invalidation messages this instance
// publishes to, and receives from, the other instances. op is "set",
// "delete" or "flush"; ids is the number of ids the message names (0 for a
// flush).
type InvalidationRecorder interface {
	InvalidationSent(schema, op string, ids int)
	InvalidationReceived(schema, op string, ids int)
}

// ResubscribeRecorder receives the flushes of every L1 that follow a
// (re)subscription of the invalidation bus, a sequence gap or an unreadable
// message: reason is "subscribed", "resubscribed", "sequence-gap" or
// "unreadable", and entries the number of L1 entries dropped.
type ResubscribeRecorder interface {
	ResubscribeFlush(reason string, entries int)
}

// BreakerRecorder receives the state changes of a tier's circuit breaker
// (today Redis's, tier TierL2): open is true when the breaker opened (calls
// fail fast for its cool-down) and false when a probe closed it again.
type BreakerRecorder interface {
	BreakerStateChange(tier string, open bool)
}

// SearchCacheRecorder receives SearchCached's cache outcomes: a hit served
// the rows from Redis, a miss ran the query (and cached its result). A call
// that bypasses the cache (no Redis, ForceL3, a replica, Redis down) is
// neither.
type SearchCacheRecorder interface {
	SearchCacheHit(schema string)
	SearchCacheMiss(schema string)
}

// The change feed's lag is reported through MetricsRecorder.Latency, as
// op "changefeed_lag" on TierL3: the time from a change's commit to its
// invalidation. The write-behind backlog (depth and oldest age) is read,
// not pushed: see DataStore.Stats and DataStore.WriteBehindBacklog.

package strata

import (
	"context"
	"time"
)

// Every call returns by its context's deadline. Two rules make that hold
// when a cache tier hangs rather than fails:
//
//   - After a commit, the cache upkeep (L2 DEL, generation bump, message)
//     waits for Redis only within the caller's deadline; what Redis could
//     not be told by then is handed to the repairer, which goes on in the
//     background (see invalidateAfterWrite).
//   - A read that PostgreSQL can answer gives Redis only part of its time
//     (l2ReadContext), so a hung Redis leaves the rest for PostgreSQL.

// defaultL2ReadTimeout is go-redis's read timeout, which applies when
// L2PoolConfig.ReadTimeout is zero.
const defaultL2ReadTimeout = 3 * time.Second

// l2ReadContext returns the context for the Redis part of a read of st: for
// a schema with L3 and a caller with a deadline, half of the time left, and
// at most the Redis read timeout, so that PostgreSQL still has the rest when
// Redis does not answer. A schema whose truth is Redis, or a caller without
// a deadline, gets ctx itself (the read timeout bounds each Redis call).
// by, when not zero, is the caller's deadline if ctx is not the caller's
// (L1 runs a shared load detached from its callers).
func (ds *DataStore) l2ReadContext(ctx context.Context, st *schemaState, by time.Time) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !by.IsZero() && (!ok || by.Before(dl)) {
		dl, ok = by, true
	}
	if !ok || !st.truth.cachedInL2() {
		return ctx, func() {}
	}
	budget := time.Until(dl) / 2
	if limit := ds.l2ReadTimeout(); budget > limit {
		budget = limit
	}
	return context.WithTimeout(ctx, budget)
}

// l2ReadTimeout is the Redis read timeout in effect.
func (ds *DataStore) l2ReadTimeout() time.Duration {
	if t := ds.cfg.L2Pool.ReadTimeout; t > 0 {
		return t
	}
	return defaultL2ReadTimeout
}

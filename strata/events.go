package strata

import (
	"context"
	"errors"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// Events for the optional recorder interfaces of package metrics, found by
// a type assertion on Config.Metrics when they happen (none is on the L1
// hit path).

// leaseWaited reports a wait for another reader's fill that began at start
// (zero: the schema does not wait) and ended with data, err.
func (ds *DataStore) leaseWaited(ctx context.Context, st *schemaState, start time.Time, data []byte, err error) {
	var d time.Duration
	if !start.IsZero() {
		d = time.Since(start)
	}
	if ds.cfg.Tracer != nil {
		noteLeaseWait(ctx, d)
	}
	r, ok := ds.cfg.Metrics.(metrics.LeaseRecorder)
	if !ok {
		return
	}
	outcome := metrics.LeaseError
	switch {
	case err == nil && data != nil:
		outcome = metrics.LeaseFilled
	case err == nil:
		outcome = metrics.LeaseGranted
	case errors.Is(err, l2redis.ErrLeaseBusy):
		outcome = metrics.LeaseGaveUp
	}
	r.LeaseWait(st.Name, d, outcome)
}

// invalidationSent reports a published invalidation message.
func (ds *DataStore) invalidationSent(schema string, op l2redis.Op, ids int) {
	if r, ok := ds.cfg.Metrics.(metrics.InvalidationRecorder); ok {
		r.InvalidationSent(schema, op.String(), ids)
	}
}

// invalidationReceived reports a message from another instance.
func (ds *DataStore) invalidationReceived(msg l2redis.Invalidation) {
	if r, ok := ds.cfg.Metrics.(metrics.InvalidationRecorder); ok {
		r.InvalidationReceived(msg.Schema, msg.Op.String(), len(msg.IDs))
	}
}

// resubscribeFlushed reports that every L1 was dropped, entries in all.
func (ds *DataStore) resubscribeFlushed(reason l2redis.ResubscribeReason, entries int) {
	if r, ok := ds.cfg.Metrics.(metrics.ResubscribeRecorder); ok {
		r.ResubscribeFlush(reason.String(), entries)
	}
}

// l1Len returns the number of L1 entries that onResubscribe drops: those
// of every schema whose L1 is a cache.
func (ds *DataStore) l1Len() int {
	n := 0
	for _, st := range *ds.schemas.Load() {
		if st.truth.l1Fills() { // (a cache, not the only copy)
			n += st.l1.Len()
		}
	}
	return n
}

// breakerChanged reports a state change of Redis's breaker.
func (ds *DataStore) breakerChanged(open bool) {
	if r, ok := ds.cfg.Metrics.(metrics.BreakerRecorder); ok {
		r.BreakerStateChange(metrics.TierL2, open)
	}
	if open {
		ds.cfg.Logger.Warn("strata: redis circuit breaker opened; redis calls fail fast until a probe succeeds")
	} else {
		ds.cfg.Logger.Info("strata: redis circuit breaker closed; redis answers again")
	}
}

// searchCacheOutcome reports a SearchCached hit or miss.
func (ds *DataStore) searchCacheOutcome(schema string, hit bool) {
	r, ok := ds.cfg.Metrics.(metrics.SearchCacheRecorder)
	if !ok {
		return
	}
	if hit {
		r.SearchCacheHit(schema)
	} else {
		r.SearchCacheMiss(schema)
	}
}

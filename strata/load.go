package strata

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/AndrewDonelson/strata/l1mem"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// load returns the snapshot of id (a *Model): from L1, else a write-behind
// record not yet in L3, else from the schema's truth through L1's
// single-flight (loadThroughL1). While the invalidation bus is down L1 is
// neither read nor filled (see l1Live).
func (ds *DataStore) load(ctx context.Context, st *schemaState, id string) (any, error) {
	if err := st.checkID(id); err != nil {
		return nil, err
	}
	if ds.readsL1(st) {
		var snap any
		var ok bool
		if st.ahead.l1 == 0 {
			snap, ok = st.l1.Get(id)
		} else {
			snap, ok = ds.l1GetAhead(st, id) // refresh.go
		}
		if ok {
			ds.cfg.Metrics.Hit(st.Name, metrics.TierL1)
			ds.served(ctx, metrics.TierL1)
			return snap, nil
		}
		ds.cfg.Metrics.Miss(st.Name, metrics.TierL1)
		return ds.loadThroughL1(ctx, st, id)
	}
	if snap, ok := st.pendingSnapshot(id); ok {
		return snap, nil
	}
	return st.truth.get(ctx, st, id, time.Time{})
}

// loadThroughL1 is load after an L1 miss: the pending write-behind value,
// else L1.GetOrLoad of the truth's read, which collapses concurrent misses
// of one key into one read, refuses to cache a result if the key was
// written or invalidated while it loaded, and, with negative caching
// (l1Options), remembers an absence under the same guard.
func (ds *DataStore) loadThroughL1(ctx context.Context, st *schemaState, id string) (any, error) {
	if !st.truth.l1Fills() { // L1 is the truth: a miss is the answer
		return nil, notFound(st, id)
	}
	if snap, ok := st.pendingSnapshot(id); ok {
		return snap, nil
	}
	if ds.readThrough(st, id) { // a write of id is under way or unsettled: fill nothing
		return st.truth.get(ctx, st, id, time.Time{})
	}
	by, _ := ctx.Deadline() // the load's context has none of its caller's
	// The fill records the row version it read, which a writer's L1
	// refresh compares against (truth_versioned.go).
	snap, err := st.l1.GetOrLoadVersioned(ctx, id, func(ctx context.Context, id string) (any, uint64, error) {
		if ds.readThrough(st, id) { // a write began after this load's epoch: cache nothing (inflight.go)
			st.uncached(id)
		}
		var snap any
		var ver uint64
		var err error
		if vr, ok := st.truth.(versionReader); ok {
			snap, ver, err = vr.getVersion(ctx, st, id, by)
		} else {
			snap, err = st.truth.get(ctx, st, id, by)
		}
		if err != nil && errors.Is(err, ErrNotFound) {
			return nil, 0, l1Missing{err}
		}
		return snap, ver, err
	})
	if err != nil && errors.Is(err, l1mem.ErrNotFound) { // read now, or remembered
		if snap, ok := st.pendingSnapshot(id); ok { // enqueued while we read
			return snap, nil
		}
		return nil, notFound(st, id)
	}
	return snap, err
}

// l1Missing is a truth's ErrNotFound as L1's loaders report it: it also
// wraps l1mem.ErrNotFound, so that L1 can remember the absence.
type l1Missing struct{ err error }

func (e l1Missing) Error() string   { return e.err.Error() }
func (e l1Missing) Unwrap() []error { return []error{e.err, l1mem.ErrNotFound} }

// cached returns the L1 snapshot of id. (A remembered absence is no
// snapshot: L1 never returns it.)
func (st *schemaState) cached(id string) (any, bool) { return st.l1.Get(id) }

func notFound(st *schemaState, id string) error {
	return fmt.Errorf("%w: %s %q", ErrNotFound, st.Name, id)
}

// encodeL2 encodes the fields L2 holds (all but omit_cache).
func (ds *DataStore) encodeL2(st *schemaState, rec reflect.Value) ([]byte, error) {
	var v any
	if st.views.L2.Plain() {
		v = rec.Addr().Interface() // nothing to leave out
	} else {
		v = st.views.L2.Snapshot(rec)
	}
	if ds.l2Sealing(st) {
		var err error
		if v, err = ds.sealForL2(st, v); err != nil {
			return nil, err
		}
	}
	data, err := ds.cfg.Codec.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrEncodeFailed, st.Name, err)
	}
	return data, nil
}

package strata

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// Exists reports whether the record id exists, asking L1, then L2, then L3,
// and answering at the first tier that has it. A value in Redis that does
// not decode counts as absent there (it is dropped, as by Get) and L3
// answers.
func (ds *DataStore) Exists(ctx context.Context, schema, id string) (bool, error) {
	ctx, sp := ds.startOp(ctx, OpExists, schema)
	ok, err := ds.exists(ctx, schema, id)
	return ok, sp.done(ds.count(err), boolRows(ok))
}

func (ds *DataStore) exists(ctx context.Context, schema, id string) (bool, error) {
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return false, err
	}
	if id == "" {
		return false, nil
	}
	if err := st.checkID(id); err != nil {
		return false, err
	}
	if st.useL1 && ds.l1Live() {
		if _, ok := st.cached(id); ok {
			return true, nil
		}
	}
	if st.l1Truth {
		return false, nil
	}
	if _, ok := st.pendingSnapshot(id); ok {
		return true, nil
	}
	if ds.l2 != nil && !ds.stale.has(st.key(id)) /* may be stale: not read from Redis */ {
		// A GET, not EXISTS: a value that does not decode says nothing
		// about the record and is dropped (see fromL2), then L3 answers.
		// Redis gets only part of the caller's time (see l2ReadContext).
		l2ctx, cancel := ds.l2ReadContext(ctx, st, time.Time{})
		defer cancel()
		data, err := ds.l2.Get(l2ctx, st.key(id))
		switch {
		case err == nil:
			if _, ok, err := ds.fromL2(l2ctx, st, id, data); ok || err != nil {
				return ok, err
			}
		case errors.Is(err, l2redis.ErrNotFound):
		case st.l3 == nil:
			return false, fmt.Errorf("%w: %w", ErrL2Unavailable, err)
		default:
			ds.cfg.Metrics.Error(st.Name, metrics.TierL2, "exists")
		}
	}
	if st.l3 == nil {
		return false, nil
	}
	ok, err := st.l3.Exists(ctx, id)
	if err != nil {
		return false, l3Error(err)
	}
	return ok, nil
}

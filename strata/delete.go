package strata

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// Delete removes the record id from every tier: L3 first, then L2, then L1,
// then one invalidation message for the other instances. Deleting a record
// that does not exist is not an error.
func (ds *DataStore) Delete(ctx context.Context, schema, id string) error {
	ds.stats.deletes.Add(1)
	ctx, sp := ds.startOp(ctx, OpDelete, schema)
	return sp.done(ds.count(ds.delete(ctx, schema, id)), -1)
}

func (ds *DataStore) delete(ctx context.Context, schema, id string) error {
	release, err := ds.writeOp()
	if err != nil {
		return err
	}
	defer release()
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return err
	}
	if err := st.checkID(id); err != nil {
		return err
	}
	defer st.writes.enter()()
	var seq uint64
	if st.wb != nil { // no pending older value may be flushed after the delete
		st.wb.flushMu.Lock()
		defer st.wb.flushMu.Unlock()
		seq = st.wb.current()
		if st.wb.j != nil { // no journaled older value may be claimed after it
			unlock, err := ds.journalForget(ctx, st, id)
			if err != nil {
				return err
			}
			defer unlock()
		}
	}
	if st.l3 != nil {
		if _, err := st.l3.DeleteByID(ctx, id); err != nil {
			ds.cfg.Metrics.Error(st.Name, metrics.TierL3, "delete")
			// A pending write-behind value stays pending. A delete that
			// may have been applied is invalidated all the same.
			return ds.afterFailedWrite(ctx, st, l2redis.OpDelete, true, err, id)
		}
		if st.wb != nil {
			st.wb.dropUpTo(id, seq)
		}
		ds.invalidateAfterWrite(ctx, st, l2redis.OpDelete, true, id)
		return nil
	}
	if ds.l2 != nil {
		// One round trip: the DEL, the search generation (if a cached
		// search could depend on it) and the message.
		err := ds.l2.Invalidate(ctx, ds.bus, []string{st.key(id)}, st.prefix, l2redis.OpDelete, st.Name, id)
		st.l1.Delete(id)
		if err != nil {
			ds.cfg.Metrics.Error(st.Name, metrics.TierL2, "delete")
			return fmt.Errorf("%w: %w", ErrL2Unavailable, err)
		}
		if ds.bus != nil {
			ds.invalidationSent(st.Name, l2redis.OpDelete, 1)
		}
		return nil
	}
	st.l1.Delete(id)
	return nil
}

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

package strata

import (
	"context"
	"fmt"

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

package strata

import (
	"context"
	"sync"
	"time"
)

// refreshTimeout bounds one background refresh-ahead reload.
const refreshTimeout = 5 * time.Second

// refreshAhead is a schema's resolved Schema.RefreshAhead: how much of
// each tier's TTL is its refresh window. The zero value is off.
type refreshAhead struct {
	l1, l2 time.Duration // reload when no more than this is left; 0: never
	// busy holds the reloads in flight on this instance ("1"+id for L1,
	// "2"+id for L2), so a hot key starts one reload, not one per read.
	busy *sync.Map
}

// newRefreshAhead resolves st.RefreshAhead against the tiers st has: an
// L1 entry is reloaded only where a lower tier holds the schema, an L2
// entry only where PostgreSQL does.
func (ds *DataStore) newRefreshAhead(st *schemaState) refreshAhead {
	f := st.RefreshAhead
	if f <= 0 {
		return refreshAhead{}
	}
	var ra refreshAhead
	if st.l1Serves() && st.truth.l1Fills() && st.l1TTL > 0 {
		ra.l1 = time.Duration(f * float64(st.l1TTL))
	}
	if st.truth.cachedInL2() && st.l2TTL > 0 {
		ra.l2 = time.Duration(f * float64(st.l2TTL))
	}
	if ra.l1 > 0 || ra.l2 > 0 {
		ra.busy = new(sync.Map)
	}
	return ra
}

// l1GetAhead is st.l1.Get for a schema with an L1 refresh window: a hit in
// the window is returned at once and reloaded in the background.
func (ds *DataStore) l1GetAhead(st *schemaState, id string) (any, bool) {
	snap, left, ok := st.l1.GetWithTTL(id)
	if ok && left > 0 && left <= st.ahead.l1 {
		ds.reloadAhead(st, "1"+id, func(ctx context.Context) { ds.reloadL1(ctx, st, id) })
	}
	return snap, ok
}

// reloadAhead runs reload on a background goroutine (which Close waits
// for) unless a reload of the same tag is in flight on this instance.
func (ds *DataStore) reloadAhead(st *schemaState, tag string, reload func(ctx context.Context)) {
	if _, busy := st.ahead.busy.LoadOrStore(tag, struct{}{}); busy {
		return
	}
	started := ds.goBackground(func() {
		defer st.ahead.busy.Delete(tag)
		ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
		defer cancel()
		reload(ctx)
	})
	if !started {
		st.ahead.busy.Delete(tag)
	}
}

// reloadL1 replaces id's L1 entry by a fresh read of the tiers below
// (which, in its own L2 window, reloads L2 ahead too). The L1 epoch taken
// first keeps a write or invalidation during the read from being undone,
// and a write-behind record not yet in PostgreSQL is never replaced.
func (ds *DataStore) reloadL1(ctx context.Context, st *schemaState, id string) {
	epoch := st.l1.Epoch(id)
	if _, pending := st.pendingSnapshot(id); pending {
		return
	}
	snap, err := st.truth.get(ctx, st, id, time.Time{})
	if err != nil || !ds.l1Live() {
		return
	}
	if _, pending := st.pendingSnapshot(id); pending {
		return
	}
	st.l1.SetIfEpoch(id, snap, epoch)
}

// aheadL2 starts a background reload of id from PostgreSQL when its L2
// value data, just served, has no more than the window left to live.
func (ds *DataStore) aheadL2(st *schemaState, id string, data []byte, left time.Duration) {
	if left <= 0 || left > st.ahead.l2 {
		return
	}
	ds.reloadAhead(st, "2"+id, func(ctx context.Context) {
		wrote := ds.reloadL2(ctx, st, id, data, left)
		if f := ds.test.afterRefresh.Load(); f != nil {
			(*f)(st.Name, id, wrote)
		}
	})
}

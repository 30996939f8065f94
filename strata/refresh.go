package strata

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"time"

	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/AndrewDonelson/strata/strata/metrics"
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
	if st.useL1 && !st.l1Truth && st.l1TTL > 0 {
		ra.l1 = time.Duration(f * float64(st.l1TTL))
	}
	if ds.l2 != nil && st.l3 != nil && st.l2TTL > 0 {
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

// l2GetVersion is the first L2 read of a Get: a plain GET, which also
// returns the value's row version (0 if it has none), or, with an L2
// refresh window, GET and PTTL in one round trip (left is -1 without; the
// version is then 0, unknown).
func (ds *DataStore) l2GetVersion(ctx context.Context, st *schemaState, id string) (data []byte, ver uint64, left time.Duration, err error) {
	if st.ahead.l2 == 0 {
		data, ver, err = ds.l2.GetVersioned(ctx, st.key(id))
		return data, ver, -1, err
	}
	data, left, err = ds.l2.GetWithTTL(ctx, st.key(id))
	return data, 0, left, err
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

// reloadL2 reloads id's L2 value old, which had left to live, from
// PostgreSQL, and reports whether it replaced it. One instance in the fleet
// wins the window's claim and reloads; the others keep serving old. The
// reload replaces old only while Redis still holds it with its old TTL
// (l2redis.Store.RefreshIfUnchanged): a write, delete or fill since the
// read deleted or replaced it, and the reload then writes nothing, so it
// can never put back a value older than a write.
func (ds *DataStore) reloadL2(ctx context.Context, st *schemaState, id string, old []byte, left time.Duration) bool {
	key := st.key(id)
	if won, err := ds.l2.ClaimRefresh(ctx, key, left); err != nil || !won {
		return false
	}
	epoch := st.l1.Epoch(id)
	rec := reflect.New(st.model.Type)
	targets, finish := ds.scanTargets(st, rec.Elem(), nil)
	ds.test.runL3Get(st.Name, id)
	start := time.Now()
	var ver int64
	vt := st.versionedTable()
	var err error
	if vt != nil { // the row's version goes with it into Redis, as for a fill
		err = vt.GetByID(ctx, id, append(targets, &ver)...)
	} else {
		err = st.l3.GetByID(ctx, id, targets...)
	}
	ds.cfg.Metrics.Latency(st.Name, metrics.TierL3, "refresh", time.Since(start))
	if err != nil {
		if !errors.Is(err, l3postgres.ErrNotFound) {
			ds.cfg.Metrics.Error(st.Name, metrics.TierL3, "refresh")
		}
		return false // a row deleted outside Strata: its L2 value expires
	}
	if finish() != nil {
		return false
	}
	st.normalizeTimes(rec.Elem())
	ds.test.runAfterL3Read(st.Name, id)
	data, err := ds.encodeL2(st, rec.Elem())
	if err != nil {
		return false
	}
	wrote, err := ds.l2.RefreshIfUnchanged(ctx, key, old, versionedFill(data, ver, vt != nil), st.l2TTL, left)
	if err != nil {
		ds.cfg.Metrics.Error(st.Name, metrics.TierL2, "refresh")
		return false
	}
	if wrote && st.useL1 && ds.l1Live() {
		st.l1.SetIfEpoch(id, st.readView(rec.Elem()), epoch)
	}
	return wrote
}

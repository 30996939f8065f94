package strata

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// readL2 is a Get's Redis read of id. done: snap or err is the answer (a
// hit, a shared absence, or, where Redis is the truth (isTruth), its
// failure). Otherwise the read goes on to PostgreSQL, filling Redis under
// lease when it is valid.
//
// A plain GET first: hits, the common case, cost one round trip and no
// script. Only a miss takes a lease (which also returns a value a
// concurrent fill may have stored meanwhile), and only where PostgreSQL is
// there to fill from. Redis gets only part of the caller's time (see
// l2ReadContext).
func (ds *DataStore) readL2(ctx context.Context, st *schemaState, id string, by time.Time, isTruth bool) (snap any, ver uint64, lease l2redis.Lease, done bool, err error) {
	l2ctx, cancel := ds.l2ReadContext(ctx, st, by)
	defer cancel()
	start := time.Now()
	data, ver, left, err := ds.l2GetVersion(l2ctx, st, id) // left: refresh.go
	ds.cfg.Metrics.Latency(st.Name, metrics.TierL2, "get", time.Since(start))
	if err == nil {
		if snap, ok, err := ds.fromL2(l2ctx, st, id, data, isTruth); ok || err != nil {
			if ok {
				ds.servedByL2(ctx, st)
				ds.aheadL2(st, id, data, left)
			}
			return snap, ver, lease, true, err
		}
		err = l2redis.ErrNotFound // undecodable and dropped: read on as a miss
	}
	if errors.Is(err, l2redis.ErrNotFound) && !isTruth { // a lease only guards a fill from L3
		data, lease, err = ds.l2.GetOrLease(l2ctx, st.key(id))
		if errors.Is(err, l2redis.ErrLeaseBusy) {
			data, lease, err = ds.waitForFill(l2ctx, st, id)
		}
		if err == nil && data != nil {
			if snap, ok, err := ds.fromL2(l2ctx, st, id, data, false); ok || err != nil {
				if ok {
					ds.servedByL2(ctx, st)
				}
				return snap, 0, l2redis.Lease{}, true, err
			}
			// Undecodable again (dropped): read L3 without filling.
			ds.cfg.Metrics.Miss(st.Name, metrics.TierL2)
			return nil, 0, l2redis.Lease{}, false, nil
		}
	}
	if err == nil {
		ds.cfg.Metrics.Miss(st.Name, metrics.TierL2)
		return nil, 0, lease, false, nil
	}
	done, err = ds.l2ReadFailed(ctx, st, id, err, isTruth)
	return nil, 0, l2redis.Lease{}, done, err
}

// l2ReadFailed is readL2's outcome when Redis did not return a value: a
// shared absence (negcache.go) answers; a miss, or a lease another reader
// still holds after st.leaseWait, reads on from PostgreSQL (without
// filling); and a Redis that fails is bypassed, unless it is the truth.
func (ds *DataStore) l2ReadFailed(ctx context.Context, st *schemaState, id string, err error, isTruth bool) (done bool, _ error) {
	switch {
	case errors.Is(err, l2redis.ErrAbsent):
		return true, ds.absentInL2(ctx, st, id)
	case errors.Is(err, l2redis.ErrLeaseBusy), errors.Is(err, l2redis.ErrNotFound):
		ds.cfg.Metrics.Miss(st.Name, metrics.TierL2)
		return false, nil
	}
	ds.cfg.Metrics.Error(st.Name, metrics.TierL2, "get")
	if isTruth {
		return true, fmt.Errorf("%w: %w", ErrL2Unavailable, err)
	}
	return false, nil // a cache tier that is down is bypassed
}

// servedByL2 counts an L2 hit.
func (ds *DataStore) servedByL2(ctx context.Context, st *schemaState) {
	ds.cfg.Metrics.Hit(st.Name, metrics.TierL2)
	ds.served(ctx, metrics.TierL2)
}

// fromL2 decodes an L2 hit of id into a snapshot (ok).
//
// A value that does not decode — corrupted, or written with another codec
// or model by another version of the program during a rolling deploy — is
// treated as a miss where L3 holds the truth: it is logged at Warn, counted
// as an L2 "decode" error, and deleted only if Redis still holds those very
// bytes, so a good value a concurrent fill stored meanwhile is kept; ok and
// err are then both zero and the caller reads on (a later read fills L2
// again under a lease). Where Redis is the source of truth (isTruth)
// nothing is deleted — the value is the only copy, and the version that
// wrote it may still read it — and the decode error is returned.
func (ds *DataStore) fromL2(ctx context.Context, st *schemaState, id string, data []byte, isTruth bool) (snap any, ok bool, err error) {
	snap, err = ds.decodeL2(st, id, data)
	if err == nil {
		return snap, true, nil
	}
	ds.cfg.Metrics.Error(st.Name, metrics.TierL2, "decode")
	if isTruth {
		logWarn(ctx, ds.cfg.Logger, "strata: undecodable value in redis, the schema's source of truth", "schema", st.Name, "id", id, "err", err)
		return nil, false, err
	}
	logWarn(ctx, ds.cfg.Logger, "strata: undecodable value in redis; deleted and read from postgres", "schema", st.Name, "id", id, "err", err)
	if _, derr := ds.l2.DeleteIfValue(ctx, st.key(id), data); derr != nil {
		ds.cfg.Metrics.Error(st.Name, metrics.TierL2, "delete")
	}
	return nil, false, nil
}

// decodeL2 decodes an L2 value into an L1 snapshot.
func (ds *DataStore) decodeL2(st *schemaState, id string, data []byte) (any, error) {
	p := reflect.New(st.model.Type)
	if err := ds.cfg.Codec.Unmarshal(data, p.Interface()); err != nil {
		return nil, fmt.Errorf("%w: %s %q from redis: %w", ErrDecodeFailed, st.Name, id, err)
	}
	st.normalizeTimes(p.Elem())
	if ds.l2Sealing(st) {
		if err := ds.openFromL2(st, id, p.Elem()); err != nil {
			return nil, err
		}
	}
	if !st.useL1 || len(st.views.L1.Fields()) == len(st.views.L2.Fields()) { // nothing to strip
		return p.Interface(), nil
	}
	return st.snapshot(p.Elem()), nil
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
	rec := reflect.New(st.model.Type).Elem()
	ver, versioned, err := ds.readRow(ctx, st, id, rec, "refresh") // the row's version goes with it into Redis, as for a fill
	if err != nil {
		return false // a row deleted outside Strata: its L2 value expires
	}
	data, err := ds.encodeL2(st, rec)
	if err != nil {
		return false
	}
	wrote, err := ds.l2.RefreshIfUnchanged(ctx, key, old, versionedFill(data, ver, versioned), st.l2TTL, left)
	if err != nil {
		ds.cfg.Metrics.Error(st.Name, metrics.TierL2, "refresh")
		return false
	}
	if wrote && ds.readsL1(st) {
		st.l1.SetIfEpoch(id, st.readView(rec), epoch)
	}
	return wrote
}

// Shared negative caching: a reader that holds the fill lease of an id and
// finds it missing in PostgreSQL records the absence in Redis, under the
// lease, for Config.NegativeCacheTTL; every instance's reads of the id then
// stop at Redis until it expires. The marker lives in the record's own key,
// so every write path ends it by the delete it already makes (Set, SetMany,
// Tx, Delete, the write-behind flusher, FlushCache, the change feed), and
// a write that lands while the reader is still reading voids the lease, so
// the marker is never written over it.

// sharedNegative reports whether absences of st's ids are recorded in L2.
func (ds *DataStore) sharedNegative(st *schemaState) bool {
	return st.truth.cachedInL2() && ds.cfg.NegativeCacheTTL > 0
}

// missedUnderLease ends the lease of an id PostgreSQL does not hold: it
// records the absence in L2 (only while the lease stands), or, with
// negative caching off or the marker refused, gives the lease up so the
// next reader can take one at once. The marker is written before the Get
// returns, so the instances waiting on the lease see it on their next poll.
func (ds *DataStore) missedUnderLease(ctx context.Context, st *schemaState, id string, lease l2redis.Lease) {
	if f := ds.test.beforeAbsentFill.Load(); f != nil {
		(*f)(st.Name, id)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), postCommitTimeout)
	defer cancel()
	if ds.sharedNegative(st) {
		wrote, err := ds.l2.FillAbsent(ctx, lease, ds.cfg.NegativeCacheTTL)
		if err != nil {
			ds.cfg.Metrics.Error(st.Name, metrics.TierL2, "fill")
		}
		if wrote || err != nil {
			return
		}
	}
	_ = ds.l2.Release(ctx, lease)
}

// absentInL2 is the answer to a read that found the absence marker of id
// in Redis: the id is missing, without asking PostgreSQL.
func (ds *DataStore) absentInL2(ctx context.Context, st *schemaState, id string) error {
	ds.cfg.Metrics.Hit(st.Name, metrics.TierL2)
	ds.served(ctx, metrics.TierL2)
	return notFound(st, id)
}

// warmLeases takes WarmCache's fill leases of ids in Redis (one pipelined
// SET NX), position for position; nil where Redis does not cache the
// truth or does not answer (the page then fills L1 only).
func (ds *DataStore) warmLeases(ctx context.Context, st *schemaState, ids []string) []l2redis.Lease {
	if !st.truth.cachedInL2() {
		return nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = st.key(id)
	}
	leases, err := ds.l2.LeaseMany(ctx, keys)
	if err != nil {
		return nil
	}
	return leases
}

// warmFills fills ids in Redis under their leases with values (one
// pipeline of compare-and-set scripts); a nil value releases its lease.
func (ds *DataStore) warmFills(ctx context.Context, st *schemaState, ids []string, leases []l2redis.Lease, values [][]byte) {
	if ds.test.noL2Lease.Load() { // tests only: fill as a cache without leases would
		for i, id := range ids {
			if values[i] != nil {
				_ = ds.l2.Set(ctx, st.key(id), values[i], st.l2TTL)
			}
		}
		return
	}
	_, _ = ds.l2.FillMany(ctx, leases, values, st.l2TTL)
}

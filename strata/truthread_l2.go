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

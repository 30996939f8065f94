package strata

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// load returns the snapshot of id (a *Model): from L1, else from the lower
// tiers through L1's single-flight, which collapses concurrent misses of one
// key into one load and refuses to cache a result if the key was
// invalidated while it loaded. While the invalidation bus is down L1 is
// neither read nor filled (see l1Live).
func (ds *DataStore) load(ctx context.Context, st *schemaState, id string) (any, error) {
	if err := st.checkID(id); err != nil {
		return nil, err
	}
	if st.useL1 && ds.l1Live() {
		var snap any
		var ok bool
		if st.ahead.l1 == 0 {
			snap, ok = st.l1.Get(id)
		} else {
			snap, ok = ds.l1GetAhead(st, id) // refresh.go
		}
		if ok {
			if neg, isNeg := snap.(*absent); !isNeg {
				ds.cfg.Metrics.Hit(st.Name, metrics.TierL1)
				ds.served(ctx, metrics.TierL1)
				return snap, nil
			} else if ds.cfg.Clock.Now().Before(neg.until) {
				ds.cfg.Metrics.Hit(st.Name, metrics.TierL1)
				ds.served(ctx, metrics.TierL1)
				return nil, notFound(st, id)
			} else {
				st.l1.Delete(id) // an expired absence: read again
			}
		}
		ds.cfg.Metrics.Miss(st.Name, metrics.TierL1)
		if st.l1Truth {
			return nil, notFound(st, id)
		}
		if snap, ok := st.pendingSnapshot(id); ok {
			return snap, nil
		}
		if ds.doubts.has(st, id) { // an ambiguous write of id is unsettled: fill nothing
			return ds.loadLower(ctx, st, id, time.Time{})
		}
		epoch := st.l1.Epoch(id)
		// Set on the load's goroutine, which may outlive this call (L1
		// runs shared loads detached from their callers).
		var ranLoad atomic.Bool
		by, _ := ctx.Deadline() // the load's context has none of its caller's
		snap, err := st.l1.GetOrLoad(ctx, id, func(ctx context.Context, id string) (any, error) {
			ranLoad.Store(true)
			return ds.loadLower(ctx, st, id, by)
		})
		if err == nil {
			if _, isNeg := snap.(*absent); isNeg {
				// An absence was recorded between our L1 read and the
				// flight: read through rather than trust or return it.
				return ds.loadLower(ctx, st, id, time.Time{})
			}
		}
		if err != nil && errors.Is(err, ErrNotFound) {
			if snap, ok := st.pendingSnapshot(id); ok { // enqueued while we read
				return snap, nil
			}
		}
		if err != nil && ranLoad.Load() && ds.negativeCaching() && errors.Is(err, ErrNotFound) {
			// Remember the absence briefly — only the caller whose own read
			// began after the epoch was taken (a shared flight may predate
			// an insert), and only if the id was not written or
			// invalidated since.
			ttl := ds.cfg.NegativeCacheTTL
			_, _ = st.l1.SetIfEpochWithTTL(id, &absent{until: ds.cfg.Clock.Now().Add(ttl)}, ttl, epoch)
		}
		return snap, err
	}
	if snap, ok := st.pendingSnapshot(id); ok {
		return snap, nil
	}
	return ds.loadLower(ctx, st, id, time.Time{})
}

// pendingSnapshot returns the newest write-behind record of id not yet in
// L3, which every read must see.
func (st *schemaState) pendingSnapshot(id string) (any, bool) {
	if st.wb == nil {
		return nil, false
	}
	rec, ok := st.wb.pending(id)
	if !ok {
		return nil, false
	}
	return st.readView(rec), true
}

// absent is the L1 value that records a known-missing id (negative
// caching). It is never returned to callers.
type absent struct{ until time.Time }

// negativeCaching reports whether absences may be cached: it needs the
// invalidation bus, which ends them when any instance writes the id.
func (ds *DataStore) negativeCaching() bool { return ds.bus != nil && ds.cfg.NegativeCacheTTL > 0 }

// cached returns the L1 snapshot of id, ignoring absence markers.
func (st *schemaState) cached(id string) (any, bool) {
	snap, ok := st.l1.Get(id)
	if !ok {
		return nil, false
	}
	if _, isNeg := snap.(*absent); isNeg {
		return nil, false
	}
	return snap, true
}

func notFound(st *schemaState, id string) error {
	return fmt.Errorf("%w: %s %q", ErrNotFound, st.Name, id)
}

// loadLower reads id from L2, else from L3, filling L2 under a lease.
// by, when not zero, is the deadline of the caller the load is for (a
// shared load runs under a context of its own), which bounds the Redis part.
func (ds *DataStore) loadLower(ctx context.Context, st *schemaState, id string, by time.Time) (any, error) {
	var lease l2redis.Lease
	// A key that may be stale in Redis, or whose ambiguous write is
	// unsettled (see doubts.has), is neither read from Redis nor filled.
	if ds.l2 != nil && !ds.stale.has(st.key(id)) && !ds.doubts.has(st, id) {
		// A plain GET first: hits, the common case, cost one round trip and
		// no script. Only a miss takes a lease (which also returns a value a
		// concurrent fill may have stored meanwhile). Redis gets only part
		// of the caller's time (see l2ReadContext).
		l2ctx, cancel := ds.l2ReadContext(ctx, st, by)
		defer cancel()
		start := time.Now()
		data, left, err := ds.l2Get(l2ctx, st, id) // left: refresh.go
		ds.cfg.Metrics.Latency(st.Name, metrics.TierL2, "get", time.Since(start))
		if err == nil {
			if snap, ok, err := ds.fromL2(l2ctx, st, id, data); ok || err != nil {
				if ok {
					ds.cfg.Metrics.Hit(st.Name, metrics.TierL2)
					ds.served(ctx, metrics.TierL2)
					ds.aheadL2(st, id, data, left)
				}
				return snap, err
			}
			err = l2redis.ErrNotFound // undecodable and dropped: read on as a miss
		}
		if errors.Is(err, l2redis.ErrAbsent) { // negcache.go
			return nil, ds.absentInL2(ctx, st, id)
		}
		var l l2redis.Lease
		if errors.Is(err, l2redis.ErrNotFound) && st.l3 != nil { // a lease only guards a fill from L3
			data, l, err = ds.l2.GetOrLease(l2ctx, st.key(id))
			if errors.Is(err, l2redis.ErrLeaseBusy) {
				data, l, err = ds.waitForFill(l2ctx, st, id)
			}
		}
		switch {
		case err == nil && data != nil:
			if snap, ok, err := ds.fromL2(l2ctx, st, id, data); ok || err != nil {
				if ok {
					ds.cfg.Metrics.Hit(st.Name, metrics.TierL2)
					ds.served(ctx, metrics.TierL2)
				}
				return snap, err
			}
			// Undecodable again (dropped): read L3 without filling.
			ds.cfg.Metrics.Miss(st.Name, metrics.TierL2)
		case err == nil:
			lease = l
			ds.cfg.Metrics.Miss(st.Name, metrics.TierL2)
		case errors.Is(err, l2redis.ErrAbsent):
			return nil, ds.absentInL2(ctx, st, id)
		case errors.Is(err, l2redis.ErrLeaseBusy):
			// Another reader is still filling after st.leaseWait: read the
			// source without filling.
			ds.cfg.Metrics.Miss(st.Name, metrics.TierL2)
		case errors.Is(err, l2redis.ErrNotFound):
			ds.cfg.Metrics.Miss(st.Name, metrics.TierL2)
		default:
			ds.cfg.Metrics.Error(st.Name, metrics.TierL2, "get")
			if st.l3 == nil { // Redis is the source of truth
				return nil, fmt.Errorf("%w: %w", ErrL2Unavailable, err)
			}
			// A cache tier that is down is bypassed.
		}
	}
	if st.l3 == nil {
		return nil, notFound(st, id)
	}
	rec := reflect.New(st.model.Type)
	targets, finish := ds.scanTargets(st, rec.Elem(), nil)
	ds.test.runL3Get(st.Name, id)
	start := time.Now()
	var ver int64
	vt := st.versionedTable()
	var err error
	if vt != nil { // the row's version goes with it into Redis (see versioned.go)
		err = vt.GetByID(ctx, id, append(targets, &ver)...)
	} else {
		err = st.l3.GetByID(ctx, id, targets...)
	}
	ds.cfg.Metrics.Latency(st.Name, metrics.TierL3, "get", time.Since(start))
	if err != nil {
		if errors.Is(err, l3postgres.ErrNotFound) {
			ds.cfg.Metrics.Miss(st.Name, metrics.TierL3)
			if lease.Valid() {
				ds.missedUnderLease(ctx, st, id, lease) // negcache.go
			}
			return nil, notFound(st, id)
		}
		ds.cfg.Metrics.Error(st.Name, metrics.TierL3, "get")
		return nil, l3Error(err)
	}
	if err := finish(); err != nil {
		return nil, err
	}
	ds.cfg.Metrics.Hit(st.Name, metrics.TierL3)
	ds.served(ctx, metrics.TierL3)
	st.normalizeTimes(rec.Elem())
	ds.test.runAfterL3Read(st.Name, id)
	noLease := ds.test.noL2Lease.Load()
	if lease.Valid() && !noLease {
		if data, err := ds.encodeL2(st, rec.Elem()); err == nil {
			ds.fillL2(st, lease, versionedFill(data, ver, vt != nil))
		}
	} else if noLease && ds.l2 != nil {
		if data, err := ds.encodeL2(st, rec.Elem()); err == nil {
			_ = ds.l2.Set(ctx, st.key(id), versionedFill(data, ver, vt != nil), st.l2TTL)
		}
	}
	return st.readView(rec.Elem()), nil
}

// fillL2 stores an L3 read in Redis under its lease, off the caller's path:
// the reader does not wait for a round trip whose only purpose is to serve
// later reads. A refused fill means a write or delete came first, which is
// exactly what the lease is for. Close waits for fills in flight.
func (ds *DataStore) fillL2(st *schemaState, lease l2redis.Lease, data []byte) {
	ds.goBackground(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := ds.l2.Fill(ctx, lease, data, st.l2TTL); err != nil {
			ds.cfg.Metrics.Error(st.Name, metrics.TierL2, "fill")
		}
	})
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

// fromL2 decodes an L2 hit of id into a snapshot (ok).
//
// A value that does not decode — corrupted, or written with another codec
// or model by another version of the program during a rolling deploy — is
// treated as a miss where L3 holds the truth: it is logged at Warn, counted
// as an L2 "decode" error, and deleted only if Redis still holds those very
// bytes, so a good value a concurrent fill stored meanwhile is kept; ok and
// err are then both zero and the caller reads on (a later read fills L2
// again under a lease). Where Redis is the source of truth nothing is
// deleted — the value is the only copy, and the version that wrote it may
// still read it — and the decode error is returned.
func (ds *DataStore) fromL2(ctx context.Context, st *schemaState, id string, data []byte) (snap any, ok bool, err error) {
	snap, err = ds.decodeL2(st, id, data)
	if err == nil {
		return snap, true, nil
	}
	ds.cfg.Metrics.Error(st.Name, metrics.TierL2, "decode")
	if st.l3 == nil {
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

package strata

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// truthReader reads records from a schema's truth, below L1: L1 is the
// caller's (load, getMany and exists read it first and fill it through
// its single-flight loaders), as is a write-behind record not yet in L3.
type truthReader interface {
	// get reads id: a snapshot, or an error wrapping ErrNotFound. by,
	// when not zero, is the deadline of the caller the read is for (a
	// shared L1 load runs under a context of its own); it bounds the
	// Redis part of the read.
	get(ctx context.Context, st *schemaState, id string, by time.Time) (any, error)
	// getMany reads ids (no more than a handful of round trips, however
	// many they are) and returns the snapshots of those that exist.
	getMany(ctx context.Context, st *schemaState, ids []string, by time.Time) (map[string]any, error)
	// exists reports whether id exists.
	exists(ctx context.Context, st *schemaState, id string) (bool, error)
	// l1Fills reports whether L1 caches what the truth returns (load
	// fills it through its loaders). It is false where L1 is the truth
	// itself, and a miss there is the answer.
	l1Fills() bool
	// cachedInL2 reports whether Redis caches the truth (with fill leases,
	// absence markers, refresh-ahead of its values): PostgreSQL's, with
	// Redis.
	cachedInL2() bool
	// backlog returns how many write-behind records of st are not yet in
	// the truth, and how long the oldest has waited (zero without
	// write-behind).
	backlog(st *schemaState, now time.Time) (depth int, oldest time.Duration)
	truthSearcher // truthread_search.go
}

func (pgTruth) l1Fills() bool    { return true }
func (redisTruth) l1Fills() bool { return true }
func (memTruth) l1Fills() bool   { return false }

func (t pgTruth) cachedInL2() bool  { return t.ds.l2 != nil }
func (redisTruth) cachedInL2() bool { return false }
func (memTruth) cachedInL2() bool   { return false }

// get reads id from Redis, else from PostgreSQL, filling Redis under a
// lease. A key that may be stale in Redis, or that this instance is
// writing or whose ambiguous write is unsettled (see readThrough), is
// neither read from Redis nor filled.
func (t pgTruth) get(ctx context.Context, st *schemaState, id string, by time.Time) (any, error) {
	snap, _, err := t.getVersion(ctx, st, id, by)
	return snap, err
}

// versionReader is a truth whose reads also return the row version of what
// they read (0 when unknown), for L1 to record (see truth_versioned.go).
type versionReader interface {
	getVersion(ctx context.Context, st *schemaState, id string, by time.Time) (any, uint64, error)
}

// getVersion is get with the row version: from the value's prefix on a
// plain Redis GET, from the strata_ver column on a PostgreSQL read; 0 for
// an unversioned schema or value, and for a value read through a lease
// wait or a refresh-ahead read.
func (t pgTruth) getVersion(ctx context.Context, st *schemaState, id string, by time.Time) (any, uint64, error) {
	ds := t.ds
	var lease l2redis.Lease
	if ds.l2 != nil && !ds.stale.has(st.key(id)) && !ds.readThrough(st, id) {
		snap, ver, l, done, err := ds.readL2(ctx, st, id, by, false)
		if done {
			return snap, ver, err
		}
		lease = l
	}
	return ds.readL3(ctx, st, id, lease)
}

// get reads id from Redis, which holds the only durable copy.
func (t redisTruth) get(ctx context.Context, st *schemaState, id string, by time.Time) (any, error) {
	ds := t.ds
	if !ds.stale.has(st.key(id)) && !ds.doubts.has(st, id) {
		if snap, _, _, done, err := ds.readL2(ctx, st, id, by, true); done {
			return snap, err
		}
	}
	return nil, notFound(st, id)
}

// get finds nothing: L1, the only copy, was the caller's to read.
func (memTruth) get(_ context.Context, st *schemaState, id string, _ time.Time) (any, error) {
	return nil, notFound(st, id)
}

// exists asks Redis, then PostgreSQL. A GET, not EXISTS: a value that does
// not decode says nothing about the record and is dropped (see fromL2),
// then PostgreSQL answers; an absence marker (negcache.go) answers false,
// as it answers ErrNotFound to Get.
func (t pgTruth) exists(ctx context.Context, st *schemaState, id string) (bool, error) {
	ds := t.ds
	if ds.l2 != nil && !ds.stale.has(st.key(id)) /* may be stale: not read from Redis */ && !ds.readThrough(st, id) {
		if ok, done, err := ds.existsInL2(ctx, st, id, false); done {
			return ok, err
		}
	}
	ok, err := st.l3.Exists(ctx, id)
	if err != nil {
		return false, l3Error(err)
	}
	return ok, nil
}

// exists asks Redis.
func (t redisTruth) exists(ctx context.Context, st *schemaState, id string) (bool, error) {
	if t.ds.stale.has(st.key(id)) {
		return false, nil
	}
	ok, _, err := t.ds.existsInL2(ctx, st, id, true)
	return ok, err
}

// exists finds nothing below L1.
func (memTruth) exists(context.Context, *schemaState, string) (bool, error) { return false, nil }

// existsInL2 is Exists' Redis read (done: ok and err are the answer).
// isTruth: Redis holds the schema's truth, so its failure is the answer.
// Redis gets only part of the caller's time (see l2ReadContext).
func (ds *DataStore) existsInL2(ctx context.Context, st *schemaState, id string, isTruth bool) (ok, done bool, err error) {
	l2ctx, cancel := ds.l2ReadContext(ctx, st, time.Time{})
	defer cancel()
	data, err := ds.l2.Get(l2ctx, st.key(id))
	switch {
	case err == nil:
		if _, ok, err := ds.fromL2(l2ctx, st, id, data, isTruth); ok || err != nil {
			return ok, true, err
		}
	case errors.Is(err, l2redis.ErrAbsent): // a shared absence answers, as for Get
		ds.servedByL2(ctx, st)
		return false, true, nil
	case errors.Is(err, l2redis.ErrNotFound):
	case isTruth:
		return false, true, fmt.Errorf("%w: %w", ErrL2Unavailable, err)
	default:
		ds.cfg.Metrics.Error(st.Name, metrics.TierL2, "exists")
	}
	return false, false, nil
}

// readL3 reads id from PostgreSQL and fills Redis with it under lease,
// when that is valid; a row that is missing ends the lease (negcache.go).
func (ds *DataStore) readL3(ctx context.Context, st *schemaState, id string, lease l2redis.Lease) (any, uint64, error) {
	keeper := ds.keepLease(st, lease) // truthread_leasekeep.go; until the fill is answered
	defer func() { keeper.stop() }()  // (nil once handed to the fill)
	rec := reflect.New(st.model.Type).Elem()
	ver, versioned, err := ds.readRow(ctx, st, id, rec, "get")
	if errors.Is(err, l3postgres.ErrNotFound) {
		ds.cfg.Metrics.Miss(st.Name, metrics.TierL3)
		if lease.Valid() {
			ds.missedUnderLease(ctx, st, id, lease) // negcache.go
		}
		return nil, 0, notFound(st, id)
	}
	if err != nil {
		return nil, 0, err
	}
	ds.cfg.Metrics.Hit(st.Name, metrics.TierL3)
	ds.served(ctx, metrics.TierL3)
	noLease := ds.test.noL2Lease.Load()
	switch {
	case lease.Valid() && !noLease:
		if data, err := ds.encodeL2(st, rec); err == nil {
			ds.fillL2(st, lease, versionedFill(data, ver, versioned), keeper)
			keeper = nil
		}
	case noLease && ds.l2 != nil:
		if data, err := ds.encodeL2(st, rec); err == nil {
			_ = ds.l2.Set(ctx, st.key(id), versionedFill(data, ver, versioned), st.l2TTL)
		}
	}
	return st.readView(rec), uint64(ver), nil
}

// readRow reads the row id of st's table into rec, with its version when
// the schema is versioned (it goes with the row into Redis, see
// truth_versioned.go). A missing row is l3postgres.ErrNotFound; another failure
// of PostgreSQL is counted as an L3 error of op and returned wrapped by
// l3Error.
func (ds *DataStore) readRow(ctx context.Context, st *schemaState, id string, rec reflect.Value, op string) (ver int64, versioned bool, err error) {
	targets, finish := ds.scanTargets(st, rec, nil)
	ds.test.runL3Get(st.Name, id)
	start := time.Now()
	if vt := st.versionedTable(); vt != nil {
		versioned = true
		err = vt.GetByID(ctx, id, append(targets, &ver)...)
	} else {
		err = st.l3.GetByID(ctx, id, targets...)
	}
	ds.cfg.Metrics.Latency(st.Name, metrics.TierL3, op, time.Since(start))
	if err != nil {
		if errors.Is(err, l3postgres.ErrNotFound) {
			return 0, false, l3postgres.ErrNotFound
		}
		ds.cfg.Metrics.Error(st.Name, metrics.TierL3, op)
		return 0, false, l3Error(err)
	}
	if err := finish(); err != nil {
		return 0, false, err
	}
	st.normalizeTimes(rec)
	ds.test.runAfterL3Read(st.Name, id)
	return ver, versioned, nil
}

// fillBackoff is the pause before each retry of a fill that failed: a
// fill is tried len(fillBackoff)+1 times in all.
var fillBackoff = [...]time.Duration{100 * time.Millisecond, 400 * time.Millisecond}

// fillL2 stores an L3 read in Redis under its lease, off the caller's path:
// the reader does not wait for a round trip whose only purpose is to serve
// later reads. A refused fill means a write or delete came first, which is
// exactly what the lease is for. A fill that failed (a timeout, a broken
// connection) is tried again while keeper still extends the lease, since
// the other instances waiting on the lease would otherwise wait for it to
// lapse and then read PostgreSQL themselves; a retry of a fill that did
// land is refused, as the lease is gone. Not while the circuit breaker is
// open, nor after Close began. Close waits for fills in flight. keeper is
// stopped once the fill is answered or given up.
func (ds *DataStore) fillL2(st *schemaState, lease l2redis.Lease, data []byte, keeper *leaseKeeper) {
	if !ds.goBackground(func() {
		defer keeper.stop()
		for try := 0; ; try++ {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := ds.l2.Fill(ctx, lease, data, st.l2TTL)
			cancel()
			if err == nil {
				return
			}
			ds.cfg.Metrics.Error(st.Name, metrics.TierL2, "fill")
			if try == len(fillBackoff) || errors.Is(err, l2redis.ErrBreakerOpen) {
				return
			}
			select {
			case <-time.After(fillBackoff[try]):
			case <-ds.life.stop:
				return
			}
		}
	}) {
		keeper.stop() // closed: no fill
	}
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

func (pgTruth) backlog(*schemaState, time.Time) (int, time.Duration)    { return 0, 0 }
func (redisTruth) backlog(*schemaState, time.Time) (int, time.Duration) { return 0, 0 }
func (memTruth) backlog(*schemaState, time.Time) (int, time.Duration)   { return 0, 0 }

// backlog locks the write-behind queue's dirty set briefly.
func (behindTruth) backlog(st *schemaState, now time.Time) (depth int, oldest time.Duration) {
	st.wb.mu.Lock()
	defer st.wb.mu.Unlock()
	for _, e := range st.wb.dirty {
		if age := now.Sub(e.since); age > oldest {
			oldest = age
		}
	}
	return len(st.wb.dirty), oldest
}

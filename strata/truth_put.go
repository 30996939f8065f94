package strata

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata/internal/model"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// The write methods of each truth (see truthwrite.go): how a record is
// stored and removed, and what the caches are told.

// put stores b in PostgreSQL, then refreshes or invalidates the caches
// (coherence.go, truth_versioned.go): a Set with one upsert, a batch with one
// COPY-based upsert. A Redis failure after the commit is remembered and
// repaired when Redis answers, and an upsert that failed but may have been
// applied is invalidated all the same (see ambiguous.go).
func (t pgTruth) put(ctx context.Context, st *schemaState, b *writeBatch) error {
	leave := st.enterWrite(b.ids) // before the epochs are taken
	if b.single() {
		return t.putOne(ctx, st, b.ids[0], b.recs[0], b.clear(0), leave)
	}
	defer leave()
	var epochs []writerEpoch
	if !b.flush {
		epochs = st.writerEpochs(b.ids) // before the write (truth_l1own.go)
	}
	vers, stored, err := t.upsertMany(ctx, st, b)
	if err != nil {
		return err
	}
	if vers != nil { // a versioned schema: refreshed, see truth_versionedmany.go
		t.ds.refreshManyAfterWrite(ctx, st, b.ids, stored, vers, epochs, !b.flush)
		return nil
	}
	t.ds.invalidateAfterWrite(ctx, st, l2redis.OpSet, !b.flush, b.ids...)
	return nil
}

// putOne is put for one Set: one upsert that returns what PostgreSQL kept
// (insert-only times, and the row version of a versioned schema, whose
// Redis key is then refreshed rather than deleted).
//
// leave ends the write's registration (enterWrite) once its upkeep is done:
// here, or in the background when the refresh is left to it.
func (t pgTruth) putOne(ctx context.Context, st *schemaState, id string, rec reflect.Value, clear []bool, leave func()) error {
	ds := t.ds
	handed := false
	defer func() {
		if !handed {
			leave()
		}
	}()
	vals, err := ds.rowValues(st, id, rec, clear)
	if err != nil {
		return err
	}
	epoch := st.writerEpoch(id) // before the write (truth_l1own.go)
	start := time.Now()
	var ver uint64
	vt := st.versionedTable()
	if vt != nil {
		ver, err = ds.upsertVersioned(ctx, st, vt, vals, rec)
	} else {
		err = st.l3.UpsertGrouped(ctx, vals, st.insertOnlyTargets(rec)...) // what PostgreSQL kept
	}
	st.normalizeTimes(rec)
	ds.cfg.Metrics.Latency(st.Name, metrics.TierL3, "set", time.Since(start))
	if err != nil {
		ds.cfg.Metrics.Error(st.Name, metrics.TierL3, "set")
		return ds.afterFailedWrite(ctx, st, l2redis.OpSet, true, err, id)
	}
	if vt != nil {
		handed = ds.refreshAfterWrite(ctx, st, id, rec, ver, epoch, leave) // see truth_versioned.go
		return nil
	}
	ds.invalidateAfterWrite(ctx, st, l2redis.OpSet, true, id)
	return nil
}

// upsertMany writes b to PostgreSQL with one COPY-based upsert. Unless b
// is a flush, the auto_now_add times PostgreSQL kept are put in b's
// records. On a versioned table it also returns each record's row version
// and the record as stored (see versionedRows), parallel to b.ids. If the
// upsert fails but may have been applied, the caches are invalidated all
// the same (see ambiguous.go); this instance's L1 too, except for a flush.
func (t pgTruth) upsertMany(ctx context.Context, st *schemaState, b *writeBatch) (vers []uint64, stored []reflect.Value, err error) {
	ds := t.ds
	rows := make([][]any, len(b.recs))
	for i, rec := range b.recs {
		if rows[i], err = ds.rowValues(st, b.ids[i], rec, b.clear(i)); err != nil {
			return nil, nil, err
		}
	}
	start := time.Now()
	switch vt := st.versionedTable(); {
	case vt != nil:
		vers, stored = make([]uint64, len(b.ids)), make([]reflect.Value, len(b.ids))
		_, err = vt.UpsertManyReturning(ctx, rows, st.versionedRows(b, vers, stored))
	case !b.flush && st.model.Flags&model.FlagAutoNowAdd != 0:
		_, err = st.l3.UpsertManyReturning(ctx, rows, st.storedTimes(b.ids, b.recs))
	default:
		_, err = st.l3.UpsertMany(ctx, rows)
	}
	ds.cfg.Metrics.Latency(st.Name, metrics.TierL3, b.op, time.Since(start))
	if err != nil {
		ds.cfg.Metrics.Error(st.Name, metrics.TierL3, b.op)
		return nil, nil, ds.afterFailedWrite(ctx, st, l2redis.OpSet, !b.flush, err, b.ids...)
	}
	return vers, stored, nil
}

// del deletes id from PostgreSQL, then invalidates the caches. A delete
// that failed but may have been applied is invalidated all the same.
func (t pgTruth) del(ctx context.Context, st *schemaState, id string) error {
	ds := t.ds
	defer st.inflight.enter(st.l1, []string{id})()
	if _, err := st.l3.DeleteByID(ctx, id); err != nil {
		ds.cfg.Metrics.Error(st.Name, metrics.TierL3, "delete")
		return ds.afterFailedWrite(ctx, st, l2redis.OpDelete, true, err, id)
	}
	ds.invalidateAfterWrite(ctx, st, l2redis.OpDelete, true, id)
	return nil
}

// stored: PostgreSQL keeps an insert-only column's first value whatever a
// later upsert sends, so only what L1 holds is consulted.
func (t pgTruth) stored(_ context.Context, st *schemaState, ids []string, recs []reflect.Value) (map[string]reflect.Value, error) {
	return st.storedInL1(ids, recs), nil
}

// put stores b in Redis, the only durable copy (no expiry), in one round
// trip with the search generation and the message to the other instances;
// this instance's L1 entries are dropped, and the next read fills them
// from Redis, guarded.
func (t redisTruth) put(ctx context.Context, st *schemaState, b *writeBatch) error {
	defer st.writes.enter()()
	ds := t.ds
	changes := make([]l2redis.Change, len(b.recs))
	for i, rec := range b.recs {
		data, err := ds.encodeL2(st, rec)
		if err != nil {
			return err
		}
		changes[i] = l2redis.Change{Key: st.key(b.ids[i]), Value: data, TTL: l2redis.NoExpiry}
	}
	start := time.Now()
	err := ds.l2.Apply(ctx, ds.bus, changes, st.prefix, l2redis.OpSet, st.Name, b.ids...)
	ds.cfg.Metrics.Latency(st.Name, metrics.TierL2, b.op, time.Since(start))
	for _, id := range b.ids {
		st.l1.Delete(id)
	}
	if err != nil {
		ds.cfg.Metrics.Error(st.Name, metrics.TierL2, b.op)
		return fmt.Errorf("%w: %w", ErrL2Unavailable, err)
	}
	if ds.bus != nil {
		ds.invalidationSent(st.Name, l2redis.OpSet, len(b.ids))
	}
	return nil
}

// del removes id from Redis in one round trip with the search generation
// and the message, and from this instance's L1.
func (t redisTruth) del(ctx context.Context, st *schemaState, id string) error {
	ds := t.ds
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

func (t redisTruth) stored(_ context.Context, st *schemaState, ids []string, recs []reflect.Value) (map[string]reflect.Value, error) {
	return st.storedInL1(ids, recs), nil
}

// put stores b in L1, the only copy.
func (t memTruth) put(_ context.Context, st *schemaState, b *writeBatch) error {
	defer st.writes.enter()()
	for i, rec := range b.recs {
		st.l1.Set(b.ids[i], st.snapshot(rec))
	}
	return nil
}

func (t memTruth) del(_ context.Context, st *schemaState, id string) error {
	st.l1.Delete(id)
	return nil
}

func (t memTruth) stored(_ context.Context, st *schemaState, ids []string, recs []reflect.Value) (map[string]reflect.Value, error) {
	return st.storedInL1(ids, recs), nil
}

// storedInL1 is truthWriter.stored from what L1 holds.
func (st *schemaState) storedInL1(ids []string, recs []reflect.Value) map[string]reflect.Value {
	var out map[string]reflect.Value
	for _, id := range st.needStored(ids, recs) {
		if snap, ok := st.cached(id); ok {
			if out == nil {
				out = map[string]reflect.Value{}
			}
			out[id] = reflect.ValueOf(snap).Elem()
		}
	}
	return out
}

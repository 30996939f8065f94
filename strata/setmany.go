package strata

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata/metrics"

	"github.com/AndrewDonelson/strata/strata/internal/model"
)

// SetMany writes many records of one schema: pairs maps each id to its value
// (a *Model or Model). Every value is checked and every BeforeSet hook runs
// before anything is written; then L3 takes all rows in one COPY-based
// upsert (one transaction), then one Redis DEL removes every key and one
// invalidation message names every id (for a schema without L3, Redis takes
// the values in one pipeline). The same field rules as Set apply, and opts
// apply to every record.
func (ds *DataStore) SetMany(ctx context.Context, schema string, pairs map[string]any, opts ...SetOption) error {
	ds.stats.sets.Add(int64(len(pairs)))
	ctx, sp := ds.startOp(ctx, OpSetMany, schema)
	return sp.done(ds.count(ds.setMany(ctx, schema, pairs, opts)), len(pairs))
}

func (ds *DataStore) setMany(ctx context.Context, schema string, pairs map[string]any, opts []SetOption) error {
	release, err := ds.writeOp()
	if err != nil {
		return err
	}
	defer release()
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return err
	}
	clear, err := st.clearMask(opts)
	if err != nil {
		return err
	}
	if len(pairs) == 0 {
		return nil
	}
	ids := make([]string, 0, len(pairs))
	recs := make([]reflect.Value, 0, len(pairs))
	srcs := make([]reflect.Value, 0, len(pairs))
	for id, v := range pairs {
		src, rec, err := st.prepare(ctx, id, v, true)
		if err != nil {
			return err
		}
		ids, recs, srcs = append(ids, id), append(recs, rec), append(srcs, src)
	}
	known, err := ds.knownForAutoNowAdd(ctx, st, ids, recs)
	if err != nil {
		return err
	}
	for i, rec := range recs {
		ds.fillFields(st, rec, func() reflect.Value { return known[ids[i]] })
	}
	if st.wb != nil {
		if err := ds.enqueueWriteBehind(ctx, st, ids, recs, clear); err != nil {
			return err
		}
	} else if err := ds.writeManyTiers(ctx, st, ids, recs, clear); err != nil {
		return err
	}
	var hookErr error // every record was stored: run every hook, report the first panic
	for i, src := range srcs {
		if src.CanSet() {
			st.writeBack(src, recs[i])
		}
		if err := st.afterSet(ctx, recs[i].Addr().Interface()); err != nil && hookErr == nil {
			hookErr = err
		}
	}
	return hookErr
}

// knownForAutoNowAdd returns, for the records whose auto_now_add fields are
// zero, the stored record (one batched read), so their times are kept.
func (ds *DataStore) knownForAutoNowAdd(ctx context.Context, st *schemaState, ids []string, recs []reflect.Value) (map[string]reflect.Value, error) {
	if st.model.Flags&model.FlagAutoNowAdd == 0 {
		return nil, nil
	}
	if st.wb == nil { // PostgreSQL keeps the first time; only L1 is consulted
		out := map[string]reflect.Value{}
		for _, id := range ids {
			if snap, ok := st.cached(id); ok {
				out[id] = reflect.ValueOf(snap).Elem()
			}
		}
		return out, nil
	}
	var need []string
	for i, rec := range recs {
		for fi := range st.model.Fields {
			f := &st.model.Fields[fi]
			if f.Has(model.FlagAutoNowAdd) && fieldOf(rec, f).IsZero() {
				need = append(need, ids[i])
				break
			}
		}
	}
	if len(need) == 0 {
		return nil, nil
	}
	found, err := ds.getMany(ctx, st, need)
	if err != nil {
		return nil, err
	}
	out := make(map[string]reflect.Value, len(found))
	for id, snap := range found {
		out[id] = reflect.ValueOf(snap).Elem()
	}
	return out, nil
}

// writeManyTiers is writeTiers for a batch: one COPY-based upsert, then
// one DEL of all the keys, one generation bump and one message; without L3,
// one Redis pipeline (or L1 alone).
func (ds *DataStore) writeManyTiers(ctx context.Context, st *schemaState, ids []string, recs []reflect.Value, clear []bool) error {
	defer st.writes.enter()()
	if st.l3 != nil {
		clears := make([][]bool, len(recs))
		for i := range clears {
			clears[i] = clear
		}
		if err := ds.upsertMany(ctx, st, ids, recs, clears, "setmany", true); err != nil {
			return err
		}
		ds.invalidateAfterWrite(ctx, st, l2redis.OpSet, true, ids...)
		return nil
	}
	if ds.l2 != nil {
		changes := make([]l2redis.Change, len(recs))
		for i, rec := range recs {
			data, err := ds.encodeL2(st, rec)
			if err != nil {
				return err
			}
			changes[i] = l2redis.Change{Key: st.key(ids[i]), Value: data, TTL: l2redis.NoExpiry}
		}
		// One round trip: the SETs, the search generation and the message.
		err := ds.l2.Apply(ctx, ds.bus, changes, st.prefix, l2redis.OpSet, st.Name, ids...)
		for _, id := range ids {
			st.l1.Delete(id)
		}
		if err != nil {
			ds.cfg.Metrics.Error(st.Name, metrics.TierL2, "setmany")
			return fmt.Errorf("%w: %w", ErrL2Unavailable, err)
		}
		if ds.bus != nil {
			ds.invalidationSent(st.Name, l2redis.OpSet, len(ids))
		}
		return nil
	}
	for i, rec := range recs {
		st.l1.Set(ids[i], st.snapshot(rec))
	}
	return nil
}

// upsertMany writes recs to L3 with one COPY-based upsert, each with its
// clear mask (clears may be nil); op names it in metrics. With stored, the
// auto_now_add times PostgreSQL kept are put in recs. If the upsert fails
// but may have been applied, the caches are invalidated all the same (see
// ambiguous.go); this instance's L1 too, except for a write-behind flush,
// whose L1 entries hold the values flushed or newer ones.
func (ds *DataStore) upsertMany(ctx context.Context, st *schemaState, ids []string, recs []reflect.Value, clears [][]bool, op string, stored bool) error {
	rows := make([][]any, len(recs))
	for i, rec := range recs {
		var clear []bool
		if clears != nil {
			clear = clears[i]
		}
		vals, err := ds.rowValues(st, ids[i], rec, clear)
		if err != nil {
			return err
		}
		rows[i] = vals
	}
	start := time.Now()
	var err error
	if stored && st.model.Flags&model.FlagAutoNowAdd != 0 {
		_, err = st.l3.UpsertManyReturning(ctx, rows, st.storedTimes(ids, recs))
	} else {
		_, err = st.l3.UpsertMany(ctx, rows)
	}
	ds.cfg.Metrics.Latency(st.Name, metrics.TierL3, op, time.Since(start))
	if err != nil {
		ds.cfg.Metrics.Error(st.Name, metrics.TierL3, op)
		return ds.afterFailedWrite(ctx, st, l2redis.OpSet, op != "flush", err, ids...)
	}
	return nil
}

// storedTimes returns the function that takes each row UpsertManyReturning
// reports (the key, then the auto_now_add columns) into the record of that
// id among recs.
func (st *schemaState) storedTimes(ids []string, recs []reflect.Value) func(scan func(dest ...any) error) error {
	byID := make(map[string]reflect.Value, len(ids))
	for i, id := range ids {
		byID[id] = recs[i]
	}
	var fields []*model.Field
	for i := range st.model.Fields {
		if f := &st.model.Fields[i]; f.Has(model.FlagAutoNowAdd) {
			fields = append(fields, f)
		}
	}
	return func(scan func(dest ...any) error) error {
		var id string
		dest := make([]any, 1+len(fields))
		dest[0] = &id
		for j, f := range fields {
			dest[1+j] = reflect.New(f.Type).Interface()
		}
		if err := scan(dest...); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrDecodeFailed, st.Name, err)
		}
		rec, ok := byID[id]
		if !ok {
			return nil
		}
		for j, f := range fields {
			fieldOf(rec, f).Set(reflect.ValueOf(dest[1+j]).Elem())
		}
		st.normalizeTimes(rec)
		return nil
	}
}

package strata

import (
	"context"
	"fmt"
	"reflect"

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
	st, clear, release, err := ds.beginWrite(ctx, schema, opts)
	if err != nil {
		return err
	}
	defer release()
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
	known, err := st.truth.stored(ctx, st, ids, recs)
	if err != nil {
		return err
	}
	for i, rec := range recs {
		ds.fillFields(st, rec, func() reflect.Value { return known[ids[i]] })
	}
	clears := make([][]bool, len(recs))
	for i := range clears {
		clears[i] = clear
	}
	if err := st.truth.put(ctx, st, &writeBatch{op: "setmany", ids: ids, recs: recs, clears: clears}); err != nil {
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

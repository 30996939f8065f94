package strata

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"
)

// GetMany reads the records ids of schema into dest, a *map[string]Model or
// *map[string]*Model (allocated if nil); ids that do not exist are absent
// from it. It reads L1 first, then one MGET for the ids L1 lacks, then one
// primary-key query (pk = ANY($1)) for the rest; the MGET and the query run
// once for all the ids L1 lacks, as one load through L1 that concurrent
// Gets of those ids share. Records found in L2 or L3 are put in L1, guarded
// against concurrent invalidations (and, with negative caching, so are the
// ids found missing); L2 is filled by single Gets, under their lease.
func (ds *DataStore) GetMany(ctx context.Context, schema string, ids []string, dest any) error {
	ds.stats.gets.Add(int64(len(ids)))
	ctx, sp := ds.startOp(ctx, OpGetMany, schema)
	err := ds.count(ds.getManyInto(ctx, schema, ids, dest))
	if sp.active() {
		return sp.done(err, lenOf(dest))
	}
	return err
}

// GetManyTyped is GetMany returning a map of T, the schema's model type.
func GetManyTyped[T any](ctx context.Context, ds *DataStore, schema string, ids []string) (map[string]T, error) {
	ds.stats.gets.Add(int64(len(ids)))
	ctx, sp := ds.startOp(ctx, OpGetMany, schema)
	out, err := getManyTyped[T](ctx, ds, schema, ids)
	return out, sp.done(ds.count(err), len(out))
}

func getManyTyped[T any](ctx context.Context, ds *DataStore, schema string, ids []string) (map[string]T, error) {
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return nil, err
	}
	if reflect.TypeFor[T]() != st.model.Type {
		return nil, fmt.Errorf("%w: schema %q holds %s, asked for %s", ErrInvalidModel, schema, st.model.Type, reflect.TypeFor[T]())
	}
	found, err := ds.getMany(ctx, st, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]T, len(found))
	for id, snap := range found {
		if st.flat {
			out[id] = *snap.(*T)
		} else {
			out[id] = deepCopied(snap.(*T))
		}
	}
	return out, nil
}

func (ds *DataStore) getManyInto(ctx context.Context, schema string, ids []string, dest any) error {
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return err
	}
	mv := reflect.ValueOf(dest)
	if !mv.IsValid() || mv.Kind() != reflect.Pointer || mv.IsNil() || mv.Elem().Kind() != reflect.Map ||
		mv.Elem().Type().Key() != reflect.TypeFor[string]() ||
		(mv.Elem().Type().Elem() != st.model.Type && mv.Elem().Type().Elem() != st.ptrType) {
		return fmt.Errorf("%w: schema %q reads many into a *map[string]%s or *map[string]%s, got %T", ErrInvalidModel, st.Name, st.model.Type, st.ptrType, dest)
	}
	found, err := ds.getMany(ctx, st, ids)
	if err != nil {
		return err
	}
	m := mv.Elem()
	if m.IsNil() {
		m.Set(reflect.MakeMapWithSize(m.Type(), len(found)))
	}
	byPtr := m.Type().Elem() == st.ptrType
	for id, snap := range found {
		v := reflect.New(st.model.Type)
		st.copyOut(v.Elem(), snap)
		if byPtr {
			m.SetMapIndex(reflect.ValueOf(id), v)
		} else {
			m.SetMapIndex(reflect.ValueOf(id), v.Elem())
		}
	}
	return nil
}

// getMany returns the snapshots of the ids that exist: L1's, the pending
// write-behind records, then the truth's for the rest, read in bulk
// (truth.getMany: one MGET, one pk = ANY($1) query) through L1's bulk
// single-flight loader. That is one lower-tier read for all the ids L1
// lacks, which shares the loads already under way for any of them (a
// concurrent Get's, say) and fills L1 under each key's epoch guard.
func (ds *DataStore) getMany(ctx context.Context, st *schemaState, ids []string) (map[string]any, error) {
	viaL1 := ds.readsL1(st)
	found, missing, err := ds.getManyAbove(ctx, st, ids, viaL1)
	if err != nil || len(missing) == 0 || !st.truth.l1Fills() {
		return found, err
	}
	by, _ := ctx.Deadline() // the bulk load's context has none of its caller's
	var rows map[string]any
	if viaL1 {
		rows, err = st.l1.GetOrLoadMany(ctx, missing, func(ctx context.Context, want []string) (map[string]any, error) {
			return st.truth.getMany(ctx, st, want, by)
		})
	} else {
		rows, err = st.truth.getMany(ctx, st, missing, by)
	}
	if err != nil {
		return nil, err
	}
	for id, snap := range rows {
		found[id] = snap
	}
	return found, nil
}

// getManyAbove finds what it can of ids above the truth: in L1 (when
// viaL1), among the write-behind records not yet in L3, and, for an id
// whose ambiguous write is unsettled, by a single read that fills nothing.
// It returns the other ids, each once.
func (ds *DataStore) getManyAbove(ctx context.Context, st *schemaState, ids []string, viaL1 bool) (found map[string]any, missing []string, err error) {
	found = make(map[string]any, len(ids))
	seen := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		if err := st.checkID(id); err != nil {
			return nil, nil, err
		}
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		if viaL1 {
			if snap, ok := st.cached(id); ok {
				found[id] = snap
				continue
			}
		}
		if snap, ok := st.pendingSnapshot(id); ok {
			found[id] = snap
			continue
		}
		if ds.readThrough(st, id) { // a write of id is under way or unsettled: read through, fill nothing
			snap, err := st.truth.get(ctx, st, id, time.Time{})
			switch {
			case err == nil:
				found[id] = snap
			case !errors.Is(err, ErrNotFound):
				return nil, nil, err
			}
			continue
		}
		missing = append(missing, id)
	}
	return found, missing, nil
}

package strata

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"
)

// GetMany reads the records ids of schema into dest, a *map[string]Model or
// *map[string]*Model (allocated if nil); ids that do not exist are absent
// from it. It reads L1 first, then one MGET for the ids L1 lacks, then one
// primary-key query (pk = ANY($1)) for the rest. Records found in L2 or L3
// are put in L1, guarded against concurrent invalidations; L2 is filled by
// single Gets, under their stale-set lease.
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

// getMany returns the snapshots of the ids that exist.
func (ds *DataStore) getMany(ctx context.Context, st *schemaState, ids []string) (map[string]any, error) {
	useL1 := st.useL1 && ds.l1Live() // see l1Live
	found := make(map[string]any, len(ids))
	var missing []string
	for _, id := range ids {
		if err := st.checkID(id); err != nil {
			return nil, err
		}
		if _, dup := found[id]; dup {
			continue
		}
		if useL1 {
			if snap, ok := st.cached(id); ok {
				found[id] = snap
				continue
			}
		}
		if snap, ok := st.pendingSnapshot(id); ok {
			found[id] = snap
			continue
		}
		if ds.doubts.has(st, id) { // an ambiguous write of id is unsettled: read through, fill nothing
			snap, err := ds.loadLower(ctx, st, id, time.Time{})
			switch {
			case err == nil:
				found[id] = snap
			case !errors.Is(err, ErrNotFound):
				return nil, err
			}
			continue
		}
		missing = append(missing, id)
	}
	if len(missing) == 0 || st.l1Truth {
		return found, nil
	}
	epochs := make([]uint64, len(missing))
	for i, id := range missing {
		epochs[i] = st.l1.Epoch(id)
	}
	fill := func(i int, snap any) {
		found[missing[i]] = snap
		if useL1 {
			st.l1.SetIfEpoch(missing[i], snap, epochs[i])
		}
	}
	rest := make([]int, 0, len(missing)) // positions in missing still unread
	if ds.l2 != nil && ds.stale.n.Load() == 0 {
		keys := make([]string, len(missing))
		for i, id := range missing {
			keys[i] = st.key(id)
		}
		l2ctx, cancel := ds.l2ReadContext(ctx, st, time.Time{}) // Redis gets part of the caller's time
		defer cancel()
		vals, err := ds.l2.MGet(l2ctx, keys)
		if err != nil && st.l3 == nil {
			return nil, fmt.Errorf("%w: %w", ErrL2Unavailable, err)
		}
		for i := range missing {
			if err != nil || vals[i] == nil {
				rest = append(rest, i)
				continue
			}
			snap, ok, derr := ds.fromL2(l2ctx, st, missing[i], vals[i])
			if derr != nil {
				return nil, derr
			}
			if !ok { // undecodable and dropped: read from L3
				rest = append(rest, i)
				continue
			}
			fill(i, snap)
		}
	} else {
		for i := range missing {
			rest = append(rest, i)
		}
	}
	if len(rest) == 0 || st.l3 == nil {
		return found, nil
	}
	want := make([]string, len(rest))
	for j, i := range rest {
		want[j] = missing[i]
	}
	if !useL1 {
		rows, err := ds.queryMany(ctx, st, want)
		if err != nil {
			return nil, err
		}
		for id, snap := range rows {
			found[id] = snap
		}
		return found, nil
	}
	return found, ds.loadManyCollapsed(ctx, st, want, found)
}

// loadManyCollapsed reads want from L3 with one pk = ANY($1) query, through
// L1's per-key single-flight: a concurrent single Get of one of these ids
// shares this read (or this call shares its), and every fill is guarded by
// the key's epoch.
func (ds *DataStore) loadManyCollapsed(ctx context.Context, st *schemaState, want []string, found map[string]any) error {
	var (
		once  sync.Once
		rows  map[string]any
		qerr  error
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	for _, id := range want {
		wg.Add(1)
		go func() {
			defer wg.Done()
			snap, err := st.l1.GetOrLoad(ctx, id, func(ctx context.Context, id string) (any, error) {
				once.Do(func() { rows, qerr = ds.queryMany(ctx, st, want) })
				if qerr != nil {
					return nil, qerr
				}
				if snap, ok := rows[id]; ok {
					return snap, nil
				}
				return nil, notFound(st, id)
			})
			if _, isNeg := snap.(*absent); err == nil && isNeg {
				snap, err = ds.load(ctx, st, id) // an absence raced in: single read
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				found[id] = snap
			case !errors.Is(err, ErrNotFound) && first == nil:
				first = err
			}
		}()
	}
	wg.Wait()
	return first
}

// queryMany reads the rows of ids from L3 as snapshots.
func (ds *DataStore) queryMany(ctx context.Context, st *schemaState, ids []string) (map[string]any, error) {
	rows, err := st.l3.GetMany(ctx, ids)
	if err != nil {
		return nil, l3Error(err)
	}
	defer rows.Close()
	out := make(map[string]any, len(ids))
	for rows.Next() {
		rec := reflect.New(st.model.Type).Elem()
		targets, finish := ds.scanTargets(st, rec, nil)
		if err := rows.Scan(targets...); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrDecodeFailed, st.Name, err)
		}
		if err := finish(); err != nil {
			return nil, err
		}
		st.normalizeTimes(rec)
		out[st.pkOf(rec)] = st.readView(rec)
	}
	if err := rows.Err(); err != nil {
		return nil, l3Error(err)
	}
	return out, nil
}

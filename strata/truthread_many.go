package strata

import (
	"context"
	"fmt"
	"reflect"
	"time"
)

// getMany reads ids with one MGET, then one primary-key query (pk =
// ANY($1)) for the ids Redis lacks. Redis is skipped while keys written
// during an outage may be stale there, and bypassed when it fails; it is
// not filled (single Gets fill it, under their lease).
func (t pgTruth) getMany(ctx context.Context, st *schemaState, ids []string, by time.Time) (map[string]any, error) {
	ds := t.ds
	found := make(map[string]any, len(ids))
	direct, rest := st.splitInFlight(ids) // writes under way: PostgreSQL only (inflight.go)
	if ds.l2 != nil && ds.stale.n.Load() == 0 && len(rest) > 0 {
		var err error
		if rest, err = ds.mgetL2(ctx, st, rest, by, found, false); err != nil {
			return nil, err
		}
	}
	rest = append(rest, direct...)
	if len(rest) == 0 {
		return found, nil
	}
	rows, err := ds.queryMany(ctx, st, rest)
	if err != nil {
		return nil, err
	}
	for id, snap := range rows {
		found[id] = snap
	}
	return found, nil
}

// getMany reads ids with one MGET.
func (t redisTruth) getMany(ctx context.Context, st *schemaState, ids []string, by time.Time) (map[string]any, error) {
	found := make(map[string]any, len(ids))
	if t.ds.stale.n.Load() != 0 {
		return found, nil
	}
	if _, err := t.ds.mgetL2(ctx, st, ids, by, found, true); err != nil {
		return nil, err
	}
	return found, nil
}

// getMany finds nothing below L1.
func (memTruth) getMany(context.Context, *schemaState, []string, time.Time) (map[string]any, error) {
	return map[string]any{}, nil
}

// mgetL2 reads ids from Redis with one MGET into found, and returns the
// ids it did not find there: missing, undecodable (and dropped, see
// fromL2), or all of them when Redis fails and is not the truth (isTruth).
// Redis gets only part of the caller's time (see l2ReadContext).
func (ds *DataStore) mgetL2(ctx context.Context, st *schemaState, ids []string, by time.Time, found map[string]any, isTruth bool) (rest []string, err error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = st.key(id)
	}
	l2ctx, cancel := ds.l2ReadContext(ctx, st, by)
	defer cancel()
	vals, err := ds.l2.MGet(l2ctx, keys)
	if err != nil {
		if isTruth {
			return nil, fmt.Errorf("%w: %w", ErrL2Unavailable, err)
		}
		return ids, nil
	}
	for i, id := range ids {
		if vals[i] == nil {
			rest = append(rest, id)
			continue
		}
		snap, ok, err := ds.fromL2(l2ctx, st, id, vals[i], isTruth)
		if err != nil {
			return nil, err
		}
		if !ok {
			rest = append(rest, id)
			continue
		}
		found[id] = snap
	}
	return rest, nil
}

// queryMany reads the rows of ids from L3 as snapshots, with one query.
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

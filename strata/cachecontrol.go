package strata

import (
	"context"
	"fmt"
	"reflect"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/l3postgres"
)

// Invalidate removes the record id from L1 and L2 on every instance and
// makes every cached search of the schema unreachable. The source of truth
// is not touched: use it after changing a row behind Strata's back.
//
// The local L1 entry is dropped first, whatever Redis does. If Redis cannot
// be told (it is down or refuses writes), Invalidate still returns nil, as a
// write does: the key is remembered, this instance reads it from L3 rather
// than Redis meanwhile, and the L2 key, the search generation and the other
// instances are told as soon as Redis answers (other instances cut off from
// Redis serve nothing from L1 meanwhile). The failure is logged at Warn and
// counted as an L2 "invalidate" error in Config.Metrics. Only for a schema
// whose source of truth is Redis does an unreachable Redis matter to the
// caller, and there Invalidate only drops L1 copies.
func (ds *DataStore) Invalidate(ctx context.Context, schema, id string) error {
	ctx, sp := ds.startOp(ctx, OpInvalidate, schema)
	return sp.done(ds.count(ds.invalidate(ctx, schema, id)), 0)
}

func (ds *DataStore) invalidate(ctx context.Context, schema, id string) error {
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return err
	}
	if !st.truth.l1Fills() {
		return fmt.Errorf("%w: schema %q lives in memory only: invalidating would delete it", ErrInvalidModel, st.Name)
	}
	if err := st.checkID(id); err != nil {
		return err
	}
	defer st.writes.enter()()
	st.l1.Delete(id) // this instance stops serving it at once
	if st.truth.cachedInL2() {
		// The after-write upkeep: DEL (remembered for repair if it fails),
		// generation bump, L1 dropped again (a read may have refilled it
		// from L2 meanwhile), one message to the other instances.
		ds.invalidateAfterWrite(ctx, st, l2redis.OpSet, true, id)
		return nil
	}
	ds.publish(ctx, st, l2redis.OpSet, id)
	return nil
}

// InvalidateAll drops every cached record of the schema: L1 on every
// instance, its L2 keys, and its cached searches. The local L1 is dropped
// first, whatever Redis does; if Redis cannot delete the keys, the error
// wraps ErrL2Unavailable (a prefix cannot be remembered for repair as a
// key can): call it again once Redis answers.
func (ds *DataStore) InvalidateAll(ctx context.Context, schema string) error {
	ctx, sp := ds.startOp(ctx, OpInvalidateAll, schema)
	return sp.done(ds.count(ds.invalidateAll(ctx, schema)), 0)
}

func (ds *DataStore) invalidateAll(ctx context.Context, schema string) error {
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return err
	}
	if !st.truth.l1Fills() {
		return fmt.Errorf("%w: schema %q lives in memory only: invalidating would delete it", ErrInvalidModel, st.Name)
	}
	defer st.writes.enter()()
	st.l1.Clear()
	if st.truth.cachedInL2() {
		return ds.flushL2(ctx, st) // coherence.go
	}
	ds.publish(ctx, st, l2redis.OpFlush)
	return nil
}

// warmPage is how many ids WarmCache handles per round.
const warmPage = 500

// WarmCache loads up to limit records (0 = all) of the schema from L3 into
// L1 and L2, in primary-key order, a page at a time. It is as safe as Get:
// each page's keys are read first, then fill leases are taken in Redis and
// fill epochs in L1, and only then are the rows read, so a write or delete
// that lands meanwhile wins over the page. Records already in L2 are left as
// they are. A page of 500 records costs two Redis round trips (one for its
// leases, one for its fills) and two PostgreSQL queries.
func (ds *DataStore) WarmCache(ctx context.Context, schema string, limit int) error {
	ctx, sp := ds.startOp(ctx, OpWarmCache, schema)
	return sp.done(ds.count(ds.warmCache(ctx, schema, limit)), 0)
}

func (ds *DataStore) warmCache(ctx context.Context, schema string, limit int) error {
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return err
	}
	if limit < 0 {
		return fmt.Errorf("%w: WarmCache limit must not be negative", ErrInvalidModel)
	}
	if err := st.truth.queryable(st); err != nil {
		return err
	}
	pk := st.model.PKField().Column
	after, loaded := "", 0
	for limit == 0 || loaded < limit {
		page := warmPage
		if limit > 0 && limit-loaded < page {
			page = limit - loaded
		}
		q := l3postgres.Query{OrderBy: []l3postgres.Order{{Column: pk}}, Limit: page, Columns: []string{pk}}
		if after != "" {
			q.Where, q.Args = fmt.Sprintf("%s > $1", quoteIdent(pk)), []any{after}
		}
		ids, err := ds.queryIDs(ctx, st, q)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			break
		}
		if err := ds.warmPage(ctx, st, ids); err != nil {
			return err
		}
		loaded += len(ids)
		after = ids[len(ids)-1]
		if len(ids) < page {
			break
		}
	}
	return nil
}

// warmPage fills L1 and L2 with the records ids, guarded like a Get: the
// L1 epochs are read and the L2 leases taken (one pipelined SET NX for the
// page) before the rows are read, and the fills (one pipeline of
// compare-and-set scripts) write only under leases no write or delete has
// voided since. So a page costs two Redis round trips, whatever its size.
func (ds *DataStore) warmPage(ctx context.Context, st *schemaState, ids []string) error {
	epochs := make(map[string]uint64, len(ids))
	for _, id := range ids {
		epochs[id] = st.l1.Epoch(id)
	}
	leases := ds.warmLeases(ctx, st, ids) // position for position with ids; nil without Redis
	rows, err := ds.queryMany(ctx, st, ids)
	if err != nil {
		if leases != nil {
			ds.warmFills(context.WithoutCancel(ctx), st, ids, leases, make([][]byte, len(leases))) // release
		}
		return err
	}
	ds.test.runWarmBeforeFill(st.Name, ids)
	var values [][]byte // for leases: the encoded row, or nil to release (deleted meanwhile)
	if leases != nil {
		values = make([][]byte, len(ids))
	}
	for i, id := range ids {
		snap, ok := rows[id]
		if leases != nil && ok && leases[i].Valid() {
			if data, err := ds.encodeL2(st, reflect.ValueOf(snap).Elem()); err == nil {
				values[i] = data
			}
		}
		if ok && ds.readsL1(st) {
			if _, waiting := st.pendingSnapshot(id); !waiting {
				st.l1.SetIfEpoch(id, snap, epochs[id])
			}
		}
	}
	if leases != nil {
		ds.warmFills(ctx, st, ids, leases, values)
	}
	return nil
}

// queryIDs runs q, which selects only the primary key.
func (ds *DataStore) queryIDs(ctx context.Context, st *schemaState, q l3postgres.Query) ([]string, error) {
	rows, _, err := st.truth.query(ctx, st, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrDecodeFailed, st.Name, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, l3Error(err)
	}
	return ids, nil
}

// quoteIdent quotes a column name that has already been checked against the
// schema.
func quoteIdent(s string) string { return `"` + s + `"` }

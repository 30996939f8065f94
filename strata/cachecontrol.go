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
func (ds *DataStore) Invalidate(ctx context.Context, schema, id string) error {
	return ds.count(ds.invalidate(ctx, schema, id))
}

func (ds *DataStore) invalidate(ctx context.Context, schema, id string) error {
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return err
	}
	if st.l1Truth {
		return fmt.Errorf("%w: schema %q lives in memory only: invalidating would delete it", ErrInvalidModel, st.Name)
	}
	defer st.writes.enter()()
	if ds.l2 != nil && st.l3 != nil {
		if err := ds.l2.Delete(ctx, st.key(id)); err != nil {
			return fmt.Errorf("%w: %w", ErrL2Unavailable, err)
		}
		if err := ds.bumpGeneration(ctx, st); err != nil {
			return err
		}
	}
	st.l1.Delete(id)
	ds.publish(ctx, st, l2redis.OpSet, id)
	return nil
}

// InvalidateAll drops every cached record of the schema: L1 on every
// instance, its L2 keys, and its cached searches.
func (ds *DataStore) InvalidateAll(ctx context.Context, schema string) error {
	return ds.count(ds.invalidateAll(ctx, schema))
}

func (ds *DataStore) invalidateAll(ctx context.Context, schema string) error {
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return err
	}
	if st.l1Truth {
		return fmt.Errorf("%w: schema %q lives in memory only: invalidating would delete it", ErrInvalidModel, st.Name)
	}
	defer st.writes.enter()()
	if ds.l2 != nil && st.l3 != nil {
		if err := ds.bumpGeneration(ctx, st); err != nil {
			return err
		}
		if _, err := ds.l2.DeletePrefix(ctx, l2redis.KeyPrefix(st.prefix)); err != nil {
			return fmt.Errorf("%w: %w", ErrL2Unavailable, err)
		}
	}
	st.l1.Clear()
	ds.publish(ctx, st, l2redis.OpFlush)
	return nil
}

// bumpGeneration makes the schema's cached search results unreachable.
func (ds *DataStore) bumpGeneration(ctx context.Context, st *schemaState) error {
	if ds.l2 == nil {
		return nil
	}
	if _, err := ds.l2.BumpGeneration(ctx, st.prefix); err != nil {
		if st.l3 == nil {
			return fmt.Errorf("%w: %w", ErrL2Unavailable, err)
		}
		// Cached searches cannot be invalidated while Redis is down; they
		// expire by their TTL. Reads of records are unaffected.
		ds.cfg.Logger.Warn("strata: could not invalidate cached searches", "schema", st.Name, "err", err)
	}
	return nil
}

// warmPage is how many rows WarmCache reads per query.
const warmPage = 500

// WarmCache loads up to limit rows (0 = all) of the schema from L3 into L1
// and L2, reading them in pages in primary-key order. Records already in L2
// are left as they are (the fill is SET NX), and L1 is filled only for pages
// no local write overlapped.
func (ds *DataStore) WarmCache(ctx context.Context, schema string, limit int) error {
	return ds.count(ds.warmCache(ctx, schema, limit))
}

func (ds *DataStore) warmCache(ctx context.Context, schema string, limit int) error {
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return err
	}
	if limit < 0 {
		return fmt.Errorf("%w: WarmCache limit must not be negative", ErrInvalidModel)
	}
	if st.l3 == nil {
		return fmt.Errorf("%w: schema %q has no PostgreSQL tier", ErrL3Unavailable, st.Name)
	}
	pk := st.model.pkField().column
	cols := make([]string, len(st.model.fields))
	for i, f := range st.model.fields {
		cols[i] = f.column
	}
	after, loaded := "", 0
	for limit == 0 || loaded < limit {
		page := warmPage
		if limit > 0 && limit-loaded < page {
			page = limit - loaded
		}
		q := l3postgres.Query{OrderBy: []l3postgres.Order{{Column: pk}}, Limit: page, Columns: cols}
		if after != "" {
			q.Where, q.Args = fmt.Sprintf("%s > $1", quoteIdent(pk)), []any{after}
		}
		guard := st.writes.begin()
		recs, err := ds.queryRecords(ctx, st, q)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			break
		}
		if err := ds.warmL2(ctx, st, recs); err != nil {
			return err
		}
		if st.useL1 && st.writes.quiet(guard) {
			for _, rec := range recs {
				id := st.pkOf(rec)
				st.l1.SetIfEpoch(id, st.snapshot(rec), st.l1.Epoch(id))
			}
		}
		loaded += len(recs)
		after = st.pkOf(recs[len(recs)-1])
		if len(recs) < page {
			break
		}
	}
	return nil
}

// warmL2 stores records in Redis only where the key is absent, in one
// pipeline.
func (ds *DataStore) warmL2(ctx context.Context, st *schemaState, recs []reflect.Value) error {
	if ds.l2 == nil {
		return nil
	}
	pipe := ds.l2.Client().Pipeline()
	for _, rec := range recs {
		data, err := ds.encodeL2(st, rec)
		if err != nil {
			return err
		}
		pipe.SetNX(ctx, st.key(st.pkOf(rec)), data, st.l2TTL)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		ds.cfg.Logger.Warn("strata: WarmCache could not fill redis", "schema", st.Name, "err", err)
	}
	return nil
}

// queryRecords runs q (all columns) and returns the decoded rows.
func (ds *DataStore) queryRecords(ctx context.Context, st *schemaState, q l3postgres.Query) ([]reflect.Value, error) {
	rows, err := st.l3.Query(ctx, q)
	if err != nil {
		return nil, l3Error(err)
	}
	defer rows.Close()
	var out []reflect.Value
	for rows.Next() {
		rec := reflect.New(st.model.typ).Elem()
		targets, finish := ds.scanTargets(st, rec, nil)
		if err := rows.Scan(targets...); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrDecodeFailed, st.Name, err)
		}
		if err := finish(); err != nil {
			return nil, err
		}
		st.normalizeTimes(rec)
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, l3Error(err)
	}
	return out, nil
}

// quoteIdent quotes a column name that has already been checked against the
// schema.
func quoteIdent(s string) string { return `"` + s + `"` }

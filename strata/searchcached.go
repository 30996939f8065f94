package strata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/AndrewDonelson/strata/l2redis"
)

// SearchCached is Search with its result set cached in Redis.
//
// The cache key is derived from the schema, the exact SQL condition, the
// arguments (with their Go types), the order, limit, offset and projection,
// and embeds the schema's generation number. Every write through Strata
// (Set, Delete, SetMany, Tx, Invalidate, InvalidateAll), from any instance,
// advances the generation, so a cached result never outlives a write: older
// entries become unreachable at once and expire by the schema's L2 TTL.
// Writes made behind Strata's back are not seen; call InvalidateAll after
// them. Query.ForceL2 refreshes the cached entry; Query.ForceL3 bypasses the
// cache entirely. Without Redis, SearchCached is Search.
//
// Cached results hold what L2 may hold: omit_cache fields are left zero.
func (ds *DataStore) SearchCached(ctx context.Context, schema string, q *Query, destSlice any) error {
	return ds.count(ds.searchCached(ctx, schema, q, destSlice))
}

func (ds *DataStore) searchCached(ctx context.Context, schema string, q *Query, destSlice any) error {
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return err
	}
	if _, err := st.sliceOf(destSlice); err != nil {
		return err
	}
	// A replica may lag, so its results are not cached either.
	if ds.l2 == nil || st.l3 == nil || st.replica || (q != nil && q.ForceL3) || ds.stale.genStale(st) {
		return ds.search(ctx, schema, q, destSlice)
	}
	if q == nil {
		q = &Query{}
	}
	fp, err := st.fingerprint(q)
	if err != nil {
		return err
	}
	data, gen, err := ds.l2.GetResult(ctx, st.prefix, fp)
	if err == nil && !q.ForceL2 {
		if err := ds.decodeResult(st, data, destSlice); err == nil {
			return nil
		}
		// An undecodable entry (a model change) is replaced below.
	} else if err != nil && !errors.Is(err, l2redis.ErrNotFound) {
		return ds.search(ctx, schema, q, destSlice) // Redis is down: bypass the cache
	}
	if err := ds.search(ctx, schema, q, destSlice); err != nil {
		return err
	}
	if data, err := ds.encodeResult(st, destSlice); err == nil {
		// Stored under the generation read before the query: a write that
		// bumped it meanwhile leaves this entry unreachable, never stale.
		_ = ds.l2.SetResult(ctx, st.prefix, gen, fp, data, st.l2TTL)
	}
	return nil
}

// fingerprint identifies a query exactly: any difference in condition,
// argument value or type, order, paging or projection gives another key.
func (st *schemaState) fingerprint(q *Query) (string, error) {
	args := make([]string, len(q.Args))
	for i, a := range q.Args {
		b, err := json.Marshal(a)
		if err != nil {
			return "", fmt.Errorf("%w: SearchCached argument %d (%T) cannot be fingerprinted: %w", ErrInvalidModel, i+1, a, err)
		}
		args[i] = fmt.Sprintf("%T=%s", a, b)
	}
	desc := ""
	if q.Desc {
		desc = " DESC"
	}
	return fmt.Sprintf("table=%s|where=%s|args=[%s]|order=%s%s|limit=%d|offset=%d|fields=%s",
		st.table, q.Where, strings.Join(args, ","), q.OrderBy, desc, q.Limit, q.Offset, strings.Join(q.Fields, ",")), nil
}

// encodeResult encodes the rows in destSlice without their omit_cache fields.
func (ds *DataStore) encodeResult(st *schemaState, destSlice any) ([]byte, error) {
	sv := reflect.ValueOf(destSlice).Elem()
	rows := reflect.MakeSlice(reflect.SliceOf(st.model.typ), sv.Len(), sv.Len())
	for i := range sv.Len() {
		src := sv.Index(i)
		if src.Kind() == reflect.Pointer {
			src = src.Elem()
		}
		for _, fi := range st.l2Fields {
			f := &st.model.fields[fi]
			deepCopy(fieldOf(rows.Index(i), f), fieldOf(src, f))
		}
	}
	p := reflect.New(rows.Type())
	p.Elem().Set(rows)
	data, err := ds.cfg.Codec.Marshal(p.Interface())
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrEncodeFailed, st.Name, err)
	}
	return data, nil
}

// decodeResult decodes a cached result set into destSlice.
func (ds *DataStore) decodeResult(st *schemaState, data []byte, destSlice any) error {
	p := reflect.New(reflect.SliceOf(st.model.typ))
	if err := ds.cfg.Codec.Unmarshal(data, p.Interface()); err != nil {
		return fmt.Errorf("%w: %s cached search: %w", ErrDecodeFailed, st.Name, err)
	}
	rows := p.Elem()
	sv := reflect.ValueOf(destSlice).Elem()
	out := reflect.MakeSlice(sv.Type(), 0, rows.Len())
	byPtr := sv.Type().Elem() == st.ptrType
	for i := range rows.Len() {
		rec := rows.Index(i)
		st.normalizeTimes(rec)
		if byPtr {
			out = reflect.Append(out, rec.Addr())
		} else {
			out = reflect.Append(out, rec)
		}
	}
	sv.Set(out)
	return nil
}

package strata

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"

	"github.com/AndrewDonelson/strata/l2redis"

	"github.com/AndrewDonelson/strata/strata/internal/model"
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
// The key holds no query text or argument: the fingerprint of the query is
// hashed (SHA-256, 128 bits kept), so key length is bounded and values such
// as e-mail addresses never appear in Redis key names.
//
// SearchCached returns what a cached read returns, whichever path serves the
// call (a cached result, the query on a miss, or the query when the cache is
// bypassed): every field except omit_cache fields, which are left zero as
// Get leaves them. Read omit_cache fields with Search.
func (ds *DataStore) SearchCached(ctx context.Context, schema string, q *Query, destSlice any) error {
	ctx, sp := ds.startOp(ctx, OpSearchCached, schema)
	err := ds.count(ds.searchCached(ctx, schema, q, destSlice))
	if sp.active() {
		return sp.done(err, lenOf(destSlice))
	}
	return err
}

func (ds *DataStore) searchCached(ctx context.Context, schema string, q *Query, destSlice any) error {
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return err
	}
	if _, err := st.sliceOf(destSlice); err != nil {
		return err
	}
	if err := ds.searchCachedRows(ctx, st, schema, q, destSlice); err != nil {
		return err
	}
	st.clearOmitCache(destSlice)
	return nil
}

// searchCachedRows serves the rows from the cached result set, or runs the
// query and caches its result.
func (ds *DataStore) searchCachedRows(ctx context.Context, st *schemaState, schema string, q *Query, destSlice any) error {
	if !st.truth.cachesResults(st) || (q != nil && q.ForceL3) {
		return ds.search(ctx, schema, q, destSlice)
	}
	if q == nil {
		q = &Query{}
	}
	fp, err := st.fingerprint(q)
	if err != nil {
		return err
	}
	data, gen, err := st.truth.cachedResult(ctx, st, fp)
	if err == nil && !q.ForceL2 {
		if err := ds.decodeResult(st, data, destSlice); err == nil {
			ds.searchCacheOutcome(st.Name, true)
			return nil
		}
		// An undecodable entry (a model change) is replaced below.
	} else if err != nil && !errors.Is(err, l2redis.ErrNotFound) {
		return ds.search(ctx, schema, q, destSlice) // Redis is down: bypass the cache
	}
	ds.searchCacheOutcome(st.Name, false)
	if err := ds.search(ctx, schema, q, destSlice); err != nil {
		return err
	}
	if data, err := ds.encodeResult(st, destSlice); err == nil {
		// Stored under the generation read before the query: a write that
		// bumped it meanwhile leaves this entry unreachable, never stale.
		st.truth.storeResult(ctx, st, gen, fp, data)
	}
	return nil
}

// fingerprint identifies a query exactly: any difference in condition,
// argument value or type, order, paging or projection gives another key.
// It is a SHA-256 of a length-prefixed encoding of those parts (so no two
// different queries encode alike), kept to 128 bits in hex: a key of
// bounded length that reveals nothing of the query.
func (st *schemaState) fingerprint(q *Query) (string, error) {
	h := sha256.New()
	part := func(s string) {
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	part("strata/searchcached/v1")
	part(st.table)
	part(q.Where)
	part(strconv.Itoa(len(q.Args)))
	for i, a := range q.Args {
		b, err := json.Marshal(a)
		if err != nil {
			return "", fmt.Errorf("%w: SearchCached argument %d (%T) cannot be fingerprinted: %w", ErrInvalidQuery, i+1, a, err)
		}
		part(fmt.Sprintf("%T", a))
		part(string(b))
	}
	part(q.OrderBy)
	part(strconv.FormatBool(q.Desc))
	part(strconv.Itoa(q.Limit))
	part(strconv.Itoa(q.Offset))
	part(strconv.Itoa(len(q.Fields)))
	for _, f := range q.Fields {
		part(f)
	}
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}

// clearOmitCache zeroes the omit_cache fields of every row in destSlice (a
// *[]Model or *[]*Model).
func (st *schemaState) clearOmitCache(destSlice any) {
	if st.views.L2.Whole() {
		return
	}
	sv := reflect.ValueOf(destSlice).Elem()
	for i := range sv.Len() {
		row := sv.Index(i)
		if row.Kind() == reflect.Pointer {
			if row.IsNil() {
				continue
			}
			row = row.Elem()
		}
		for fi := range st.model.Fields {
			if f := &st.model.Fields[fi]; f.Has(model.FlagOmitCache) {
				fv := fieldOf(row, f)
				fv.Set(reflect.Zero(fv.Type()))
			}
		}
	}
}

// encodeResult encodes the rows in destSlice without their omit_cache fields.
func (ds *DataStore) encodeResult(st *schemaState, destSlice any) ([]byte, error) {
	sv := reflect.ValueOf(destSlice).Elem()
	rows := reflect.MakeSlice(reflect.SliceOf(st.model.Type), sv.Len(), sv.Len())
	for i := range sv.Len() {
		src := sv.Index(i)
		if src.Kind() == reflect.Pointer {
			src = src.Elem()
		}
		st.views.L2.Copy(rows.Index(i), src)
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
	p := reflect.New(reflect.SliceOf(st.model.Type))
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

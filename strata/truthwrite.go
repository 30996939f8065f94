package strata

import (
	"context"
	"reflect"
)

// truthWriter stores and removes records in a schema's truth and keeps the
// caches above it coherent. Set, SetMany, Tx and the write-behind flush
// all store through put, and Delete through del: each write has one path.
type truthWriter interface {
	// put stores b's records (see writeBatch) and runs the after-write
	// upkeep: with PostgreSQL the upsert, then the caches' refresh or
	// invalidation; without it, the records themselves into Redis or L1.
	put(ctx context.Context, st *schemaState, b *writeBatch) error
	// del removes id from the truth and every cache.
	del(ctx context.Context, st *schemaState, id string) error
	// stored returns, for the records among recs whose auto_now_add
	// fields are zero, the record this instance knows as stored, so that
	// their first times are kept (see fillFields).
	stored(ctx context.Context, st *schemaState, ids []string, recs []reflect.Value) (map[string]reflect.Value, error)
}

// writeBatch is what one write stores: the records of ids, with each one's
// omit_cache clear mask.
type writeBatch struct {
	op     string // the operation in metrics: "set", "setmany", "flush"
	ids    []string
	recs   []reflect.Value
	clears [][]bool // one per record; nil, or a nil entry, clears nothing
	// flush marks a write-behind flush: this instance's L1 already holds
	// the value flushed, or a newer pending one, and is kept; the
	// insert-only times PostgreSQL kept are not read back.
	flush bool
}

// oneWrite is the batch of a single Set, in one allocation.
func oneWrite(id string, rec reflect.Value, clear []bool) *writeBatch {
	w := &struct {
		b     writeBatch
		id    [1]string
		rec   [1]reflect.Value
		clear [1][]bool
	}{id: [1]string{id}, rec: [1]reflect.Value{rec}, clear: [1][]bool{clear}}
	w.b = writeBatch{op: "set", ids: w.id[:], recs: w.rec[:], clears: w.clear[:]}
	return &w.b
}

// clear returns record i's clear mask.
func (b *writeBatch) clear(i int) []bool {
	if b.clears == nil {
		return nil
	}
	return b.clears[i]
}

// single reports whether b is one Set's record, stored with a single
// statement rather than the batched COPY.
func (b *writeBatch) single() bool { return b.op == "set" && len(b.ids) == 1 }

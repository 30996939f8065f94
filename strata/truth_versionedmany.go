package strata

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// Versioned batches: SetMany, a Tx's Sets and the write-behind flush
// refresh Redis with row versions as a single Set does (see truth_versioned.go
// for why that is safe), the whole batch in one Apply script — one round
// trip with the search generation and the message. Each key is refreshed
// only if Redis holds a lower version, and never created; a record whose
// version is unknown has its key deleted instead. Deletes keep deleting.

// versionedRows returns the function that takes each row
// UpsertManyReturning reports on a versioned table — the key, the
// insert-only columns, the version — into vers and out, both parallel to
// b.ids: out[i] is record i as stored, for the refresh. It is b.recs[i],
// which takes the insert-only times PostgreSQL kept, except in a flush,
// whose records the write-behind queue still holds: there it is a copy.
func (st *schemaState) versionedRows(b *writeBatch, vers []uint64, out []reflect.Value) func(scan func(dest ...any) error) error {
	index := make(map[string]int, len(b.ids))
	for i, id := range b.ids {
		index[id] = i
		out[i] = b.recs[i]
	}
	return func(scan func(dest ...any) error) error {
		scratch := reflect.New(st.model.Type).Elem() // (fresh: pointer fields are not shared)
		var id string
		var ver int64
		dest := append(append([]any{&id}, st.insertOnlyTargets(scratch)...), &ver)
		if err := scan(dest...); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrDecodeFailed, st.Name, err)
		}
		i, ok := index[id]
		if !ok {
			return nil
		}
		vers[i] = uint64(ver)
		if b.flush {
			cp := reflect.New(st.model.Type).Elem()
			cp.Set(b.recs[i])
			out[i] = cp
		}
		st.normalizeTimes(scratch)
		st.keepInsertOnly(out[i], scratch)
		return nil
	}
}

// keepInsertOnly copies the insert-only (auto_now_add) fields of from
// into rec.
func (st *schemaState) keepInsertOnly(rec, from reflect.Value) {
	dst, src := st.insertOnlyTargets(rec), st.insertOnlyTargets(from)
	for i := range dst {
		reflect.ValueOf(dst[i]).Elem().Set(reflect.ValueOf(src[i]).Elem())
	}
}

// refreshManyAfterWrite is refreshAfterWrite for a batch: the L2 keys of
// ids are refreshed with recs at versions vers (all parallel), in one
// round trip, instead of deleted. dropL1 is false for a write-behind flush
// (see invalidateAfterWrite). Should Redis fail, the keys go to the
// repairer, which deletes: always safe.
func (ds *DataStore) refreshManyAfterWrite(ctx context.Context, st *schemaState, ids []string, recs []reflect.Value, vers []uint64, epochs []writerEpoch, dropL1 bool) {
	if ds.l2 == nil {
		ds.invalidateAfterWrite(ctx, st, l2redis.OpSet, dropL1, ids...)
		return
	}
	guard := !ds.test.noVersionGuard.Load()
	changes := make([]l2redis.Change, len(ids))
	for i, id := range ids {
		changes[i] = l2redis.Change{Key: st.key(id)} // (delete, unless refreshed)
		if vers[i] == 0 {
			continue
		}
		if data, err := ds.encodeL2(st, recs[i]); err == nil {
			changes[i].Value, changes[i].TTL, changes[i].Refresh = l2redis.Versioned(vers[i], data), st.l2TTL, guard
		}
	}
	for _, id := range ids {
		ds.test.runBeforeRefresh(st.Name, id)
	}
	ctx, cancel := context.WithTimeout(ctx, postCommitTimeout)
	defer cancel()
	start := time.Now()
	err := ctx.Err()
	if err == nil {
		err = ds.l2.Apply(ctx, ds.bus, changes, st.prefix, l2redis.OpSet, st.Name, ids...)
	}
	ds.cfg.Metrics.Latency(st.Name, metrics.TierL2, "invalidate", time.Since(start))
	if err != nil {
		ds.afterUpkeepFailed(ctx, st, dropL1, err, ids...)
		return
	}
	if ds.bus != nil {
		ds.invalidationSent(st.Name, l2redis.OpSet, len(ids))
	}
	if dropL1 { // refreshed, or created (truth_l1own.go)
		ds.refreshL1Many(st, ids, recs, vers, epochs)
	}
	ds.startRepairerIfStale()
}

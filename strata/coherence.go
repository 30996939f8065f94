package strata

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// After a write reaches the source of truth, the caches are invalidated:
// the L2 key is deleted (which also voids every fill lease on it), the
// schema's search generation advances (if SearchCached has created it:
// without it no cached search exists), the local L1 entry is deleted
// (which advances its fill epoch) and one message tells the other
// instances to do the same. The Redis part is one script, one round trip
// (l2redis.Store.Apply). The next read fills the caches under the lease
// and epoch guards.
//
// A Set, SetMany, Tx or write-behind flush of a versioned schema refreshes
// the L2 keys instead (see truth_versioned.go, truth_versionedmany.go): the row
// version, ordered by PostgreSQL, lets Redis keep the newer of two
// writers' values whatever order they arrive in, and a refresh never
// creates a key, so it cannot resurrect a deleted row. Deletes, and writes
// of a schema this process has not migrated, delete, which commutes and is
// always safe.

// upkeepBehind reports whether a Set's Redis upkeep may run after Set has
// returned: with the change feed on, which invalidates every commit even
// if this process dies before its own upkeep. Until the upkeep is done,
// this instance's reads of the id bypass Redis (inflight.go).
func (ds *DataStore) upkeepBehind() bool { return ds.cfg.ChangeFeed }

// postCommitTimeout bounds the cache upkeep after a commit, within the
// caller's own deadline: a call returns by its context's deadline, and
// what Redis could not be told by then is handed to the repairer (below),
// which goes on in the background.
const postCommitTimeout = 5 * time.Second

// invalidateAfterWrite runs the upkeep for ids of st after their write or
// delete reached L3. dropL1 is false for write-behind flushes, whose L1
// entry already holds the value flushed (or a newer pending one).
//
// It waits for Redis no longer than ctx allows (and postCommitTimeout). If
// the L2 delete does not succeed in time, the keys go to the stale ledger
// before the local L1 entries are dropped, so that this instance reads them
// from L3, not from the old value in Redis, until the repairer has deleted
// them, advanced the search generation and told the other instances — at
// once, in the background. Read-your-writes on this instance holds either
// way.
func (ds *DataStore) invalidateAfterWrite(ctx context.Context, st *schemaState, op l2redis.Op, dropL1 bool, ids ...string) {
	dropLocal := func() {
		if dropL1 {
			for _, id := range ids {
				st.l1.Delete(id)
			}
		}
	}
	if ds.l2 == nil { // no Redis, no other instances to tell
		dropLocal()
		return
	}
	ds.test.runBeforeInvalidate(st.Name, ids)
	ctx, cancel := context.WithTimeout(ctx, postCommitTimeout)
	defer cancel()
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = st.key(id)
	}
	start := time.Now()
	err := ctx.Err() // (a call whose time is up does not ask Redis)
	if err == nil {
		// One round trip: UNLINK, the search generation (only if a cached
		// search could depend on it) and the message to the other instances.
		err = ds.l2.Invalidate(ctx, ds.bus, keys, st.prefix, op, st.Name, ids...)
	}
	ds.cfg.Metrics.Latency(st.Name, metrics.TierL2, "invalidate", time.Since(start))
	if err != nil {
		ds.afterUpkeepFailed(ctx, st, dropL1, err, ids...)
		return
	}
	if ds.bus != nil {
		ds.invalidationSent(st.Name, op, len(ids))
	}
	dropLocal()
	ds.startRepairerIfStale()
}

// afterUpkeepFailed remembers ids of st, whose after-write upkeep in Redis
// failed, for the repairer (which deletes, bumps and publishes), then
// drops the local L1 entries (when dropL1).
func (ds *DataStore) afterUpkeepFailed(ctx context.Context, st *schemaState, dropL1 bool, err error, ids ...string) {
	ds.cfg.Metrics.Error(st.Name, metrics.TierL2, "invalidate")
	ds.stale.add(st, ids...)
	ds.stale.addGen(st)
	if dropL1 {
		for _, id := range ids {
			st.l1.Delete(id)
		}
	}
	ds.startRepairer()
	ds.kickRepairer()
	logWarn(ctx, ds.cfg.Logger, "strata: redis invalidation failed; retried in the background", "schema", st.Name, "ids", len(ids), "err", err)
}

// startRepairerIfStale starts the repairer when something became stale.
func (ds *DataStore) startRepairerIfStale() {
	if ds.stale.n.Load() > 0 {
		ds.startRepairer()
	}
}

// repairInterval is how often the repairer retries while anything is stale.
const repairInterval = time.Second

// startRepairer starts, once, the goroutine that retries what Redis could
// not be told, and settles ambiguous writes (see ambiguous.go). It is
// started the first time anything becomes stale and ends with Close. It
// runs every repairInterval, every settlePoll while an ambiguous write
// waits, and at once when kicked.
func (ds *DataStore) startRepairer() {
	ds.life.repairer.Do(func() {
		ds.goBackground(func() {
			t := time.NewTimer(repairInterval)
			defer t.Stop()
			for {
				select {
				case <-ds.life.stop:
					return
				case <-t.C:
				case <-ds.repairNow:
				}
				// Redis first: settling asks PostgreSQL, which may not answer.
				if ds.stale.n.Load() > 0 {
					ds.retryStaleL2(context.Background())
				}
				if ds.settleDoubts(context.Background()) > 0 {
					ds.retryStaleL2(context.Background())
				}
				next := repairInterval
				if ds.doubts.n.Load() > 0 {
					next = settlePoll
				}
				t.Stop()
				select { // (drain a fire that raced the kick)
				case <-t.C:
				default:
				}
				t.Reset(next)
			}
		})
	})
}

// kickRepairer makes the repairer run now rather than at its next tick.
func (ds *DataStore) kickRepairer() {
	select {
	case ds.repairNow <- struct{}{}:
	default:
	}
}

// retryStaleL2 deletes the remembered keys, advances the remembered
// generations (those whose counter exists) and tells the other instances,
// which may have cached the old values, to drop them: one round trip per
// schema. What fails stays remembered.
func (ds *DataStore) retryStaleL2(ctx context.Context) {
	keys, gens := ds.stale.snapshot()
	if (len(keys) == 0 && len(gens) == 0) || ds.l2 == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), postCommitTimeout)
	defer cancel()
	bySchema := map[*schemaState][]string{}
	for _, k := range keys {
		bySchema[k.st] = append(bySchema[k.st], k.id)
	}
	bumped := map[*schemaState]uint64{}
	for st, v := range gens {
		if _, also := bySchema[st]; also {
			bumped[st] = v // (advanced below, with the keys)
			continue
		}
		if err := ds.l2.Invalidate(ctx, nil, nil, st.prefix, l2redis.OpSet, st.Name); err == nil {
			bumped[st] = v
		}
	}
	for st, ids := range bySchema {
		list := make([]string, len(ids))
		for i, id := range ids {
			list[i] = st.key(id)
		}
		// The searches that read the old values go with the keys.
		if err := ds.l2.Invalidate(ctx, ds.bus, list, st.prefix, l2redis.OpSet, st.Name, ids...); err != nil {
			return // retried: the entries stay
		}
		if ds.bus != nil {
			ds.invalidationSent(st.Name, l2redis.OpSet, len(ids))
		}
	}
	ds.stale.done(keys, bumped)
	if len(keys) > 0 {
		ds.cfg.Logger.Info(fmt.Sprintf("strata: repaired %d redis keys written during an outage", len(keys)))
	}
}

// onInvalidation applies another instance's write to this instance's L1.
// Deleting the entry also advances its fill-guard epoch, so a fill of this
// key already in flight here will not install the value it read before.
func (ds *DataStore) onInvalidation(msg l2redis.Invalidation) {
	st, ok := (*ds.schemas.Load())[msg.Schema]
	if !ok {
		return
	}
	ds.invalidationReceived(msg)
	if msg.Op == l2redis.OpFlush {
		st.l1.Clear()
		ds.test.runL1Dropped(st.Name, nil)
	} else {
		for _, id := range msg.IDs {
			st.l1.Delete(id)
		}
		ds.test.runL1Dropped(st.Name, msg.IDs)
	}
	st.writes.invalidated()
}

// l1Live reports whether L1 may be read and filled: only while this
// instance can hear the other instances' invalidations, that is always
// without Redis (no bus: L1 is the only coherence there is, or the truth)
// and otherwise while the bus is live. It is one atomic load, for the L1
// hit path.
func (ds *DataStore) l1Live() bool { return ds.bus == nil || ds.bus.Live() }

// flushL2 is InvalidateAll's Redis part: the schema's keys deleted, L1
// dropped again (refilled from L2 before the keys were gone), then in one
// round trip the search generation (if a cached search could depend on
// it) and the message, after the keys are gone so that no instance
// refills its L1 from them. A generation Redis could not advance is
// repaired later; the keys cannot be, so their failure is returned.
func (ds *DataStore) flushL2(ctx context.Context, st *schemaState) error {
	_, derr := ds.l2.DeletePrefix(ctx, l2redis.KeyPrefix(st.prefix))
	st.l1.Clear()
	if err := ds.l2.Invalidate(ctx, ds.bus, nil, st.prefix, l2redis.OpFlush, st.Name); err != nil {
		ds.stale.addGen(st) // SearchCached bypasses its cache until the repair
		ds.startRepairer()
		derr = errors.Join(derr, err)
	} else if ds.bus != nil {
		ds.invalidationSent(st.Name, l2redis.OpFlush, 0)
	}
	if derr != nil {
		return fmt.Errorf("%w: %w", ErrL2Unavailable, derr)
	}
	return nil
}

// readsL1 reports whether a read of st may use L1 now: the schema reads
// through L1 (no omit_l1 field) and L1 is live (see l1Live).
func (ds *DataStore) readsL1(st *schemaState) bool { return st.l1Serves() && ds.l1Live() }

// l1Serves reports whether st's L1 entries can answer a read: false for a
// schema with omit_l1 fields and a lower tier, whose L1 could not return
// the whole record (decided at Register).
func (st *schemaState) l1Serves() bool { return st.useL1 }

// negativeCaching reports whether L1 may remember absences (see
// l1Options): it needs the invalidation bus, which ends them when any
// instance writes the id.
func (ds *DataStore) negativeCaching() bool { return ds.bus != nil && ds.cfg.NegativeCacheTTL > 0 }

// onBusLost runs when the invalidation subscription is found lost: from now
// until onResubscribe has dropped L1 and the bus is live again, reads skip
// L1 (see l1Live).
func (ds *DataStore) onBusLost(err error) {
	ds.cfg.Logger.Warn("strata: invalidation subscription lost; reads bypass L1 until it is back", "err", err)
}

// onResubscribe runs after every (re)subscription and sequence gap:
// messages may have been missed, so every L1 is dropped (the bus turns
// live, and L1 is used again, only after this returns). It is also the
// moment Redis answers again, so keys whose L2 update failed meanwhile are
// invalidated now.
func (ds *DataStore) onResubscribe(ev l2redis.ResubscribeEvent) {
	defer ds.resubscribeFlushed(ev.Reason, ds.l1Len()) // counted before the flush
	for _, st := range *ds.schemas.Load() {
		if !st.l1Truth {
			st.l1.Clear()
			st.writes.invalidated()
		}
	}
	if ev.Reason != l2redis.Subscribed {
		ds.cfg.Logger.Warn("strata: invalidations may have been missed; dropped every L1 entry", "reason", ev.Reason.String())
	}
	ds.retryStaleL2(context.Background())
}

// publish tells the other instances to drop their L1 copies. A failed
// publish is logged; subscribers notice the sequence gap and drop their L1.
func (ds *DataStore) publish(ctx context.Context, st *schemaState, op l2redis.Op, ids ...string) {
	if ds.bus == nil {
		return
	}
	if err := ds.bus.Publish(ctx, op, st.Name, ids...); err != nil {
		// Subscribers notice the gap only at this instance's next message:
		// remember the ids so the repairer deletes and announces them again.
		if st.l3 != nil { // (never for Redis-only schemas: the repair deletes keys)
			ds.stale.add(st, ids...)
			ds.startRepairer()
		}
		logWarn(ctx, ds.cfg.Logger, "strata: publishing an invalidation failed; retried", "schema", st.Name, "err", err)
		return
	}
	ds.invalidationSent(st.Name, op, len(ids))
}

// sharesCaches reports whether this DataStore has Redis: caches shared
// with other instances, which a failed or doubtful write's upkeep must
// reach later (the repairer). Without it, only this instance's L1 needs
// telling.
func (ds *DataStore) sharesCaches() bool { return ds.l2 != nil }

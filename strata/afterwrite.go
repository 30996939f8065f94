package strata

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// After a write reaches the source of truth, the caches are invalidated,
// not filled: the L2 key is deleted (which also voids every fill lease on
// it), the schema's search generation advances (if SearchCached has created
// it: without it no cached search exists), the local L1 entry is deleted
// (which advances its fill epoch) and one message tells the other instances
// to do the same. The Redis part is one script, one round trip
// (l2redis.Store.Invalidate). The next read fills the caches under the lease
// and epoch guards.
//
// Filling them from the writer instead looks cheaper but cannot be made
// safe without versions ordered by the database: two writers of one key
// commit in one order and may update Redis (or L1) in the other, leaving the
// older value cached after both returned — and a Set racing a Delete would
// resurrect the deleted record. Deletion commutes; a cache filled only by
// guarded reads never goes back in time.

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
		ds.cfg.Metrics.Error(st.Name, metrics.TierL2, "invalidate")
		ds.stale.add(st, ids...) // the repairer deletes, bumps and publishes
		ds.stale.addGen(st)
		dropLocal()
		ds.startRepairer()
		ds.kickRepairer()
		logWarn(ctx, ds.cfg.Logger, "strata: redis invalidation failed; retried in the background", "schema", st.Name, "ids", len(ids), "err", err)
		return
	}
	if ds.bus != nil {
		ds.invalidationSent(st.Name, op, len(ids))
	}
	dropLocal()
	ds.startRepairerIfStale()
}

// startRepairerIfStale starts the repairer when something became stale.
func (ds *DataStore) startRepairerIfStale() {
	if ds.stale.n.Load() > 0 {
		ds.startRepairer()
	}
}

// bumpGeneration makes the schema's cached search results unreachable. If
// Redis cannot be told now, the schema is remembered and bumped when it
// answers; meanwhile SearchCached bypasses its cache for that schema.
func (ds *DataStore) bumpGeneration(ctx context.Context, st *schemaState) {
	if ds.l2 == nil {
		return
	}
	if _, err := ds.l2.BumpGeneration(ctx, st.prefix); err != nil {
		ds.stale.addGen(st)
		logWarn(ctx, ds.cfg.Logger, "strata: could not invalidate cached searches; retried when redis answers", "schema", st.Name, "err", err)
	}
}

// staleL2 remembers what Redis (or the other instances) could not be told
// during an outage: record keys that may hold a value older than L3 or that
// other instances may still cache, and schemas whose search generation could
// not be advanced. A background repairer retries every second until all is
// told; meanwhile reads on this instance do not read those keys from Redis
// (stale.has) and SearchCached bypasses its cache for those schemas
// (stale.genStale).
type staleL2 struct {
	n    atomic.Int64 // len(keys)+len(gens), readable without the lock
	mu   sync.Mutex
	ver  uint64
	keys map[string]staleKey // by Redis key
	gens map[*schemaState]uint64
}

type staleKey struct {
	st  *schemaState
	id  string
	ver uint64 // when it was (last) added; repair forgets it only if unchanged
}

func (s *staleL2) count() { s.n.Store(int64(len(s.keys) + len(s.gens))) }

func (s *staleL2) add(st *schemaState, ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		s.keys = map[string]staleKey{}
	}
	for _, id := range ids {
		s.ver++
		s.keys[st.key(id)] = staleKey{st: st, id: id, ver: s.ver}
	}
	s.count()
}

func (s *staleL2) addGen(st *schemaState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gens == nil {
		s.gens = map[*schemaState]uint64{}
	}
	s.ver++
	s.gens[st] = s.ver
	s.count()
}

func (s *staleL2) has(key string) bool {
	if s.n.Load() == 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.keys[key]
	return ok
}

func (s *staleL2) genStale(st *schemaState) bool {
	if s.n.Load() == 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.gens[st]
	return ok
}

// snapshot copies the remembered entries without removing them: they are
// removed only once Redis has been told.
func (s *staleL2) snapshot() (map[string]staleKey, map[*schemaState]uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make(map[string]staleKey, len(s.keys))
	for k, v := range s.keys {
		keys[k] = v
	}
	gens := make(map[*schemaState]uint64, len(s.gens))
	for st, v := range s.gens {
		gens[st] = v
	}
	return keys, gens
}

// done forgets the repaired entries, except those added again since the
// snapshot (their newer failure still needs a repair).
func (s *staleL2) done(keys map[string]staleKey, gens map[*schemaState]uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range keys {
		if cur, ok := s.keys[k]; ok && cur.ver == v.ver {
			delete(s.keys, k)
		}
	}
	for st, v := range gens {
		if cur, ok := s.gens[st]; ok && cur == v {
			delete(s.gens, st)
		}
	}
	s.count()
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
// generations and tells the other instances, which may have cached the old
// values, to drop them. What fails stays remembered.
func (ds *DataStore) retryStaleL2(ctx context.Context) {
	keys, gens := ds.stale.snapshot()
	if (len(keys) == 0 && len(gens) == 0) || ds.l2 == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), postCommitTimeout)
	defer cancel()
	if len(keys) > 0 {
		list := make([]string, 0, len(keys))
		for k := range keys {
			list = append(list, k)
		}
		if _, err := ds.l2.DeleteMany(ctx, list); err != nil {
			return
		}
	}
	bumped := map[*schemaState]uint64{}
	for st, v := range gens {
		if _, err := ds.l2.BumpGeneration(ctx, st.prefix); err == nil {
			bumped[st] = v
		}
	}
	bySchema := map[*schemaState][]string{}
	for _, k := range keys {
		bySchema[k.st] = append(bySchema[k.st], k.id)
	}
	for st, ids := range bySchema {
		if _, err := ds.l2.BumpGeneration(ctx, st.prefix); err != nil { // searches that read the old values
			return
		}
		if ds.bus != nil {
			if err := ds.bus.Publish(ctx, l2redis.OpSet, st.Name, ids...); err != nil {
				return // retried: the entries stay
			}
			ds.invalidationSent(st.Name, l2redis.OpSet, len(ids))
		}
	}
	ds.stale.done(keys, bumped)
	if len(keys) > 0 {
		ds.cfg.Logger.Info(fmt.Sprintf("strata: repaired %d redis keys written during an outage", len(keys)))
	}
}

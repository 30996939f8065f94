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
// it), the schema's search generation advances, the local L1 entry is
// deleted (which advances its fill epoch) and one message tells the other
// instances to do the same. The next read fills the caches under the lease
// and epoch guards.
//
// Filling them from the writer instead looks cheaper but cannot be made
// safe without versions ordered by the database: two writers of one key
// commit in one order and may update Redis (or L1) in the other, leaving the
// older value cached after both returned — and a Set racing a Delete would
// resurrect the deleted record. Deletion commutes; a cache filled only by
// guarded reads never goes back in time.

// postCommitTimeout bounds the cache upkeep after a commit. It runs
// detached from the caller's context: the write has happened, and a caller
// that gives up now must not leave the caches (or other instances) stale.
const postCommitTimeout = 5 * time.Second

// invalidateAfterWrite runs the upkeep for ids of st after their write or
// delete reached L3. dropL1 is false for write-behind flushes, whose L1
// entry already holds the value flushed (or a newer pending one).
func (ds *DataStore) invalidateAfterWrite(ctx context.Context, st *schemaState, op l2redis.Op, dropL1 bool, ids ...string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), postCommitTimeout)
	defer cancel()
	if ds.l2 != nil {
		keys := make([]string, len(ids))
		for i, id := range ids {
			keys[i] = st.key(id)
		}
		start := time.Now()
		var err error
		if len(keys) == 1 {
			err = ds.l2.Delete(ctx, keys[0])
		} else {
			_, err = ds.l2.DeleteMany(ctx, keys)
		}
		ds.cfg.Metrics.Latency(st.Name, metrics.TierL2, "invalidate", time.Since(start))
		if err != nil {
			ds.cfg.Metrics.Error(st.Name, metrics.TierL2, "invalidate")
			ds.stale.add(st, ids...)
			ds.cfg.Logger.Warn("strata: redis invalidation failed; retried when redis answers", "schema", st.Name, "ids", len(ids), "err", err)
		}
		ds.bumpGeneration(ctx, st)
	}
	if dropL1 {
		for _, id := range ids {
			st.l1.Delete(id)
		}
	}
	ds.publish(ctx, st, op, ids...)
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
		ds.cfg.Logger.Warn("strata: could not invalidate cached searches; retried when redis answers", "schema", st.Name, "err", err)
	}
}

// staleL2 remembers what Redis could not be told during an outage: record
// keys that may hold a value older than L3, and schemas whose search
// generation could not be advanced.
type staleL2 struct {
	n    atomic.Int64 // len(keys)+len(gens), readable without the lock
	mu   sync.Mutex
	keys map[string]staleKey // by Redis key
	gens map[*schemaState]bool
}

type staleKey struct {
	st *schemaState
	id string
}

func (s *staleL2) count() { s.n.Store(int64(len(s.keys) + len(s.gens))) }

func (s *staleL2) add(st *schemaState, ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		s.keys = map[string]staleKey{}
	}
	for _, id := range ids {
		s.keys[st.key(id)] = staleKey{st: st, id: id}
	}
	s.count()
}

func (s *staleL2) addGen(st *schemaState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gens == nil {
		s.gens = map[*schemaState]bool{}
	}
	s.gens[st] = true
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
	return s.gens[st]
}

// snapshot copies the remembered entries without removing them: they are
// removed only once Redis has been told.
func (s *staleL2) snapshot() (map[string]staleKey, []*schemaState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make(map[string]staleKey, len(s.keys))
	for k, v := range s.keys {
		keys[k] = v
	}
	gens := make([]*schemaState, 0, len(s.gens))
	for st := range s.gens {
		gens = append(gens, st)
	}
	return keys, gens
}

func (s *staleL2) done(keys map[string]staleKey, gens []*schemaState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range keys {
		delete(s.keys, k)
	}
	for _, st := range gens {
		delete(s.gens, st)
	}
	s.count()
}

// settleL2 runs before this instance uses Redis for key: while anything is
// remembered as stale it tries to repair it, and it reports whether key may
// still be stale (the caller must then not read it from Redis).
func (ds *DataStore) settleL2(ctx context.Context, key string) (stale bool) {
	if ds.stale.n.Load() == 0 {
		return false
	}
	ds.retryStaleL2(ctx)
	return ds.stale.has(key)
}

// retryStaleL2 deletes the remembered keys, advances the remembered
// generations and tells the other instances, which may have cached the old
// values from Redis, to drop them. What fails stays remembered.
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
	bumped := gens[:0:0]
	for _, st := range gens {
		if _, err := ds.l2.BumpGeneration(ctx, st.prefix); err == nil {
			bumped = append(bumped, st)
		}
	}
	ds.stale.done(keys, bumped)
	bySchema := map[*schemaState][]string{}
	for _, k := range keys {
		bySchema[k.st] = append(bySchema[k.st], k.id)
	}
	for st, ids := range bySchema {
		ds.bumpGeneration(ctx, st) // searches that read the old values too
		ds.publish(ctx, st, l2redis.OpSet, ids...)
	}
	if len(keys) > 0 {
		ds.cfg.Logger.Info(fmt.Sprintf("strata: repaired %d redis keys written during an outage", len(keys)))
	}
}

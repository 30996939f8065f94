package strata

import (
	"sync"
	"sync/atomic"
)

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

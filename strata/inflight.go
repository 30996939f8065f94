package strata

import (
	"sync"
	"sync/atomic"

	"github.com/AndrewDonelson/strata/l1mem"
)

// Writes in flight: one instance's reads of its own writes, in order.
//
// A write to PostgreSQL commits first and updates the caches after
// (coherence.go, truth_versioned.go). Between the two, PostgreSQL holds the
// new row while Redis may still hold the old one, or receive it from a
// fill whose read came before the commit and whose lease the upkeep has
// not voided yet; so may this instance's L1, from a fill begun before the
// write. A read of this instance that reached PostgreSQL in that window
// returned the new row, and a later read of the same instance could then
// return the old one from Redis or L1: the write seen, then unseen. (The
// fault suite's linearizability check caught this with a Delete: a GetMany
// read the row as gone from PostgreSQL; the next one read it from Redis,
// where another instance's fill had put it back before the Delete's UNLINK.)
//
// So a write to PostgreSQL registers its ids here before its statement is
// sent and removes them once its cache upkeep is done, or handed to the
// ledgers that take the same role after it (the stale ledger, outage.go;
// the doubts of an ambiguous write, ambiguous.go). Meanwhile:
//   - as it registers, the writer voids the fills of its ids in L1
//     (l1mem.Cache.VoidFills): nothing read before the write is stored in
//     L1 during it, and no read joins the flight of such a fill. What L1
//     already holds stays readable: it is the old row, and no read of this
//     instance can have returned anything newer, since that read would have
//     missed L1, and a missing entry cannot come back before the upkeep;
//   - a read of this instance that misses L1 reads PostgreSQL directly,
//     neither reading Redis nor taking its lease, and fills nothing. A read
//     that found no write registered but then, as L1's loader, finds one
//     (the write began in between, after the load's epoch may have been
//     taken) voids the key's L1 fills, so that its result is not cached. A
//     read that finds the write registered before loading voids nothing
//     (it never fills), so it does not keep the writer from creating its
//     L1 entry.
//
// Reads of other instances are not held back: across instances, reads are
// bounded in staleness, not linearizable (README, Consistency).
type inflight struct {
	n   atomic.Int64 // registrations; the read path's fast "none"
	mu  sync.Mutex
	ids map[string]int // id → writes of it under way
	// off and noVoid are test switches (export_test.go): off registers
	// nothing, noVoid registers but voids no L1 fills (neither the
	// writer's nor a read-through loader's).
	off, noVoid atomic.Bool
}

// enter registers a write of ids and voids their fills in l1. Call the
// returned function once the write's cache upkeep is done.
func (f *inflight) enter(l1 *l1mem.Cache[string, any], ids []string) func() {
	if len(ids) == 0 || f.off.Load() {
		return func() {}
	}
	f.n.Add(1)
	f.mu.Lock()
	if f.ids == nil {
		f.ids = make(map[string]int)
	}
	for _, id := range ids {
		f.ids[id]++
	}
	f.mu.Unlock()
	for _, id := range ids { // after registering: a read that misses L1 now reads PostgreSQL
		if !f.noVoid.Load() {
			l1.VoidFills(id)
		}
	}
	return func() {
		f.mu.Lock()
		for _, id := range ids {
			if f.ids[id]--; f.ids[id] <= 0 {
				delete(f.ids, id)
			}
		}
		f.mu.Unlock()
		f.n.Add(-1)
	}
}

// enterWrite marks a write of ids to PostgreSQL as running: in the
// schema's write guard (guard.go), then as in flight (above). Call the
// returned function once its cache upkeep is done.
func (st *schemaState) enterWrite(ids []string) func() {
	running := st.writes.enter()
	leave := st.inflight.enter(st.l1, ids)
	return func() {
		leave()
		running()
	}
}

// has reports whether a write of id is under way. One atomic load when
// none is.
func (f *inflight) has(id string) bool {
	if f.n.Load() == 0 {
		return false
	}
	f.mu.Lock()
	_, ok := f.ids[id]
	f.mu.Unlock()
	return ok
}

// readThrough reports whether this instance's reads of id must bypass its
// caches and fill nothing: a write of it is under way (above), or an
// ambiguous write of it is unsettled (ambiguous.go).
func (ds *DataStore) readThrough(st *schemaState, id string) bool {
	return st.inflight.has(id) || ds.doubts.has(st, id)
}

// uncached is what an L1 loader that found id read-through does besides:
// it voids id's L1 fills, so that L1 does not store what it returns.
func (st *schemaState) uncached(id string) {
	if !st.inflight.noVoid.Load() {
		st.l1.VoidFills(id)
	}
}

// splitInFlight returns, of ids, those whose writes are under way, with
// their L1 fills voided (a bulk loader reads them from PostgreSQL only),
// and the others. Without writes under way it returns ids as they are.
func (st *schemaState) splitInFlight(ids []string) (direct, others []string) {
	if st.inflight.n.Load() == 0 {
		return nil, ids
	}
	others = make([]string, 0, len(ids))
	for _, id := range ids {
		if st.inflight.has(id) {
			st.uncached(id)
			direct = append(direct, id)
		} else {
			others = append(others, id)
		}
	}
	return direct, others
}

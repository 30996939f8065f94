package strata

import "reflect"

// The writer's own L1 after a versioned write (refreshL1, refreshL1Many).
//
// An entry the writer holds is replaced only by a higher version (see
// truth_versioned.go). An entry it does not hold is created — the next
// read of a record just written, or just inserted, is then an L1 hit —
// but only under the fill guard: the writer takes the key's L1 epoch
// before its write begins (writerEpoch) and creates the entry only if
// nothing invalidated the key since (l1mem.Cache.RefreshIfEpoch). That is
// exactly a fill whose read is the writer's own commit: every later state
// of the row (a Delete, or a newer write on this or another instance, or
// outside Strata with the change feed) is committed after it, so its
// invalidation of this L1 comes after the epoch was taken, and either
// refuses the creation or drops what was created. A remembered miss and an
// entry of unknown version are dropped, never replaced.

// writerEpoch is a key's L1 fill epoch taken before its write began; the
// zero value is none, and the refresh then never creates an entry.
type writerEpoch struct {
	n     uint64
	taken bool
}

// writerEpoch returns id's L1 epoch, to be taken before its write begins.
func (st *schemaState) writerEpoch(id string) writerEpoch {
	return writerEpoch{n: st.l1.Epoch(id), taken: true}
}

// writerEpochs is writerEpoch for each of ids.
func (st *schemaState) writerEpochs(ids []string) []writerEpoch {
	out := make([]writerEpoch, len(ids))
	for i, id := range ids {
		out[i] = st.writerEpoch(id)
	}
	return out
}

// refreshL1Many is refreshL1 for a batch (ids, recs, vers and, when not
// nil, epochs parallel): a record of unknown version (0) is dropped.
func (ds *DataStore) refreshL1Many(st *schemaState, ids []string, recs []reflect.Value, vers []uint64, epochs []writerEpoch) {
	for i, id := range ids {
		var e writerEpoch
		if epochs != nil {
			e = epochs[i]
		}
		ds.refreshL1(st, id, recs[i], vers[i], e)
	}
}

package strata

import (
	"context"
	"reflect"
)

// behindTruth is a WriteBehind schema's truth: PostgreSQL, reached through
// the write-behind queue (writebehind.go). A Set or SetMany puts its
// records in the queue and L1 at once; the flusher stores them with
// pgTruth's put, marked as a flush. The write-behind queue is thus a tier
// behind this seam: only this file and the queue's own (writebehind.go,
// journal.go) touch st.wb.
type behindTruth struct{ pgTruth }

// put enqueues b (see enqueueWriteBehind), or stores it when it is the
// flusher's batch.
func (t behindTruth) put(ctx context.Context, st *schemaState, b *writeBatch) error {
	if b.flush {
		return t.pgTruth.put(ctx, st, b)
	}
	return t.ds.enqueueWriteBehind(ctx, st, b.ids, b.recs, b.clear(0))
}

// del deletes id with no older pending value (in the queue or the
// journal) left to be flushed after it; a pending value enqueued during
// the delete stays. If the delete fails, the pending value stays pending.
func (t behindTruth) del(ctx context.Context, st *schemaState, id string) error {
	wb := st.wb
	wb.flushMu.Lock()
	defer wb.flushMu.Unlock()
	seq := wb.current()
	if wb.j != nil { // no journaled older value may be claimed after it
		unlock, err := t.ds.journalForget(ctx, st, id)
		if err != nil {
			return err
		}
		defer unlock()
	}
	if err := t.pgTruth.del(ctx, st, id); err != nil {
		return err
	}
	wb.dropUpTo(id, seq)
	return nil
}

// stored: L1 must hold the exact record, so the record is read through the
// normal read path (a pending value first, then the tiers).
func (t behindTruth) stored(ctx context.Context, st *schemaState, ids []string, recs []reflect.Value) (map[string]reflect.Value, error) {
	need := st.needStored(ids, recs)
	if len(need) == 0 {
		return nil, nil
	}
	found, err := t.ds.getMany(ctx, st, need)
	if err != nil {
		return nil, err
	}
	out := make(map[string]reflect.Value, len(found))
	for id, snap := range found {
		out[id] = reflect.ValueOf(snap).Elem()
	}
	return out, nil
}

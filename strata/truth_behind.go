package strata

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/AndrewDonelson/strata/strata/internal/model"
)

// behindTruth is a WriteBehind schema's truth: PostgreSQL, reached through
// the write-behind queue (writebehind.go). A Set or SetMany puts its
// records in the queue and L1 at once; the flusher stores them with
// pgTruth's put, marked as a flush. The write-behind queue is thus a tier
// behind this seam: this file holds what reaches a schema's queue (st.wb) —
// enqueueing, flushing a schema, rescheduling failures, counting —, and
// writebehind.go the queue type's own methods and the flusher loop; of the
// other files only the journal's (truth_journal.go) and the read side's
// (truthread.go: pending records, the backlog) touch st.wb.
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

// enqueueWriteBehind records recs (one per id) as dirty and updates L1,
// all or nothing: if the new keys do not fit in WriteBehindMaxPending,
// none is enqueued. The caller holds writeOp, so Close cannot run its final
// flush between the caller's checks and the enqueue. A record replacing a
// pending one takes the omit_cache values it leaves unchanged from it (see
// inheritOmitted), so coalescing two writes stores what both meant.
func (ds *DataStore) enqueueWriteBehind(ctx context.Context, st *schemaState, ids []string, recs []reflect.Value, clear []bool) error {
	defer st.writes.enter()()
	wb := st.wb
	var jids []string
	if wb.j != nil { // acknowledged once in the journal
		if err := ds.journalCheckCapacity(st, ids); err != nil {
			return err
		}
		var err error
		if jids, err = ds.appendJournal(ctx, st, ids, recs, clear); err != nil {
			return err
		}
	}
	wb.mu.Lock()
	fresh := 0
	for _, id := range ids {
		if _, ok := wb.dirty[id]; !ok {
			fresh++
		}
	}
	if jids == nil && len(wb.dirty)+fresh > ds.cfg.WriteBehindMaxPending {
		wb.mu.Unlock()
		return fmt.Errorf("%w: schema %q: %d new keys do not fit beside the %d waiting for PostgreSQL (limit %d)", ErrWriteBehindFull, st.Name, fresh, len(wb.dirty), ds.cfg.WriteBehindMaxPending)
	}
	for i, id := range ids {
		e, ok := wb.dirty[id]
		c := clear
		if !ok {
			e = &dirtyEntry{due: time.Now()}
			e.since = e.due
			wb.dirty[id] = e
		} else if jids != nil && streamIDLess(jids[i], e.jnew) {
			e.jids = append(e.jids, jids[i]) // a newer journaled Set got here first
			continue
		} else if st.model.Flags&model.FlagOmitCache != 0 {
			c = st.inheritOmitted(recs[i], clear, e.rec, e.clear)
		}
		if jids != nil {
			e.jids, e.jnew = append(e.jids, jids[i]), jids[i]
		}
		wb.seq++
		e.rec, e.clear, e.seq = recs[i], c, wb.seq
		if st.useL1 { // under wb.mu: L1 and the pending value change together
			st.l1.Set(id, st.snapshot(recs[i]))
		}
	}
	n := len(wb.dirty)
	wb.mu.Unlock()
	if n >= ds.cfg.WriteBehindFlushThreshold {
		select {
		case ds.flushNow <- struct{}{}:
		default:
		}
	}
	return nil
}

func (ds *DataStore) writeBehindSchemas() []*schemaState {
	var out []*schemaState
	for _, st := range *ds.schemas.Load() {
		if st.wb != nil {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// flushSchema writes the due dirty records of st (all of them when force)
// and returns how many remain dirty, with the last error.
func (ds *DataStore) flushSchema(ctx context.Context, st *schemaState, force bool) (int, error) {
	wb := st.wb
	if wb.j != nil {
		return ds.flushJournaled(ctx, st, force)
	}
	wb.flushMu.Lock()
	defer wb.flushMu.Unlock()
	var lastErr error
	tried := map[string]bool{} // refused during this call: not picked again
	for {
		b := wb.pickDue(tried, force)
		if len(b.ids) == 0 {
			return wb.len(), lastErr
		}
		if err := ds.flushRecords(ctx, st, b.ids, b.recs, b.clears); err != nil {
			lastErr = err
			if retryableL3(err) || len(b.ids) == 1 || ctx.Err() != nil {
				ds.flushFailed(st, b.ids, err)
				return wb.len(), err
			}
			if err := ds.flushOneByOne(ctx, st, &b, tried); err != nil {
				return wb.len(), err
			}
		}
		wb.mu.Lock()
		for i, id := range b.ids {
			if e, ok := wb.dirty[id]; ok && b.seqs[i] != 0 && e.seq == b.seqs[i] {
				delete(wb.dirty, id) // a newer Set during the flush stays dirty
			}
		}
		wb.mu.Unlock()
		if len(b.ids) < flushBatch {
			return wb.len(), lastErr
		}
	}
}

// flushFailed schedules the failed ids for a later attempt and reports the
// ones that ran out of retries.
func (ds *DataStore) flushFailed(st *schemaState, ids []string, cause error) {
	wb := st.wb
	var report []string
	wb.mu.Lock()
	for _, id := range ids {
		e, ok := wb.dirty[id]
		if !ok {
			continue
		}
		e.attempts++
		e.due = time.Now().Add(ds.backoff(e.attempts))
		if e.attempts > ds.cfg.WriteBehindMaxRetry && !e.reported {
			e.reported = true
			report = append(report, id)
		}
	}
	wb.mu.Unlock()
	ds.cfg.Logger.Warn("strata: write-behind flush failed; will retry", "schema", st.Name, "records", len(ids), "err", cause)
	if st.Hooks.OnWriteError == nil {
		return
	}
	for _, id := range report {
		err := fmt.Errorf("%w: %s %q after %d attempts (kept pending): %w", ErrWriteBehindMaxRetry, st.Name, id, ds.cfg.WriteBehindMaxRetry+1, cause)
		st.onWriteError(id, err)
	}
}

// dirtyCount is the exact number of pending write-behind records.
func (ds *DataStore) dirtyCount() int64 {
	var n int64
	for _, st := range ds.writeBehindSchemas() {
		n += int64(st.wb.len())
	}
	return n
}

// resetL3Pool drops every pooled PostgreSQL connection: a restart leaves
// them all dead, and each would fail one flush attempt (connections in use
// are closed when they come back).
func (ds *DataStore) resetL3Pool() {
	if ds.l3 != nil {
		ds.l3.Pool().Reset()
	}
}

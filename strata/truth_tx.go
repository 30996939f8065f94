package strata

import (
	"context"
	"fmt"
	"reflect"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata/internal/model"
)

// A Tx's writes go through the truth too, in three steps: hold (before the
// transaction, schema by schema), stage (each write, inside the one
// PostgreSQL transaction) and, after COMMIT, the same after-write upkeep as
// any other write. Only a truth in PostgreSQL can join a transaction.

// txWriter is the write side of a truth that can join a Tx.
type txWriter interface {
	// hold prepares st's writes among ops for the transaction and keeps
	// the write-behind flush from overtaking them; committed is called
	// with each id once the transaction has committed, release when the
	// Tx is done (committed or not).
	hold(ctx context.Context, st *schemaState, ops []prepared) (committed func(id string), release func(), err error)
	// stage runs p inside the transaction, whose table handles bind gives.
	stage(ctx context.Context, bind func(l3Table) l3Table, p *prepared) error
}

// txSupported reports why this DataStore cannot run transactions, if so.
func (ds *DataStore) txSupported() error {
	if ds.l3 == nil && ds.test.l3 == nil {
		return fmt.Errorf("%w: transactions need PostgreSQL", ErrL3Unavailable)
	}
	return nil
}

// txWriterOf returns st's txWriter, or an error saying st cannot join a Tx.
func txWriterOf(st *schemaState) (txWriter, error) {
	if w, ok := st.truth.(txWriter); ok {
		return w, nil
	}
	return nil, fmt.Errorf("%w: schema %q has no PostgreSQL tier and cannot join a transaction", ErrL3Unavailable, st.Name)
}

// hold registers the transaction's ids of st as writes in flight (see
// inflight.go) until its upkeep is done.
func (t pgTruth) hold(_ context.Context, st *schemaState, ops []prepared) (func(string), func(), error) {
	var ids []string
	for _, p := range ops {
		if p.st == st {
			ids = append(ids, p.id)
		}
	}
	return func(string) {}, st.inflight.enter(st.l1, ids), nil
}

// stage upserts or deletes p in the transaction; an upsert reads back what
// PostgreSQL kept (insert-only times) into p.rec, and on a versioned table
// the row version into p.ver.
func (t pgTruth) stage(ctx context.Context, bind func(l3Table) l3Table, p *prepared) error {
	if p.del {
		_, err := bind(p.st.l3).DeleteByID(ctx, p.id)
		return err
	}
	var err error
	if vt := p.st.versionedTable(); vt != nil {
		var ver int64
		err = bind(vt).UpsertReturning(ctx, p.vals, append(p.st.insertOnlyTargets(p.rec), &ver)...)
		p.ver = uint64(ver)
	} else {
		err = bind(p.st.l3).UpsertReturning(ctx, p.vals, p.st.insertOnlyTargets(p.rec)...)
	}
	p.st.normalizeTimes(p.rec)
	return err
}

// afterTxCommit runs the upkeep of st's writes ps after the commit — all
// Sets or all Deletes (op) —: the Sets of a versioned schema refresh Redis
// with the versions they committed (truth_versionedmany.go); everything
// else invalidates.
func (ds *DataStore) afterTxCommit(ctx context.Context, st *schemaState, op l2redis.Op, ps []*prepared) {
	if op != l2redis.OpSet || st.versionedTable() == nil {
		ds.invalidateAfterWrite(ctx, st, op, true, idsOf(ps)...)
		return
	}
	ids, recs, vers := make([]string, len(ps)), make([]reflect.Value, len(ps)), make([]uint64, len(ps))
	for i, p := range ps {
		ids[i], recs[i], vers[i] = p.id, p.rec, p.ver
	}
	ds.refreshManyAfterWrite(ctx, st, ids, recs, vers, nil, true)
}

// runTx runs ops in one PostgreSQL transaction, staging each through its
// schema's txWriter (ws, parallel to ops).
func runTx(ctx context.Context, ops []prepared, ws []txWriter) error {
	return ops[0].st.l3.inTx(ctx, func(bind func(l3Table) l3Table) error {
		for i := range ops {
			if err := ws[i].stage(ctx, bind, &ops[i]); err != nil {
				return fmt.Errorf("%s %q: %w", ops[i].st.Name, ops[i].id, err)
			}
		}
		return nil
	})
}

// hold keeps the flush from writing an older pending value of these ids
// after the transaction (flushMu, and the journal's claim on them), and
// has each Set take the omit_cache values a pending value it replaces set.
// committed forgets the pending values enqueued before the hold.
func (t behindTruth) hold(ctx context.Context, st *schemaState, ops []prepared) (func(string), func(), error) {
	wb := st.wb
	wb.flushMu.Lock()
	seq := wb.current()
	release := wb.flushMu.Unlock
	if wb.j != nil { // no journaled older value may be claimed after it
		unlock, err := t.ds.journalForget(ctx, st, txIDs(ops, st)...)
		if err != nil {
			release()
			return nil, nil, err
		}
		release = func() { unlock(); wb.flushMu.Unlock() }
	}
	for i := range ops {
		p := &ops[i]
		if p.st != st || p.del || st.model.Flags&model.FlagOmitCache == 0 {
			continue
		}
		if prev, prevClear, ok := wb.pendingWithClear(p.id); ok { // replaces a pending value: keep what it set
			p.clear = st.inheritOmitted(p.rec, p.clear, prev, prevClear)
		}
	}
	return func(id string) { wb.dropUpTo(id, seq) }, release, nil
}

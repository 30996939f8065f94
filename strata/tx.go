package strata

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/l3postgres"

	"github.com/AndrewDonelson/strata/strata/internal/model"
)

// Tx collects writes to commit atomically in PostgreSQL, across schemas:
//
//	err := ds.Tx(ctx).Set("orders", o.ID, o).Delete("carts", cartID).Commit()
//
// Commit checks every value and runs every BeforeSet hook before anything is
// written, then applies the writes in one PostgreSQL transaction. The caches
// and the other instances are told only after COMMIT returns. If anything
// fails the error wraps ErrTxFailed (or ErrTxTimeout when the context's
// deadline passed) and no cache changes — unless the COMMIT was sent and
// its answer lost: then the transaction may have been committed, the error
// also wraps ErrOutcomeUnknown, and the caches are invalidated as after a
// commit. IsRetryable tells a
// serialization failure or deadlock, worth retrying, from other failures.
// Every schema in a Tx needs an L3. A Tx is used once, from one goroutine.
type Tx struct {
	ds  *DataStore
	ctx context.Context
	ops []txOp
}

type txOp struct {
	schema, id string
	value      any // nil for a delete
	del        bool
	opts       []SetOption
}

// Tx starts a transaction builder bound to ctx.
func (ds *DataStore) Tx(ctx context.Context) *Tx { return &Tx{ds: ds, ctx: ctx} }

// Set adds an upsert of value under id, with the same field rules as
// DataStore.Set (opts included).
func (t *Tx) Set(schema, id string, value any, opts ...SetOption) *Tx {
	t.ops = append(t.ops, txOp{schema: schema, id: id, value: value, opts: opts})
	return t
}

// Delete adds a delete of id.
func (t *Tx) Delete(schema, id string) *Tx {
	t.ops = append(t.ops, txOp{schema: schema, id: id, del: true})
	return t
}

// prepared is an op ready to run: its schema, and for a Set the working
// record and its column values.
type prepared struct {
	txOp
	st    *schemaState
	src   reflect.Value
	rec   reflect.Value
	clear []bool
	vals  []any
}

// Commit runs the transaction; see Tx.
func (t *Tx) Commit() error {
	ds := t.ds
	for _, op := range t.ops {
		if op.del {
			ds.stats.deletes.Add(1)
		} else {
			ds.stats.sets.Add(1)
		}
	}
	var err error
	if ctx, sp := ds.startOp(t.ctx, OpTx, ""); sp.active() {
		traced := *t
		traced.ctx = ctx
		err = sp.done(traced.commit(), len(t.ops))
	} else {
		err = t.commit()
	}
	if err != nil {
		ds.stats.errors.Add(1)
	}
	return err
}

func (t *Tx) commit() error {
	ds, ctx := t.ds, t.ctx
	if ctx == nil {
		return errNilContext
	}
	release, err := ds.writeOp()
	if err != nil {
		return err
	}
	defer release()
	if ds.l3 == nil && ds.test.l3 == nil {
		return fmt.Errorf("%w: transactions need PostgreSQL", ErrL3Unavailable)
	}
	ops := make([]prepared, 0, len(t.ops))
	for _, op := range t.ops {
		st, err := ds.begin(ctx, op.schema)
		if err != nil {
			return err
		}
		if st.l3 == nil {
			return fmt.Errorf("%w: schema %q has no PostgreSQL tier and cannot join a transaction", ErrL3Unavailable, st.Name)
		}
		p := prepared{txOp: op, st: st}
		if op.del {
			if err := st.checkID(op.id); err != nil {
				return err
			}
			ops = append(ops, p)
			continue
		}
		if p.clear, err = st.clearMask(op.opts); err != nil {
			return err
		}
		if p.src, p.rec, err = st.prepare(ctx, op.id, op.value, false); err != nil {
			return err
		}
		ds.fillWriteFields(ctx, st, op.id, p.rec)
		ops = append(ops, p)
	}
	if len(ops) == 0 {
		return nil
	}
	// Searches must not fill L1 from rows read while this runs, and no
	// pending write-behind value of these keys may land after the commit.
	// Schemas are locked in name order, so concurrent transactions cannot
	// deadlock on them.
	var schemas []*schemaState
	seen := map[*schemaState]bool{}
	for _, p := range ops {
		if !seen[p.st] {
			seen[p.st] = true
			schemas = append(schemas, p.st)
		}
	}
	sort.Slice(schemas, func(i, j int) bool { return schemas[i].Name < schemas[j].Name })
	seqAtLock := map[*schemaState]uint64{}
	for _, st := range schemas {
		defer st.writes.enter()()
		if st.wb != nil {
			st.wb.flushMu.Lock()
			defer st.wb.flushMu.Unlock()
			seqAtLock[st] = st.wb.current()
			if st.wb.j != nil { // no journaled older value may be claimed after it
				unlock, err := ds.journalForget(ctx, st, txIDs(ops, st)...)
				if err != nil {
					return err
				}
				defer unlock()
			}
		}
	}
	for i := range ops {
		p := &ops[i]
		if p.del {
			continue
		}
		if p.st.wb != nil { // replaces a pending value: keep what it set
			if prev, prevClear, ok := p.st.wb.pendingWithClear(p.id); ok && p.st.model.Flags&model.FlagOmitCache != 0 {
				p.clear = p.st.inheritOmitted(p.rec, p.clear, prev, prevClear)
			}
		}
		if p.vals, err = ds.rowValues(p.st, p.id, p.rec, p.clear); err != nil {
			return err
		}
	}
	err = ops[0].st.l3.inTx(ctx, func(bind func(l3Table) l3Table) error {
		for _, p := range ops {
			tbl := bind(p.st.l3)
			var err error
			if p.del {
				_, err = tbl.DeleteByID(ctx, p.id)
			} else {
				err = tbl.UpsertReturning(ctx, p.vals, p.st.insertOnlyTargets(p.rec)...) // what PostgreSQL kept
				p.st.normalizeTimes(p.rec)
			}
			if err != nil {
				return fmt.Errorf("%s %q: %w", p.st.Name, p.id, err)
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, l3postgres.ErrOutcomeUnknown) { // the COMMIT may have been applied
			t.invalidate(ops, func(st *schemaState, op l2redis.Op, ids []string) {
				_ = ds.afterFailedWrite(ctx, st, op, true, err, ids...)
			})
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return txError(ErrTxTimeout, err)
		}
		return txError(ErrTxFailed, err)
	}
	for _, p := range ops { // committed: pending values enqueued before it are older
		if p.st.wb != nil {
			p.st.wb.dropUpTo(p.id, seqAtLock[p.st])
		}
	}
	t.invalidate(ops, func(st *schemaState, op l2redis.Op, ids []string) {
		ds.invalidateAfterWrite(ctx, st, op, true, ids...)
	})
	var hookErr error // committed: run every hook, report the first panic
	for _, p := range ops {
		if !p.del {
			if p.src.CanSet() {
				p.st.writeBack(p.src, p.rec)
			}
			if err := p.st.afterSet(ctx, p.rec.Addr().Interface()); err != nil && hookErr == nil {
				hookErr = err
			}
		}
	}
	return hookErr
}

// invalidate invalidates what the commit changed with fn (see
// afterwrite.go): per schema and operation kind, one DEL of the keys, one
// generation bump, L1 deletes and one message.
func (t *Tx) invalidate(ops []prepared, fn func(st *schemaState, op l2redis.Op, ids []string)) {
	type group struct {
		st       *schemaState
		set, del []string
	}
	var groups []*group
	byStore := map[*schemaState]*group{}
	for _, p := range ops {
		g := byStore[p.st]
		if g == nil {
			g = &group{st: p.st}
			byStore[p.st] = g
			groups = append(groups, g)
		}
		if p.del {
			g.del = append(g.del, p.id)
		} else {
			g.set = append(g.set, p.id)
		}
	}
	for _, g := range groups {
		if len(g.set) > 0 {
			fn(g.st, l2redis.OpSet, g.set)
		}
		if len(g.del) > 0 {
			fn(g.st, l2redis.OpDelete, g.del)
		}
	}
}

// IsRetryable reports whether err comes from a PostgreSQL serialization
// failure (40001) or deadlock (40P01): the whole transaction may simply be
// run again.
func IsRetryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40001" || pg.Code == "40P01")
}

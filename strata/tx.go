package strata

import (
	"context"
	"errors"
	"reflect"
	"sort"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/l3postgres"
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
	ver   uint64 // the row version the Set committed, on a versioned table
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
	if err := ds.txSupported(); err != nil {
		return err
	}
	ops, ws, err := t.prepare()
	if err != nil || len(ops) == 0 {
		return err
	}
	committed, unhold, err := t.hold(ops, ws)
	defer unhold()
	if err != nil {
		return err
	}
	for i := range ops {
		if p := &ops[i]; !p.del {
			if p.vals, err = ds.rowValues(p.st, p.id, p.rec, p.clear); err != nil {
				return err
			}
		}
	}
	if err := runTx(ctx, ops, ws); err != nil {
		return t.failed(ops, err)
	}
	for _, p := range ops { // pending values enqueued before the hold are older
		committed[p.st](p.id)
	}
	t.upkeep(ops, func(st *schemaState, op l2redis.Op, ps []*prepared) {
		ds.afterTxCommit(ctx, st, op, ps)
	})
	return t.afterSet(ops)
}

// prepare checks every op and readies every Set's record (the write
// prologue and its fields), before anything is written. ws holds each op's
// schema's txWriter.
func (t *Tx) prepare() (ops []prepared, ws []txWriter, err error) {
	ds, ctx := t.ds, t.ctx
	ops = make([]prepared, 0, len(t.ops))
	for _, op := range t.ops {
		st, err := ds.begin(ctx, op.schema)
		if err != nil {
			return nil, nil, err
		}
		w, err := txWriterOf(st)
		if err != nil {
			return nil, nil, err
		}
		p := prepared{txOp: op, st: st}
		if op.del {
			err = st.checkID(op.id)
		} else if p.clear, err = st.clearMask(op.opts); err == nil {
			if p.src, p.rec, err = st.prepare(ctx, op.id, op.value, false); err == nil {
				ds.fillWriteFields(ctx, st, op.id, p.rec)
			}
		}
		if err != nil {
			return nil, nil, err
		}
		ops, ws = append(ops, p), append(ws, w)
	}
	return ops, ws, nil
}

// hold readies each schema the Tx writes for it, in name order so that
// concurrent transactions cannot deadlock: searches must not fill L1 from
// rows read while it runs (writes.enter), and no pending write-behind value
// of these keys may land after the commit (txWriter.hold). committed gives
// each schema's function to call with each id once committed; release
// undoes every hold and must be called even on error.
func (t *Tx) hold(ops []prepared, ws []txWriter) (committed map[*schemaState]func(string), release func(), err error) {
	writer := map[*schemaState]txWriter{}
	var schemas []*schemaState
	for i, p := range ops {
		if writer[p.st] == nil {
			writer[p.st] = ws[i]
			schemas = append(schemas, p.st)
		}
	}
	sort.Slice(schemas, func(i, j int) bool { return schemas[i].Name < schemas[j].Name })
	var undo []func()
	release = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	committed = make(map[*schemaState]func(string), len(schemas))
	for _, st := range schemas {
		undo = append(undo, st.writes.enter())
		done, unhold, err := writer[st].hold(t.ctx, st, ops)
		if err != nil {
			return nil, release, err
		}
		committed[st] = done
		undo = append(undo, unhold)
	}
	return committed, release, nil
}

// failed returns the error of a transaction that did not commit, after
// invalidating its writes as after a commit if the COMMIT may have been
// applied.
func (t *Tx) failed(ops []prepared, err error) error {
	ds, ctx := t.ds, t.ctx
	if errors.Is(err, l3postgres.ErrOutcomeUnknown) { // the COMMIT may have been applied
		t.upkeep(ops, func(st *schemaState, op l2redis.Op, ps []*prepared) {
			_ = ds.afterFailedWrite(ctx, st, op, true, err, idsOf(ps)...)
		})
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return txError(ErrTxTimeout, err)
	}
	return txError(ErrTxFailed, err)
}

// afterSet shows each Set's caller what was stored and runs its AfterSet
// hook: every hook runs, and the first panic is reported.
func (t *Tx) afterSet(ops []prepared) error {
	var hookErr error
	for _, p := range ops {
		if !p.del {
			if p.src.CanSet() {
				p.st.writeBack(p.src, p.rec)
			}
			if err := p.st.afterSet(t.ctx, p.rec.Addr().Interface()); err != nil && hookErr == nil {
				hookErr = err
			}
		}
	}
	return hookErr
}

// upkeep runs fn on what the commit changed, per schema and operation
// kind: each call's writes get one Redis round trip (the keys, the
// generation, one message) and their L1 deletes.
func (t *Tx) upkeep(ops []prepared, fn func(st *schemaState, op l2redis.Op, ps []*prepared)) {
	type group struct {
		st       *schemaState
		set, del []*prepared
	}
	var groups []*group
	byStore := map[*schemaState]*group{}
	for i := range ops {
		p := &ops[i]
		g := byStore[p.st]
		if g == nil {
			g = &group{st: p.st}
			byStore[p.st] = g
			groups = append(groups, g)
		}
		if p.del {
			g.del = append(g.del, p)
		} else {
			g.set = append(g.set, p)
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

// idsOf returns the ids ps write.
func idsOf(ps []*prepared) []string {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.id
	}
	return ids
}

// IsRetryable reports whether err comes from a PostgreSQL serialization
// failure (40001) or deadlock (40P01): the whole transaction may simply be
// run again.
func IsRetryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40001" || pg.Code == "40P01")
}

package strata

import (
	"context"
	"fmt"
	"reflect"

	"github.com/AndrewDonelson/strata/l3postgres"
)

// Search runs q against the schema's table and stores the rows in
// destSlice, a *[]Model or *[]*Model. A nil q means every row up to
// DefaultQueryLimit. Search needs L3 (ErrL3Unavailable otherwise).
//
// Unlike Get, Search reads every column, omit_cache fields included: it is
// how a program reads those. Full rows (no Fields projection, no ForceL3)
// are also put in L1, guarded against concurrent invalidations; L2 is filled
// by Get only, under its stale-set lease.
func (ds *DataStore) Search(ctx context.Context, schema string, q *Query, destSlice any) error {
	ctx, sp := ds.startOp(ctx, OpSearch, schema)
	err := ds.count(ds.search(ctx, schema, q, destSlice))
	if sp.active() {
		return sp.done(err, lenOf(destSlice))
	}
	return err
}

func (ds *DataStore) search(ctx context.Context, schema string, q *Query, destSlice any) error {
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return err
	}
	sv, err := st.sliceOf(destSlice)
	if err != nil {
		return err
	}
	if err := st.truth.queryable(st); err != nil {
		return err
	}
	if q == nil {
		q = &Query{}
	}
	qry, cols, err := st.l3Query(q)
	if err != nil {
		return err
	}
	if qry.Limit == 0 {
		qry.Limit = DefaultQueryLimit
	}
	fill := cols == nil && !q.ForceL3 && ds.readsL1(st)
	guard := st.writes.begin()
	rows, fresh, err := st.truth.query(ctx, st, qry)
	if err != nil {
		return err
	}
	defer rows.Close()
	fill = fill && fresh // a replica may lag: its rows fill no cache
	out, fills, err := ds.scanSearch(st, rows, cols, sv.Elem().Type(), fill)
	if err != nil {
		return err
	}
	if st.writes.quiet(guard) { // see writeGuard
		for _, f := range fills {
			st.l1.SetIfEpoch(f.id, f.snap, f.epoch)
		}
	}
	sv.Elem().Set(out)
	return nil
}

// searchFill is a row Search read that may fill L1, if the key's epoch has
// not moved since.
type searchFill struct {
	id    string
	snap  any
	epoch uint64
}

// scanSearch reads Search's rows into a slice of type sliceType (of the
// model or of pointers to it) and, when fill is set, the snapshots to put
// in L1.
func (ds *DataStore) scanSearch(st *schemaState, rows *l3postgres.Rows, cols []int, sliceType reflect.Type, fill bool) (reflect.Value, []searchFill, error) {
	out := reflect.MakeSlice(sliceType, 0, 8)
	byPtr := sliceType.Elem() == st.ptrType
	var fills []searchFill
	for rows.Next() {
		rec := reflect.New(st.model.Type)
		targets, finish := ds.scanTargets(st, rec.Elem(), cols)
		if err := rows.Scan(targets...); err != nil {
			return out, nil, fmt.Errorf("%w: %s: %w", ErrDecodeFailed, st.Name, err)
		}
		if err := finish(); err != nil {
			return out, nil, err
		}
		st.normalizeTimes(rec.Elem())
		if byPtr {
			out = reflect.Append(out, rec)
		} else {
			out = reflect.Append(out, rec.Elem())
		}
		if fill {
			id := st.pkOf(rec.Elem())
			if _, waiting := st.pendingSnapshot(id); !waiting { // L1 holds a newer value
				fills = append(fills, searchFill{id: id, snap: st.snapshot(rec.Elem()), epoch: st.l1.Epoch(id)})
			}
		}
	}
	if err := rows.Err(); err != nil {
		return out, nil, l3Error(err)
	}
	return out, fills, nil
}

// sliceOf checks that destSlice is a *[]Model or *[]*Model.
func (st *schemaState) sliceOf(destSlice any) (reflect.Value, error) {
	sv := reflect.ValueOf(destSlice)
	if !sv.IsValid() || sv.Kind() != reflect.Pointer || sv.IsNil() || sv.Elem().Kind() != reflect.Slice ||
		(sv.Elem().Type().Elem() != st.model.Type && sv.Elem().Type().Elem() != st.ptrType) {
		return reflect.Value{}, fmt.Errorf("%w: schema %q searches into a *[]%s or *[]%s, got %T", ErrInvalidModel, st.Name, st.model.Type, st.ptrType, destSlice)
	}
	return sv, nil
}

// SearchTyped is Search returning a []T, T being the schema's model type.
func SearchTyped[T any](ctx context.Context, ds *DataStore, schema string, q *Query) ([]T, error) {
	var out []T
	if err := ds.Search(ctx, schema, q, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Count returns the number of rows matching q (nil counts all). It always
// reads L3.
func (ds *DataStore) Count(ctx context.Context, schema string, q *Query) (int64, error) {
	ctx, sp := ds.startOp(ctx, OpCount, schema)
	n, err := ds.countRows(ctx, schema, q)
	return n, sp.done(ds.count(err), 0)
}

func (ds *DataStore) countRows(ctx context.Context, schema string, q *Query) (int64, error) {
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return 0, err
	}
	if err := st.truth.queryable(st); err != nil {
		return 0, err
	}
	var where string
	var args []any
	if q != nil {
		if err := q.checkWhere(st.Name); err != nil {
			return 0, err
		}
		where, args = q.Where, q.Args
	}
	return st.truth.count(ctx, st, where, args)
}

// l3Query turns a Query into an l3postgres.Query, checking every column name
// against the schema. cols is nil for a full row.
func (st *schemaState) l3Query(q *Query) (l3postgres.Query, []int, error) {
	if err := q.check(st.Name); err != nil {
		return l3postgres.Query{}, nil, err
	}
	qry := l3postgres.Query{Where: q.Where, Args: q.Args, Limit: q.Limit, Offset: q.Offset}
	if q.OrderBy != "" {
		if _, ok := st.model.ByColumn[q.OrderBy]; !ok {
			return l3postgres.Query{}, nil, fmt.Errorf("%w: schema %q cannot order by %q: no such column", ErrInvalidQuery, st.Name, q.OrderBy)
		}
		qry.OrderBy = []l3postgres.Order{{Column: q.OrderBy, Desc: q.Desc}}
	}
	cols, names, err := st.columnsOf(q.Fields)
	if err != nil {
		return l3postgres.Query{}, nil, err
	}
	if cols != nil {
		qry.Columns = names
	} else {
		qry.Columns = make([]string, len(st.model.Fields))
		for i, f := range st.model.Fields {
			qry.Columns[i] = f.Column
		}
	}
	return qry, cols, nil
}

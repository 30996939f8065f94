package strata

import (
	"context"
	"fmt"
	"reflect"

	"github.com/AndrewDonelson/strata/strata/internal/model"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// Get reads the record id of schema into dest, a non-nil *Model, from the
// fastest tier that has it, filling the faster tiers on the way back.
// It returns an error wrapping ErrNotFound when the source of truth has no
// such record. When ctx has a deadline and the schema has PostgreSQL, Redis
// gets at most half of the time left (and at most L2PoolConfig.ReadTimeout):
// a Redis that hangs is skipped for PostgreSQL, and the call returns by its
// deadline.
func (ds *DataStore) Get(ctx context.Context, schema, id string, dest any) error {
	ds.stats.gets.Add(1)
	ctx, sp := ds.startOp(ctx, OpGet, schema)
	return sp.done(ds.count(ds.get(ctx, schema, id, dest)), -1)
}

func (ds *DataStore) get(ctx context.Context, schema, id string, dest any) error {
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return err
	}
	dv, err := st.destOf(dest)
	if err != nil {
		return err
	}
	if err := st.beforeGet(ctx, id); err != nil {
		return err
	}
	snap, err := ds.load(ctx, st, id)
	if err != nil {
		return err
	}
	st.copyOut(dv, snap)
	return st.afterGet(ctx, dest)
}

// GetTyped reads the record id of schema as a T, which must be the schema's
// model type. An L1 hit of a model without pointers, slices or maps runs no
// codec and allocates nothing.
func GetTyped[T any](ctx context.Context, ds *DataStore, schema, id string) (T, error) {
	// The L1 hit of a flat model, inline (see gethot.go): what begin,
	// getTyped and load would check and do, and no more. L1 holds only
	// *Model values, so the assertion to *T below is the type check: a T
	// that is not the model never matches and takes the full path, which
	// reports it.
	if st := ds.hints.lookup(schema); st != nil && st.hot.l1 && ctx != nil && id != "" &&
		!ds.life.closed.Load() && ctx.Err() == nil && ds.l1Live() {
		// GetTallied counts this Get in L1's tally, which Stats adds to
		// Gets: the read's own atomic counts it, so a hit adds to no
		// counter of its own.
		if snap, ok := st.l1.GetTallied(id); ok {
			if p, ok := snap.(*T); ok {
				if st.hot.hits != nil {
					st.hot.hits.Hit(st.Name, metrics.TierL1)
				}
				return *p, nil // a flat model: one plain copy is a deep copy
			}
			ds.stats.gets.Add(-1) // tallied already; the full path counts it again
		}
	}
	return getTypedFull[T](ctx, ds, schema, id)
}

// getTypedFull is GetTyped when its L1 fast path cannot serve the call.
func getTypedFull[T any](ctx context.Context, ds *DataStore, schema, id string) (T, error) {
	if ds.cfg.Tracer != nil {
		return getTypedTraced[T](ctx, ds, schema, id)
	}
	ds.stats.gets.Add(1)
	p, st, err := getTyped[T](ctx, ds, schema, id)
	if err != nil {
		var zero T
		return zero, ds.count(err)
	}
	if st.flat && st.Hooks.AfterGet == nil {
		return *p, nil // one plain copy: nothing escapes, nothing is allocated
	}
	out := deepCopied(p)
	if st.Hooks.AfterGet != nil {
		var err error
		out, err = afterGetTyped(ctx, st, out)
		return out, ds.count(err) // with the value read, even if the hook panicked
	}
	return out, nil
}

// getTyped returns the snapshot of id, which the caller must copy.
func getTyped[T any](ctx context.Context, ds *DataStore, schema, id string) (*T, *schemaState, error) {
	st, err := ds.begin(ctx, schema)
	if err != nil {
		return nil, nil, err
	}
	if reflect.TypeOf((*T)(nil)) != st.ptrType { // cheaper than TypeFor[T]: no value of T is made
		return nil, nil, fmt.Errorf("%w: schema %q holds %s, asked for %s", ErrInvalidModel, schema, st.model.Type, reflect.TypeFor[T]())
	}
	if err := st.beforeGet(ctx, id); err != nil {
		return nil, nil, err
	}
	snap, err := ds.load(ctx, st, id)
	if err != nil {
		return nil, nil, err
	}
	return snap.(*T), st, nil
}

// deepCopied returns a deep copy of *p. It is a separate function so that
// the variable reflect needs to address escapes here, not in getTyped.
func deepCopied[T any](p *T) T {
	var v T
	model.DeepCopy(reflect.ValueOf(&v).Elem(), reflect.ValueOf(p).Elem())
	return v
}

// afterGetTyped runs the AfterGet hook on a copy of v (which it may change).
func afterGetTyped[T any](ctx context.Context, st *schemaState, v T) (T, error) {
	err := st.afterGet(ctx, &v)
	return v, err
}

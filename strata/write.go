package strata

import (
	"context"
	"fmt"
	"reflect"

	"github.com/AndrewDonelson/strata/strata/internal/model"
)

// prepare is the prologue every write of a value runs — Set, SetMany and
// Tx alike: it checks value against the schema (valueOf), makes the private
// working copy rec (prepareWrite), runs BeforeSet on it and refuses a hook
// that moved the record to another primary key. src is the caller's value
// (settable when a pointer was passed). perID names the id in value and
// hook errors, for SetMany, whose ids come from a map. The caller then
// fills the write's fields (fillWriteFields, or SetMany's batched
// fillFields) and stores rec.
func (st *schemaState) prepare(ctx context.Context, id string, value any, perID bool) (src, rec reflect.Value, err error) {
	named := func(err error) error {
		if perID {
			return fmt.Errorf("id %q: %w", id, err)
		}
		return err
	}
	if src, err = st.valueOf(value); err != nil {
		return src, rec, named(err)
	}
	if rec, err = st.prepareWrite(id, src); err != nil {
		return src, rec, err
	}
	if err := st.beforeSet(ctx, rec.Addr().Interface()); err != nil {
		return src, rec, named(err)
	}
	if pk := st.pkOf(rec); pk != id { // the hook may not move the record
		return src, rec, fmt.Errorf("%w: schema %q: BeforeSet changed the primary key from %q to %q", ErrInvalidModel, st.Name, id, pk)
	}
	return src, rec, nil
}

// needStored returns the ids among ids whose record (in recs) has an
// auto_now_add field left zero: those whose stored time is looked for.
func (st *schemaState) needStored(ids []string, recs []reflect.Value) []string {
	if st.model.Flags&model.FlagAutoNowAdd == 0 {
		return nil
	}
	var need []string
	for i, rec := range recs {
		for fi := range st.model.Fields {
			if f := &st.model.Fields[fi]; f.Has(model.FlagAutoNowAdd) && fieldOf(rec, f).IsZero() {
				need = append(need, ids[i])
				break
			}
		}
	}
	return need
}

// beginWrite starts a Set or SetMany of schema: it holds off Close until
// release is called, resolves the schema and the Clear options. On error
// nothing is held.
func (ds *DataStore) beginWrite(ctx context.Context, schema string, opts []SetOption) (st *schemaState, clear []bool, release func(), err error) {
	if release, err = ds.writeOp(); err != nil {
		return nil, nil, nil, err
	}
	if st, err = ds.begin(ctx, schema); err == nil {
		clear, err = st.clearMask(opts)
	}
	if err != nil {
		release()
		return nil, nil, nil, err
	}
	return st, clear, release, nil
}

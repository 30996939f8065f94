package strata

import (
	"fmt"
	"reflect"

	"github.com/AndrewDonelson/strata/strata/internal/model"
)

// SetOption adjusts one write. Pass it to Set, SetMany (where it applies to
// every record of the batch) or Tx.Set.
type SetOption func(*setOptions)

type setOptions struct {
	clear []string
}

// Clear makes a write store the zero value of the named omit_cache fields
// (Go field names or column names).
//
// omit_cache fields never reach the caches, so a record read with Get has
// them zero. A zero omit_cache field in a write therefore means "unchanged":
// updating an existing record keeps what PostgreSQL holds, and only a new
// record is inserted with the zero value. This holds for Set, SetMany, Tx
// and the write-behind flush, so reading a record, changing another field
// and writing it back never erases a secret. A non-zero value is written as
// usual; Clear is how such a field is set back to its zero value (an empty
// string, a nil pointer):
//
//	err := ds.Set(ctx, "users", u.ID, u, strata.Clear("ResetToken"))
//
// Naming a field that is not omit_cache is an error wrapping
// ErrInvalidModel: every other field is always written as given.
func Clear(fields ...string) SetOption {
	return func(o *setOptions) { o.clear = append(o.clear, fields...) }
}

// clearMask resolves opts to the omit_cache fields a write clears, by field
// position; nil when it clears none.
func (st *schemaState) clearMask(opts []SetOption) ([]bool, error) {
	if len(opts) == 0 { // (the common case: o below escapes, so it allocates)
		return nil, nil
	}
	var o setOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if len(o.clear) == 0 {
		return nil, nil
	}
	mask := make([]bool, len(st.model.Fields))
	for _, name := range o.clear {
		i, ok := st.model.ByColumn[name]
		if !ok {
			i = -1
			for fi := range st.model.Fields {
				if st.model.Fields[fi].GoName == name {
					i = fi
					break
				}
			}
		}
		switch {
		case i < 0:
			return nil, fmt.Errorf("%w: schema %q: Clear(%q): no such field", ErrInvalidModel, st.Name, name)
		case !st.model.Fields[i].Has(model.FlagOmitCache):
			return nil, fmt.Errorf("%w: schema %q: Clear(%q): not an omit_cache field (other fields are always written as given)", ErrInvalidModel, st.Name, name)
		}
		mask[i] = true
	}
	return mask, nil
}

// keepsStored reports whether the write of rec leaves field i as PostgreSQL
// holds it: an omit_cache field that is zero and not cleared.
func (st *schemaState) keepsStored(rec reflect.Value, i int, clear []bool) bool {
	f := &st.model.Fields[i]
	return f.Has(model.FlagOmitCache) && (clear == nil || !clear[i]) && fieldOf(rec, f).IsZero()
}

// inheritOmitted prepares rec, about to replace the pending write-behind
// record prev (with its clear mask prevClear), so that the coalesced write
// means what the two writes meant in turn: each omit_cache field rec leaves
// unchanged takes prev's value and clear flag. It returns rec's new mask.
func (st *schemaState) inheritOmitted(rec reflect.Value, clear []bool, prev reflect.Value, prevClear []bool) []bool {
	out := clear // copied before the first change: clear may be shared
	for i := range st.model.Fields {
		if !st.keepsStored(rec, i, clear) {
			continue
		}
		f := &st.model.Fields[i]
		model.DeepCopy(fieldOf(rec, f), fieldOf(prev, f))
		if prevClear != nil && prevClear[i] {
			if len(out) == 0 || &out[0] == &clear[0] {
				out = make([]bool, len(st.model.Fields))
				copy(out, clear)
			}
			out[i] = true
		}
	}
	return out
}

// insertOnlyTargets returns pointers to rec's auto_now_add fields, in
// column order: where an upsert scans what PostgreSQL kept.
func (st *schemaState) insertOnlyTargets(rec reflect.Value) []any {
	var out []any
	for i := range st.model.Fields {
		if f := &st.model.Fields[i]; f.Has(model.FlagAutoNowAdd) {
			out = append(out, fieldOf(rec, f).Addr().Interface())
		}
	}
	return out
}

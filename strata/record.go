package strata

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/AndrewDonelson/strata/strata/internal/model"
)

// valueOf returns the struct a caller passed to a write: a non-nil *Model or
// a Model value. The result may alias the caller's memory; copy before
// changing it.
func (st *schemaState) valueOf(v any) (reflect.Value, error) {
	rv := reflect.ValueOf(v)
	switch {
	case !rv.IsValid():
		return reflect.Value{}, fmt.Errorf("%w: schema %q: value is nil", ErrInvalidModel, st.Name)
	case rv.Type() == st.ptrType:
		if rv.IsNil() {
			return reflect.Value{}, fmt.Errorf("%w: schema %q: value is a nil %s", ErrInvalidModel, st.Name, rv.Type())
		}
		return rv.Elem(), nil
	case rv.Type() == st.model.Type:
		return rv, nil
	}
	return reflect.Value{}, fmt.Errorf("%w: schema %q holds %s, got %T", ErrInvalidModel, st.Name, st.ptrType, v)
}

// destOf returns the struct a read fills: dest must be a non-nil *Model.
func (st *schemaState) destOf(dest any) (reflect.Value, error) {
	rv := reflect.ValueOf(dest)
	if !rv.IsValid() || rv.Type() != st.ptrType || rv.IsNil() {
		return reflect.Value{}, fmt.Errorf("%w: schema %q reads into a non-nil %s, got %T", ErrInvalidModel, st.Name, st.ptrType, dest)
	}
	return rv.Elem(), nil
}

// fieldOf returns the value of f inside the struct v.
func fieldOf(v reflect.Value, f *model.Field) reflect.Value { return v.FieldByIndex(f.Index) }

// pkOf returns the primary key of the struct v.
func (st *schemaState) pkOf(v reflect.Value) string {
	return fieldOf(v, st.model.PKField()).String()
}

// snapshot returns a private copy of rec for L1, without the fields L1 must
// not hold (omit_cache, omit_l1).
//
// Only the model's fields are copied: fields tagged "-" and unexported fields
// are left zero, as they are in every other tier.
func (st *schemaState) snapshot(rec reflect.Value) any {
	return st.views.L1.Snapshot(rec)
}

// readView is what a read returns of rec: the L1 snapshot, or for a schema
// that does not read through L1 (omit_l1 fields), everything L2 holds.
func (st *schemaState) readView(rec reflect.Value) any {
	return st.views.Read.Snapshot(rec)
}

// copyOut fills dest (a settable Model) from an L1 snapshot.
func (st *schemaState) copyOut(dest reflect.Value, snap any) {
	model.DeepCopy(dest, reflect.ValueOf(snap).Elem())
}

// normalizeTimes makes every top-level time field what PostgreSQL will give
// back: UTC, microsecond precision, no monotonic reading. Writes store the
// normalised value in every tier, so a read returns the same time whichever
// tier serves it.
func (st *schemaState) normalizeTimes(rec reflect.Value) {
	if st.model.TimeFields == nil {
		return
	}
	for _, i := range st.model.TimeFields {
		fv := fieldOf(rec, &st.model.Fields[i])
		if fv.Kind() == reflect.Pointer {
			if fv.IsNil() {
				continue
			}
			fv = fv.Elem()
		}
		t := fv.Interface().(time.Time)
		fv.Set(reflect.ValueOf(normalizeTime(t)))
	}
}

// normalizeJSON passes every JSONB field through encoding/json, as storing
// it in PostgreSQL does, so that L1 and L2 hold what an L3 read returns:
// numbers inside interface values become float64, times lose their
// monotonic reading, and so on. A field that does not survive the round
// trip is left as it is (the upsert will report the problem).
func (st *schemaState) normalizeJSON(rec reflect.Value) {
	for _, i := range st.model.JSONFields {
		fv := fieldOf(rec, &st.model.Fields[i])
		if fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Slice || fv.Kind() == reflect.Map {
			if fv.IsNil() {
				continue
			}
		}
		data, err := json.Marshal(fv.Interface())
		if err != nil {
			continue
		}
		fresh := reflect.New(fv.Type())
		if err := json.Unmarshal(data, fresh.Interface()); err != nil {
			continue
		}
		fv.Set(fresh.Elem())
	}
}

func normalizeTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

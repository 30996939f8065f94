package strata

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/AndrewDonelson/strata/strata/internal/model"
)

// Set writes value (a *Model or Model) under id through the schema's tiers,
// according to its WriteMode. The value's primary key field must equal id.
//
// Before anything is written: BeforeSet runs (its error aborts the write);
// auto_now fields get the current time; auto_now_add fields that are zero
// get the current time for a new record, and the time PostgreSQL kept from
// the first insert for an existing one; fields with a default:X tag that are
// zero get X. Times are normalised to UTC with microsecond precision, which
// is what PostgreSQL stores. When value is a pointer, those filled-in fields
// are written back to it, so the caller (and AfterSet) sees what was stored.
// Strata keeps its own copy: changing value afterwards changes nothing in
// any tier.
//
// An omit_cache field left zero keeps the value PostgreSQL holds (a new
// record is inserted with the zero value); pass Clear to set one to zero.
//
// Set returns by ctx's deadline. Once PostgreSQL has committed, Set
// succeeds even if Redis cannot be told in time: this instance reads the
// record from PostgreSQL until a background repair has deleted the old
// value from Redis and told the other instances. A Set that fails after
// PostgreSQL was sent it returns an error wrapping ErrOutcomeUnknown, and
// the caches are invalidated as if it had succeeded.
func (ds *DataStore) Set(ctx context.Context, schema, id string, value any, opts ...SetOption) error {
	ds.stats.sets.Add(1)
	ctx, sp := ds.startOp(ctx, OpSet, schema)
	return sp.done(ds.count(ds.set(ctx, schema, id, value, opts)), -1)
}

func (ds *DataStore) set(ctx context.Context, schema, id string, value any, opts []SetOption) error {
	st, clear, release, err := ds.beginWrite(ctx, schema, opts)
	if err != nil {
		return err
	}
	defer release()
	src, rec, err := st.prepare(ctx, id, value, false)
	if err != nil {
		return err
	}
	ds.fillWriteFields(ctx, st, id, rec)
	if err := st.truth.put(ctx, st, oneWrite(id, rec, clear)); err != nil {
		return err
	}
	if src.CanSet() { // the caller passed a pointer: show it what was stored
		st.writeBack(src, rec)
	}
	return st.afterSet(ctx, rec.Addr().Interface())
}

// prepareWrite checks id against the value's primary key and returns a
// private working copy of the value.
func (st *schemaState) prepareWrite(id string, src reflect.Value) (reflect.Value, error) {
	if err := st.checkID(id); err != nil {
		return reflect.Value{}, err
	}
	pk := st.pkOf(src)
	if pk == "" {
		return reflect.Value{}, fmt.Errorf("%w: schema %q: field %s of the value is empty", ErrMissingPrimaryKey, st.Name, st.model.PKField().GoName)
	}
	if pk != id {
		return reflect.Value{}, fmt.Errorf("%w: schema %q: id %q does not match the value's %s %q", ErrInvalidModel, st.Name, id, st.model.PKField().GoName, pk)
	}
	if err := st.checkStorable(src); err != nil {
		return reflect.Value{}, err
	}
	rec := reflect.New(st.model.Type).Elem()
	if err := st.copyIn(rec, src); err != nil {
		return reflect.Value{}, err
	}
	return rec, nil
}

// fillWriteFields applies auto_now, auto_now_add and default:X, then
// normalises times. An auto_now_add field left zero takes the time the
// record already has when this instance knows it (see truthWriter.stored:
// L1, or for write-behind schemas, whose L1 must hold the exact record, any
// tier), else the time of this write. PostgreSQL keeps the first insert's
// time in any case (the column is insert-only); the upsert returns it and
// the truth's put puts it in the record, so the caller and AfterSet see
// what was stored.
func (ds *DataStore) fillWriteFields(ctx context.Context, st *schemaState, id string, rec reflect.Value) {
	known, _ := st.truth.stored(ctx, st, []string{id}, []reflect.Value{rec}) // (unknown: this write's time)
	ds.fillFields(st, rec, func() reflect.Value { return known[id] })
}

// fillFields is fillWriteFields with the stored record supplied by known,
// called at most once and only when an auto_now_add field is zero.
func (ds *DataStore) fillFields(st *schemaState, rec reflect.Value, known func() reflect.Value) {
	m := st.model
	if m.Flags&(model.FlagAutoNow|model.FlagAutoNowAdd) != 0 || hasDefaults(m) {
		now := reflect.ValueOf(normalizeTime(ds.cfg.Clock.Now()))
		var stored reflect.Value
		looked := false
		for i := range m.Fields {
			f := &m.Fields[i]
			fv := fieldOf(rec, f)
			switch {
			case f.Has(model.FlagAutoNow):
				setTime(fv, now)
			case f.Has(model.FlagAutoNowAdd) && fv.IsZero():
				if !looked {
					stored, looked = known(), true
				}
				if stored.IsValid() && !fieldOf(stored, f).IsZero() {
					fv.Set(fieldOf(stored, f))
				} else {
					setTime(fv, now)
				}
			case f.DefaultSQL != "" && fv.IsZero():
				if f.DefaultVal.IsValid() {
					setValue(fv, f.DefaultVal)
				} else { // default:now()
					setTime(fv, now)
				}
			}
		}
	}
	st.normalizeTimes(rec)
	st.normalizeJSON(rec)
}

func hasDefaults(m *model.Model) bool {
	for i := range m.Fields {
		if m.Fields[i].DefaultSQL != "" {
			return true
		}
	}
	return false
}

// setTime stores t in a time.Time or *time.Time field.
func setTime(fv, t reflect.Value) { setValue(fv, t) }

// setValue stores v (of the field's base type) in fv, allocating the target
// of a pointer field.
func setValue(fv, v reflect.Value) {
	if fv.Kind() == reflect.Pointer {
		p := reflect.New(fv.Type().Elem())
		p.Elem().Set(v)
		fv.Set(p)
		return
	}
	fv.Set(v)
}

// writeBack copies the fields Set filled in (auto_now, auto_now_add,
// defaults, normalised times) from rec to the caller's struct.
func (st *schemaState) writeBack(dst, rec reflect.Value) {
	for i := range st.model.Fields {
		f := &st.model.Fields[i]
		if f.Flags&(model.FlagAutoNow|model.FlagAutoNowAdd) != 0 || f.DefaultSQL != "" || f.SQLType == model.SQLTimestamptz {
			model.DeepCopy(fieldOf(dst, f), fieldOf(rec, f))
		}
	}
}

// count records a failed call in Stats.
func (ds *DataStore) count(err error) error {
	if err != nil && !errors.Is(err, ErrNotFound) {
		ds.stats.errors.Add(1)
	}
	return err
}

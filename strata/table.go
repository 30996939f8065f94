package strata

import (
	"fmt"
	"reflect"

	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/AndrewDonelson/strata/migrate"

	"github.com/AndrewDonelson/strata/strata/internal/model"
)

// tableDef describes the schema's table for l3postgres.
func (st *schemaState) tableDef() l3postgres.TableDef {
	return st.model.TableDef(st.table, st.L3.PartitionBy)
}

// migrateTable describes the schema's table for the migrate module.
func (st *schemaState) migrateTable() migrate.Table {
	var ixs []migrate.Index
	for _, ix := range st.Indexes {
		ixs = append(ixs, migrate.Index{Name: ix.Name, Columns: ix.Fields, Unique: ix.Unique})
	}
	return st.model.MigrateTable(st.table, st.L3.PartitionBy, ixs)
}

// rowValues returns rec's column values in table order for an upsert,
// sealing encrypted fields. An omit_cache field that is zero and not in
// clear (see Clear) is passed as an l3postgres.Keep: a new row gets the
// zero value, an existing row keeps what it holds.
func (ds *DataStore) rowValues(st *schemaState, id string, rec reflect.Value, clear []bool) ([]any, error) {
	if err := st.checkStorable(rec); err != nil { // a BeforeSet hook may have changed rec
		return nil, err
	}
	vals := make([]any, len(st.model.Fields))
	for i := range st.model.Fields {
		f := &st.model.Fields[i]
		fv := fieldOf(rec, f)
		if f.Has(model.FlagEncrypted) && ds.enc != nil {
			sealed, err := ds.enc.seal(st.table, f.Column, id, fv.String())
			if err != nil {
				return nil, err
			}
			vals[i] = sealed
		} else {
			vals[i] = fv.Interface()
		}
		if st.keepsStored(rec, i, clear) {
			vals[i] = l3postgres.Keep{Value: vals[i]}
		}
	}
	return vals, nil
}

// scanTargets returns one pointer per column of cols (nil = every field, in
// model order) into rec, and a function to call after the scan that moves
// NULLs of non-pointer nullable fields into zero values and opens encrypted
// fields.
func (ds *DataStore) scanTargets(st *schemaState, rec reflect.Value, cols []int) ([]any, func() error) {
	if cols == nil {
		cols = st.views.L3.Fields()
	}
	targets := make([]any, len(cols))
	var nullable []int // positions in cols scanned through a pointer holder
	for j, i := range cols {
		f := &st.model.Fields[i]
		fv := fieldOf(rec, f)
		if f.Nullable && fv.Kind() != reflect.Pointer {
			targets[j] = reflect.New(reflect.PointerTo(fv.Type())).Interface() // **T
			nullable = append(nullable, j)
			continue
		}
		targets[j] = fv.Addr().Interface()
	}
	finish := func() error {
		var null map[int]bool // positions in cols that held NULL
		for _, j := range nullable {
			holder := reflect.ValueOf(targets[j]).Elem() // *T
			if holder.IsNil() {
				if null == nil {
					null = map[int]bool{}
				}
				null[j] = true
				continue
			}
			fieldOf(rec, &st.model.Fields[cols[j]]).Set(holder.Elem())
		}
		if ds.enc == nil || st.model.Flags&model.FlagEncrypted == 0 {
			return nil
		}
		id := st.pkOf(rec)
		for j, i := range cols {
			f := &st.model.Fields[i]
			if !f.Has(model.FlagEncrypted) || null[j] { // NULL (nullable fields): no value
				continue
			}
			fv := fieldOf(rec, f)
			plain, err := ds.enc.open(st.table, f.Column, id, fv.String()) // '' fails: see encryptor
			if err != nil {
				return err
			}
			fv.SetString(plain)
		}
		return nil
	}
	return targets, finish
}

// columnsOf maps column names to field positions, checking each against the
// schema, and always includes the primary key.
func (st *schemaState) columnsOf(names []string) ([]int, []string, error) {
	if len(names) == 0 {
		return nil, nil, nil
	}
	pk := st.model.PK
	cols := []int{pk}
	out := []string{st.model.PKField().Column}
	for _, n := range names {
		i, ok := st.model.ByColumn[n]
		if !ok {
			return nil, nil, fmt.Errorf("%w: schema %q has no column %q", ErrInvalidQuery, st.Name, n)
		}
		if i == pk {
			continue
		}
		cols = append(cols, i)
		out = append(out, n)
	}
	return cols, out, nil
}

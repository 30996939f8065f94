package model

import (
	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/AndrewDonelson/strata/migrate"
)

// TableDef describes the model's table for l3postgres: every field, in
// model order, keyed by the primary key.
func (m *Model) TableDef(table, partitionBy string) l3postgres.TableDef {
	cols := make([]l3postgres.Column, len(m.Fields))
	for i, f := range m.Fields {
		// An auto_now_add column is written when the row is inserted and
		// kept by updates, so PostgreSQL holds the first write's time
		// whatever a later Set carries.
		cols[i] = l3postgres.Column{Name: f.Column, InsertOnly: f.Has(FlagAutoNowAdd)}
	}
	return l3postgres.TableDef{
		Name:        table,
		Columns:     cols,
		PrimaryKey:  m.PKField().Column,
		PartitionBy: partitionBy,
	}
}

// VersionColumn is the row version column Migrate adds to every table
// whose model has no column of that name (see migrate.Table.RowVersion):
// it is in no model, and Search never reads it.
const VersionColumn = "strata_ver"

// MigrateTable describes the model's table for the migrate module: its
// columns, an index per index-tagged field, then the schema's own indexes,
// and the row version.
func (m *Model) MigrateTable(table, partitionBy string, indexes []migrate.Index) migrate.Table {
	t := migrate.Table{Name: table, PartitionBy: partitionBy}
	if _, taken := m.ByColumn[VersionColumn]; !taken {
		t.RowVersion = VersionColumn
	}
	for _, f := range m.Fields {
		t.Columns = append(t.Columns, migrate.Column{
			Name:       f.Column,
			Type:       f.SQLType,
			Nullable:   f.Nullable,
			Default:    f.DefaultSQL,
			Unique:     f.Has(FlagUnique),
			PrimaryKey: f.Has(FlagPrimaryKey),
			Opaque:     f.Has(FlagEncrypted), // '' is not a ciphertext: never zero-fill
		})
		if f.Has(FlagIndex) && !f.Has(FlagUnique) && !f.Has(FlagPrimaryKey) {
			t.Indexes = append(t.Indexes, migrate.Index{Columns: []string{f.Column}})
		}
	}
	t.Indexes = append(t.Indexes, indexes...)
	return t
}

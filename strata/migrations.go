package strata

import (
	"context"
	"fmt"
	"time"

	"github.com/AndrewDonelson/strata/migrate"
)

// MigrationRecord is one applied SQL migration file.
type MigrationRecord struct {
	Version   int64         // the NNN of NNN_description.sql
	Name      string        // the file name
	Checksum  string        // hex SHA-256 of the file's content
	AppliedAt time.Time     // when it was applied
	Duration  time.Duration // how long it took
}

// Migrate creates or extends the tables of every registered schema that has
// an L3: CREATE TABLE, ADD COLUMN and CREATE INDEX, never a drop or a
// rename. A new non-pointer field on a table that has rows is added with
// its Go zero value in the existing rows ("", 0, false, time.Time{}, a zero
// struct); give it a default: tag for another value. The column of a
// removed field stays, with its data; if it was NOT NULL, Migrate drops
// that constraint (logging a warning) so that writes without it succeed. A
// column whose type or nullability drifted from the model is reported as an
// error (ErrMigrationFailed) naming table, column, found and wanted. It is
// safe to call on every start-up and from many instances at once.
func (ds *DataStore) Migrate(ctx context.Context) error {
	if err := ds.needMigrator(ctx); err != nil {
		return err
	}
	var tables []migrate.Table
	var names []string
	for _, st := range *ds.schemas.Load() {
		if st.truthIsPostgres() {
			tables = append(tables, st.migrateTable())
			names = append(names, st.table)
		}
	}
	if len(tables) == 0 {
		return nil
	}
	if _, err := ds.mig.Migrate(ctx, tables...); err != nil {
		return migrateError(err)
	}
	ds.markVersioned()
	return ds.ensureFeed(ctx, names) // after the DDL committed: see coherence_feed.go
}

// MigrateFrom applies the NNN_description.sql files in dir that have not
// been applied yet, in numeric order, each in its own transaction.
func (ds *DataStore) MigrateFrom(ctx context.Context, dir string) error {
	if err := ds.needMigrator(ctx); err != nil {
		return err
	}
	if _, err := ds.mig.MigrateFrom(ctx, dir); err != nil {
		return migrateError(err)
	}
	return nil
}

// MigrationStatus lists the applied migration files in version order.
func (ds *DataStore) MigrationStatus(ctx context.Context) ([]MigrationRecord, error) {
	if err := ds.needMigrator(ctx); err != nil {
		return nil, err
	}
	recs, err := ds.mig.Status(ctx)
	if err != nil {
		return nil, migrateError(err)
	}
	out := make([]MigrationRecord, len(recs))
	for i, r := range recs {
		out[i] = MigrationRecord(r)
	}
	return out, nil
}

func (ds *DataStore) needMigrator(ctx context.Context) error {
	if ctx == nil {
		return errNilContext
	}
	if ds.life.closed.Load() {
		return ErrUnavailable
	}
	if ds.mig == nil {
		return fmt.Errorf("%w: no PostgreSQL configured (PostgresDSN or PostgresPool)", ErrL3Unavailable)
	}
	return nil
}

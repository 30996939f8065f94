package migrate

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// Migrate brings the database up to the given table descriptions with
// additive DDL: CREATE TABLE for a missing table (with its hash partitions
// when partitioned), ALTER TABLE … ADD COLUMN for a missing column (a NOT
// NULL one without a Default fills existing rows with its type's zero
// value), CREATE [UNIQUE] INDEX for a missing index. It never drops or
// renames anything; the one alteration it makes is to drop the NOT NULL of
// a column no longer described that has no default, which would otherwise
// make every insert fail (logged as a warning). It executes no statement at
// all when the database already matches.
//
// A column whose type or nullability differs from its description is
// reported as a [*DriftError] (several are joined with errors.Join) and
// then nothing is executed. All statements run in one transaction, under
// the advisory lock, so a failure leaves the schema as it was. It returns
// the statements it executed.
func (m *Migrator) Migrate(ctx context.Context, tables ...Table) ([]string, error) {
	return m.migrate(ctx, tables, true)
}

// Plan returns the statements Migrate would execute now, executing none.
func (m *Migrator) Plan(ctx context.Context, tables ...Table) ([]string, error) {
	return m.migrate(ctx, tables, false)
}

func (m *Migrator) migrate(ctx context.Context, tables []Table, execute bool) ([]string, error) {
	valid := make([]Table, len(tables))
	for i, t := range tables {
		v, err := t.validate()
		if err != nil {
			return nil, err
		}
		valid[i] = v
	}
	executed := []string{}
	err := m.withLock(ctx, func(conn *pgx.Conn) error {
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			types := &typeResolver{q: tx, cache: map[string]string{}}
			var stmts, notes []string
			var errs []error
			for _, t := range valid {
				st, err := readTable(ctx, tx, t)
				if err == nil && t.RowVersion != "" {
					st.rowVersion, st.schemaName, err = readRowVersion(ctx, tx, t, st.exists)
				}
				if err != nil {
					return unavailable(err)
				}
				s, n, err := planTable(ctx, t, st, types)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				stmts = append(stmts, s...)
				notes = append(notes, n...)
			}
			if len(errs) > 0 {
				return errors.Join(errs...)
			}
			if !execute {
				executed = stmts
				return nil
			}
			for _, n := range notes {
				m.opts.Logger.WarnContext(ctx, "migrate: "+n)
			}
			for _, s := range stmts {
				if _, err := tx.Exec(ctx, s); err != nil {
					return &StatementError{Statement: s, Err: err}
				}
				m.opts.Logger.InfoContext(ctx, "migrate: executed", "statement", s)
			}
			executed = stmts
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return executed, nil
}

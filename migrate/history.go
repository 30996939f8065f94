package migrate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Record is one row of the history table: a migration file applied once.
type Record struct {
	Version   int64         // the NNN of NNN_description.sql
	Name      string        // the file name
	Checksum  string        // hex SHA-256 of the file's content
	AppliedAt time.Time     // when its transaction committed (server clock)
	Duration  time.Duration // how long it took to run, to the millisecond
}

func (m *Migrator) historyIdent() pgx.Identifier {
	if m.opts.HistorySchema != "" {
		return pgx.Identifier{m.opts.HistorySchema, m.opts.HistoryTable}
	}
	return pgx.Identifier{m.opts.HistoryTable}
}

// ensureHistory creates the history table when it is missing; it runs no
// DDL when the table exists.
func (m *Migrator) ensureHistory(ctx context.Context, conn *pgx.Conn) error {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", m.historyIdent().Sanitize()).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err := conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+m.historyIdent().Sanitize()+` (
		version     BIGINT PRIMARY KEY,
		name        TEXT NOT NULL,
		checksum    TEXT NOT NULL,
		applied_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
		duration_ms BIGINT NOT NULL)`)
	return err
}

// readHistory returns the applied records by version, in version order.
func (m *Migrator) readHistory(ctx context.Context, q queryer) ([]Record, error) {
	rows, err := q.Query(ctx, "SELECT version, name, checksum, applied_at, duration_ms FROM "+
		m.historyIdent().Sanitize()+" ORDER BY version")
	if err != nil {
		return nil, err
	}
	var out []Record
	var r Record
	var ms int64
	_, err = pgx.ForEachRow(rows, []any{&r.Version, &r.Name, &r.Checksum, &r.AppliedAt, &ms}, func() error {
		r.Duration = time.Duration(ms) * time.Millisecond
		out = append(out, r)
		return nil
	})
	return out, err
}

// Status returns the applied migration files in version order, with the
// time each was applied and its checksum. Before anything was ever
// applied it returns an empty list.
func (m *Migrator) Status(ctx context.Context) ([]Record, error) {
	var exists bool
	if err := m.pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", m.historyIdent().Sanitize()).Scan(&exists); err != nil {
		return nil, unavailable(err)
	}
	if !exists {
		return []Record{}, nil
	}
	recs, err := m.readHistory(ctx, m.pool)
	if err != nil {
		return nil, unavailable(err)
	}
	if recs == nil {
		recs = []Record{}
	}
	return recs, nil
}

// unavailable marks connection-level failures with ErrUnavailable and
// returns other errors unchanged.
func unavailable(err error) error {
	var pgErr interface{ SQLState() string }
	if err == nil || errors.As(err, &pgErr) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

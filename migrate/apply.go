package migrate

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

// MigrateFrom applies the migration files in directory dir; see MigrateFS.
func (m *Migrator) MigrateFrom(ctx context.Context, dir string) ([]Record, error) {
	return m.MigrateFS(ctx, os.DirFS(dir))
}

// MigrateFS applies, in version order, the migration files at the root of
// fsys (see [ReadFiles]) that the history table does not list yet, and
// returns the records of those it applied. Each file runs in its own
// transaction together with the insert of its history row, unless it
// starts with [NoTransactionDirective].
//
// Before anything runs, every file already applied is compared with its
// recorded checksum: a changed file is a [*ChecksumError] and nothing is
// applied. A file that fails stops the run with a [*PartialError] naming
// it and the files applied before it. A file numbered below one already
// applied is still applied (files are identified by number, not position).
//
// The whole call holds the advisory lock, so concurrent callers on the
// same database apply each file exactly once.
func (m *Migrator) MigrateFS(ctx context.Context, fsys fs.FS) ([]Record, error) {
	files, err := ReadFiles(fsys)
	if err != nil {
		return nil, err
	}
	applied := []Record{}
	err = m.withLock(ctx, func(conn *pgx.Conn) error {
		if err := m.ensureHistory(ctx, conn); err != nil {
			return unavailable(err)
		}
		history, err := m.readHistory(ctx, conn)
		if err != nil {
			return unavailable(err)
		}
		done := make(map[int64]Record, len(history))
		for _, r := range history {
			done[r.Version] = r
		}
		var pending []File
		for _, f := range files {
			r, ok := done[f.Version]
			switch {
			case !ok:
				pending = append(pending, f)
			case r.Checksum != f.Checksum:
				return &ChecksumError{Version: f.Version, File: f.Name, Recorded: r.Checksum, Current: f.Checksum}
			}
		}
		for _, f := range pending {
			rec, err := m.applyFile(ctx, conn, f)
			if err != nil {
				return &PartialError{Applied: applied, Failed: f.Name, Err: err}
			}
			applied = append(applied, rec)
			m.opts.Logger.InfoContext(ctx, "migrate: applied", "file", f.Name, "duration", rec.Duration)
		}
		return nil
	})
	return applied, err
}

// applyFile runs one file and records it.
func (m *Migrator) applyFile(ctx context.Context, conn *pgx.Conn, f File) (Record, error) {
	start := time.Now()
	insert := "INSERT INTO " + m.historyIdent().Sanitize() +
		" (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4) RETURNING applied_at"
	rec := Record{Version: f.Version, Name: f.Name, Checksum: f.Checksum}
	if f.NoTx {
		for _, stmt := range splitStatements(f.SQL) {
			if _, err := conn.Exec(ctx, stmt); err != nil {
				return rec, err
			}
		}
		rec.Duration = time.Since(start).Truncate(time.Millisecond)
		err := conn.QueryRow(ctx, insert, f.Version, f.Name, f.Checksum, rec.Duration.Milliseconds()).Scan(&rec.AppliedAt)
		return rec, err
	}
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		// No arguments: pgx sends the script as one simple-protocol query,
		// which is how a multi-statement script runs. It carries no values.
		if _, err := tx.Exec(ctx, f.SQL); err != nil {
			return err
		}
		rec.Duration = time.Since(start).Truncate(time.Millisecond)
		return tx.QueryRow(ctx, insert, f.Version, f.Name, f.Checksum, rec.Duration.Milliseconds()).Scan(&rec.AppliedAt)
	})
	if err != nil {
		return rec, fmt.Errorf("%s: %w", f.Name, err)
	}
	return rec, nil
}

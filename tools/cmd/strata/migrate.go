package main

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/AndrewDonelson/strata/migrate"
)

const migrateLong = `SQL-file migrations, as the library's DataStore.MigrateFrom applies them.

DIR holds files named NNN_description.sql: NNN is the version (any number
of digits; 001, 002, ... keeps them sorted), the description letters,
digits, '_', '-' or '.'. Each file runs once, in version order, in its own
transaction together with the row that records it in the history table
_strata_migrations (in the first schema of the connection's search_path).
A file whose first line is "-- strata:no-transaction" runs outside a
transaction, statement by statement (CREATE INDEX CONCURRENTLY).

An applied file must not change: its SHA-256 is recorded, and a changed
file stops "up" before anything runs. Write a new file instead. Every
migrator holds a PostgreSQL advisory lock while it works, so "up" is safe
while the application starts and migrates too.

DataStore.Migrate (the tables of registered schemas: additive DDL) is not
this: it needs the application's Go types, so the application runs it.`

func newMigrate(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply or list the NNN_description.sql migrations of a directory",
		Long:  migrateLong,
		Example: `  strata migrate status ./migrations
  strata migrate up ./migrations
  STRATA_POSTGRES_DSN='postgres://app@db/app?search_path=billing' strata migrate up ./migrations/billing`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New("say up or status, and the directory")}
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "up DIR",
		Short: "Apply the files of DIR that are not applied yet, in version order",
		Long: `Apply, in version order, the NNN_description.sql files of DIR that the
history table does not list yet, each in its own transaction, and print
each one applied with its duration.

Nothing runs when an applied file has changed since (its checksum differs):
"strata migrate status DIR" shows which. When a file fails, the files
before it stay applied and the error names the one that failed.`,
		Example: `  strata migrate up ./migrations`,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			return migrateUp(cmd, o, a[0])
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "status DIR",
		Short: "List the migrations: applied, pending, changed since applied, or gone from DIR",
		Long: `List every migration of DIR and of the history table, one line each:

  applied   recorded in the history table, file unchanged
  pending   in DIR, not applied yet: "strata migrate up DIR" applies it
  changed   applied, but the file differs from what was applied (up refuses to run)
  missing   applied, but no longer in DIR

Exits with status 1 when a file is pending or changed, so scripts can tell
whether the database is up to date.`,
		Example: `  strata migrate status ./migrations || echo "migrations to apply"`,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			return migrateStatus(cmd, o, a[0])
		},
	})
	return cmd
}

// openMigrator opens a Migrator on the configured PostgreSQL.
func openMigrator(cmd *cobra.Command, o *options) (*migrate.Migrator, error) {
	dsn, err := o.needPostgres()
	if err != nil {
		return nil, err
	}
	m, err := migrate.Open(cmd.Context(), dsn, &migrate.Options{Logger: o.logger()})
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL: %w", err)
	}
	return m, nil
}

func checkDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return usageError{fmt.Errorf("migrations directory: %w", err)}
	}
	if !st.IsDir() {
		return usageError{fmt.Errorf("migrations directory %s is not a directory", dir)}
	}
	return nil
}

func migrateUp(cmd *cobra.Command, o *options, dir string) error {
	if err := checkDir(dir); err != nil {
		return err
	}
	ctx, cancel := o.withTimeout(cmd.Context())
	defer cancel()
	cmd.SetContext(ctx)
	m, err := openMigrator(cmd, o)
	if err != nil {
		return err
	}
	defer m.Close()
	out := cmd.OutOrStdout()
	applied, err := m.MigrateFrom(ctx, dir)
	var partial *migrate.PartialError
	if errors.As(err, &partial) {
		applied = partial.Applied
	}
	for _, r := range applied {
		fmt.Fprintf(out, "applied %s (%s)\n", r.Name, r.Duration.Round(time.Microsecond))
	}
	if err != nil {
		var changed *migrate.ChecksumError
		if errors.As(err, &changed) {
			return fmt.Errorf("%w\nnothing was applied; see strata migrate status %s", err, dir)
		}
		return err
	}
	all, err := m.Status(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(out, "nothing to apply: %d migrations applied, none pending\n", len(all))
		return nil
	}
	fmt.Fprintf(out, "%d applied now, %d in all\n", len(applied), len(all))
	return nil
}

func migrateStatus(cmd *cobra.Command, o *options, dir string) error {
	if err := checkDir(dir); err != nil {
		return err
	}
	files, err := migrate.ReadFiles(os.DirFS(dir))
	if err != nil {
		return usageError{err}
	}
	ctx, cancel := o.withTimeout(cmd.Context())
	defer cancel()
	cmd.SetContext(ctx)
	m, err := openMigrator(cmd, o)
	if err != nil {
		return err
	}
	defer m.Close()
	history, err := m.Status(ctx)
	if err != nil {
		return err
	}
	rows := statusRows(files, history)
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "VERSION\tFILE\tSTATE\tAPPLIED AT")
	problem := false
	for _, r := range rows {
		at := ""
		if !r.appliedAt.IsZero() {
			at = r.appliedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", r.version, r.name, r.state, at)
		problem = problem || r.state == "pending" || r.state == "changed"
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if len(rows) == 0 {
		fmt.Fprintf(cmd.OutOrStdout(), "no migrations in %s and none applied\n", dir)
	}
	if problem {
		return errProblem
	}
	return nil
}

// statusRow is one line of migrate status.
type statusRow struct {
	version   int64
	name      string
	state     string // applied, pending, changed, missing
	appliedAt time.Time
}

// statusRows merges the files of the directory and the history, by version.
func statusRows(files []migrate.File, history []migrate.Record) []statusRow {
	byVersion := map[int64]migrate.Record{}
	for _, r := range history {
		byVersion[r.Version] = r
	}
	var rows []statusRow
	seen := map[int64]bool{}
	for _, f := range files {
		seen[f.Version] = true
		r, ok := byVersion[f.Version]
		switch {
		case !ok:
			rows = append(rows, statusRow{version: f.Version, name: f.Name, state: "pending"})
		case r.Checksum != f.Checksum:
			rows = append(rows, statusRow{version: f.Version, name: f.Name, state: "changed", appliedAt: r.AppliedAt})
		default:
			rows = append(rows, statusRow{version: f.Version, name: f.Name, state: "applied", appliedAt: r.AppliedAt})
		}
	}
	for _, r := range history {
		if !seen[r.Version] {
			rows = append(rows, statusRow{version: r.Version, name: r.Name, state: "missing", appliedAt: r.AppliedAt})
		}
	}
	slices.SortStableFunc(rows, func(a, b statusRow) int { return cmp.Compare(a.version, b.version) })
	return rows
}

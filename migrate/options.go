package migrate

import (
	"fmt"
	"log/slog"
)

// DefaultLockID is the key of the session-level advisory lock
// (pg_advisory_lock) that every Migrator holds while it works, so that
// instances starting at once migrate one after the other and each change
// is applied exactly once. It is the ASCII bytes "STRATA-M" read as a
// big-endian int64: 0x5354524154412D4D = 6004514643731623245.
const DefaultLockID int64 = 0x5354524154412D4D

// DefaultHistoryTable is the name of the append-only history table.
const DefaultHistoryTable = "_strata_migrations"

// Options tunes a [Migrator]. A nil *Options means all defaults; a zero
// field means that field's default.
type Options struct {
	// LockID is the advisory-lock key. Every process migrating the same
	// database must use the same value. Default: DefaultLockID.
	LockID int64

	// HistoryTable is the name of the history table. Default:
	// DefaultHistoryTable ("_strata_migrations").
	HistoryTable string

	// HistorySchema is the schema of the history table; "" means the
	// first schema of the connection's search_path. Default: "".
	HistorySchema string

	// Logger receives one Info record per applied file and per DDL
	// statement. Default: slog.Default().
	Logger *slog.Logger
}

func (o *Options) withDefaults() (Options, error) {
	var out Options
	if o != nil {
		out = *o
	}
	if out.LockID == 0 {
		out.LockID = DefaultLockID
	}
	if out.HistoryTable == "" {
		out.HistoryTable = DefaultHistoryTable
	}
	if out.Logger == nil {
		out.Logger = slog.Default()
	}
	if err := checkIdent(out.HistoryTable, "history table", out.HistoryTable); err != nil {
		return out, fmt.Errorf("migrate: invalid options: %w", err)
	}
	if out.HistorySchema != "" {
		if err := checkIdent(out.HistoryTable, "history schema", out.HistorySchema); err != nil {
			return out, fmt.Errorf("migrate: invalid options: %w", err)
		}
	}
	return out, nil
}

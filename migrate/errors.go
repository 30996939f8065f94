package migrate

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrInvalidTable is returned by Migrate and Plan for a Table that
	// cannot be turned into DDL (names, types, keys, partitioning).
	ErrInvalidTable = errors.New("migrate: invalid table")

	// ErrDrift is matched (errors.Is) by every [*DriftError].
	ErrDrift = errors.New("migrate: schema drift")

	// ErrBadFileName is returned by MigrateFS and MigrateFrom for a .sql
	// file whose name is not NNN_description.sql, and for two files with
	// the same number.
	ErrBadFileName = errors.New("migrate: bad migration file name")

	// ErrChecksum is matched by every [*ChecksumError].
	ErrChecksum = errors.New("migrate: applied migration changed")

	// ErrUnavailable wraps failures to reach the database or to take the
	// advisory lock.
	ErrUnavailable = errors.New("migrate: unavailable")
)

// DriftError reports a column whose type or nullability in the database
// differs from its description. Migrate never alters such a column; the
// fix is a hand-written SQL migration or a corrected description.
type DriftError struct {
	Table  string // table name, schema-qualified when the Table had one
	Column string
	What   string // "type", "nullability" or "partitioning"
	Found  string // as the database has it
	Wanted string // as the description asks
}

func (e *DriftError) Error() string {
	return fmt.Sprintf("migrate: table %s column %s: %s drifted: found %s, wanted %s",
		e.Table, e.Column, e.What, e.Found, e.Wanted)
}

// Is makes errors.Is(err, ErrDrift) true.
func (e *DriftError) Is(target error) bool { return target == ErrDrift }

// ChecksumError reports an applied migration file whose content has
// changed since it was applied.
type ChecksumError struct {
	Version  int64
	File     string
	Recorded string // checksum in the history table
	Current  string // checksum of the file now
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("migrate: %s (version %d) was changed after it was applied: recorded checksum %s, file now %s",
		e.File, e.Version, e.Recorded, e.Current)
}

// Is makes errors.Is(err, ErrChecksum) true.
func (e *ChecksumError) Is(target error) bool { return target == ErrChecksum }

// PartialError is returned when a migration file fails: Applied lists the
// files this call applied (and recorded) before it, Failed the file that
// failed, whose transaction was rolled back. The cause is reachable with
// errors.Is/As.
type PartialError struct {
	Applied []Record
	Failed  string
	Err     error
}

func (e *PartialError) Error() string {
	applied := "nothing"
	if len(e.Applied) > 0 {
		names := make([]string, len(e.Applied))
		for i, r := range e.Applied {
			names[i] = r.Name
		}
		applied = strings.Join(names, ", ")
	}
	return fmt.Sprintf("migrate: %s failed; applied before it in this run: %s: %v", e.Failed, applied, e.Err)
}

// Unwrap returns the cause.
func (e *PartialError) Unwrap() error { return e.Err }

// StatementError is returned when a DDL statement fails; the transaction
// was rolled back, so none of Migrate's statements took effect.
type StatementError struct {
	Statement string
	Err       error
}

func (e *StatementError) Error() string {
	return "migrate: " + e.Statement + ": " + e.Err.Error() + " (rolled back; nothing applied)"
}

// Unwrap returns the cause, e.g. a *pgconn.PgError.
func (e *StatementError) Unwrap() error { return e.Err }

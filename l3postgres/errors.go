package l3postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var (
	// ErrNotFound is returned by [Table.GetByID] when no row has the key.
	// pgx.ErrNoRows stays reachable with errors.Is.
	ErrNotFound = errors.New("l3postgres: not found")

	// ErrUnavailable wraps connection-level failures (refused or broken
	// connections, a closed pool, the server shutting down or out of
	// connection slots). The cause stays reachable with errors.Is/As.
	ErrUnavailable = errors.New("l3postgres: unavailable")

	// ErrClosed is returned by every call made after [DB.Close].
	ErrClosed = errors.New("l3postgres: closed")

	// ErrInvalidTable is returned by [DB.Table] for a TableDef that cannot
	// be used: no name, no columns, a duplicate or empty column, or a
	// primary key or partition column that is not one of the columns.
	ErrInvalidTable = errors.New("l3postgres: invalid table definition")

	// ErrUnknownColumn is returned when a column named in a query
	// (projection, order by) is not in the table's TableDef.
	ErrUnknownColumn = errors.New("l3postgres: unknown column")

	// ErrInvalidQuery is returned for arguments that cannot be turned into
	// a safe statement: a wrong number of values, a negative limit or
	// offset, or a Where condition containing a semicolon.
	ErrInvalidQuery = errors.New("l3postgres: invalid query")

	// ErrInvalidOptions is returned by [New] and [Open] for unusable
	// options, including a pool configured for the simple protocol.
	ErrInvalidOptions = errors.New("l3postgres: invalid options")

	// ErrConflict is matched by every [*ConflictError]: a unique or
	// exclusion constraint refused a row (SQLSTATE 23505, 23P01).
	ErrConflict = errors.New("l3postgres: conflict")

	// ErrUndefined wraps the server's refusal of a statement naming a table
	// (SQLSTATE 42P01) or column (42703) that does not exist: the schema
	// was not created or not brought up to date.
	ErrUndefined = errors.New("l3postgres: undefined table or column")

	// ErrInvalidValue wraps the server's refusal of a value (SQLSTATE class
	// 22, data exception): text with a NUL byte or invalid UTF-8, a time or
	// number out of the column type's range, text that is not a valid
	// value of its type.
	ErrInvalidValue = errors.New("l3postgres: invalid value")

	// ErrConstraint wraps a violation of a NOT NULL, CHECK or foreign-key
	// constraint (SQLSTATE class 23 other than the [ErrConflict] codes).
	ErrConstraint = errors.New("l3postgres: constraint violated")
)

// ConflictError is returned when a unique or exclusion constraint refused
// a row. errors.Is(err, ErrConflict) is true; the server's error, with
// its Detail, stays reachable with errors.As to *pgconn.PgError.
type ConflictError struct {
	Table      string // the table the constraint belongs to
	Constraint string // the constraint (or unique index) name
	Err        *pgconn.PgError
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s: constraint %q on table %q: %s (SQLSTATE %s)", ErrConflict, e.Constraint, e.Table, e.Err.Message, e.Err.Code)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Unwrap returns the server's error.
func (e *ConflictError) Unwrap() error { return e.Err }

// mapErr turns a pgx error into this package's vocabulary. Server errors
// that no sentinel names (a syntax error, a serialization failure, ...)
// are returned unchanged.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrClosed), errors.Is(err, ErrConflict),
		errors.Is(err, ErrUndefined), errors.Is(err, ErrInvalidValue), errors.Is(err, ErrConstraint):
		return err
	case isUnavailable(err):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch {
	case pgErr.Code == "23505", pgErr.Code == "23P01": // unique_violation, exclusion_violation
		return &ConflictError{Table: pgErr.TableName, Constraint: pgErr.ConstraintName, Err: pgErr}
	case pgErr.Code == "42P01", pgErr.Code == "42703": // undefined_table, undefined_column
		return fmt.Errorf("%w: %w", ErrUndefined, err)
	case strings.HasPrefix(pgErr.Code, "22"): // data_exception
		return fmt.Errorf("%w: %w", ErrInvalidValue, err)
	case strings.HasPrefix(pgErr.Code, "23"): // integrity_constraint_violation
		return fmt.Errorf("%w: %w", ErrConstraint, err)
	}
	return err
}

// isUnavailable reports whether err means the server could not be reached
// or the connection was lost, as opposed to a statement that failed.
func isUnavailable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"): // connection_exception class
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03": // shutdown, cannot connect now
			return true
		case pgErr.Code == "53300": // too_many_connections
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr), errors.As(err, &netErr):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "closed pool") || strings.Contains(msg, "conn closed")
}

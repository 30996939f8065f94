package strata

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/AndrewDonelson/strata/migrate"
)

// tierError is a tier module's error translated into Strata's vocabulary:
// errors.Is matches both the Strata sentinel and everything the tier's
// error matches (its own sentinel, a *pgconn.PgError, ...), and the message
// names the Strata sentinel once, followed by the tier's explanation
// without the tier's own sentinel text.
type tierError struct {
	kind error
	err  error
	msg  string
}

func (e *tierError) Error() string   { return e.msg }
func (e *tierError) Unwrap() []error { return []error{e.kind, e.err} }

// translate wraps err in kind, with the explanation detail (err's own
// message stripped of the tier sentinels it starts with when "").
func translate(kind, err error, detail string) error {
	if detail == "" {
		detail = explain(err)
	}
	return &tierError{kind: kind, err: err, msg: kind.Error() + ": " + detail}
}

// tierPrefixes are the tier sentinels whose text explain removes from the
// front of a message, since the Strata sentinel replaces them.
var tierPrefixes = []error{
	l3postgres.ErrUnavailable, l3postgres.ErrInvalidQuery, l3postgres.ErrUnknownColumn, l3postgres.ErrConflict,
	l3postgres.ErrUndefined, l3postgres.ErrInvalidValue, l3postgres.ErrConstraint, l3postgres.ErrNotFound,
	l3postgres.ErrInvalidTable, migrate.ErrUnavailable, migrate.ErrInvalidTable,
}

// explain returns err's message without the tier sentinels it starts with
// and without the server's "ERROR: " severity.
func explain(err error) string {
	msg := err.Error()
	for again := true; again; {
		again = false
		for _, p := range tierPrefixes {
			if rest, ok := strings.CutPrefix(msg, p.Error()+": "); ok {
				msg, again = rest, true
			}
		}
	}
	return strings.TrimPrefix(msg, "ERROR: ")
}

// l3Error maps an error of the l3postgres (or migrate) module to Strata's
// sentinels, so that every error a call returns wraps one of them. Context
// cancellation and deadlines are returned as they are.
func l3Error(err error) error {
	var done *tierError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &done) && done == err:
		return err // already translated
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, l3postgres.ErrClosed):
		return translate(ErrL3Unavailable, err, "the PostgreSQL pool is closed")
	case errors.Is(err, l3postgres.ErrUnavailable), errors.Is(err, migrate.ErrUnavailable):
		return translate(ErrL3Unavailable, err, "")
	case errors.Is(err, l3postgres.ErrInvalidQuery), errors.Is(err, l3postgres.ErrUnknownColumn):
		return translate(ErrInvalidQuery, err, "")
	case errors.Is(err, l3postgres.ErrConflict):
		return translate(ErrConflict, err, "")
	case errors.Is(err, l3postgres.ErrUndefined):
		return translate(ErrNotMigrated, err, explain(err)+"; run DataStore.Migrate (or your SQL migrations) to create or extend the table")
	case errors.Is(err, l3postgres.ErrInvalidValue), errors.Is(err, l3postgres.ErrInvalidTable):
		return translate(ErrInvalidModel, err, "")
	case errors.Is(err, l3postgres.ErrConstraint):
		return translate(ErrConstraint, err, "")
	case errors.Is(err, l3postgres.ErrNotFound):
		return translate(ErrNotFound, err, "")
	}
	var scanErr pgx.ScanArgError
	if errors.As(err, &scanErr) {
		return translate(ErrDecodeFailed, err, "")
	}
	return translate(ErrL3Failed, err, "")
}

// migrateError maps an error of the migrate module, for Migrate and
// MigrateFrom.
func migrateError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, migrate.ErrUnavailable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return l3Error(err)
	case errors.Is(err, migrate.ErrInvalidTable):
		return translate(ErrInvalidModel, err, "")
	}
	return translate(ErrMigrationFailed, err, strings.TrimPrefix(explain(err), "migrate: "))
}

// txError wraps the error that made a transaction roll back in kind
// (ErrTxFailed or ErrTxTimeout), keeping the sentinel l3Error gives the
// cause (ErrConflict, ErrL3Unavailable, ...), and ErrOutcomeUnknown for a
// COMMIT whose answer was lost, reachable with errors.Is.
func txError(kind, err error) error {
	return &tierError{kind: kind, err: writeError(err), msg: kind.Error() + ": " + err.Error()}
}

package strata

import (
	"context"
	"errors"
)

// ErrorClass names the kind of an error a DataStore returned, for a span's
// or a metric's label: "" for nil, then the first that matches of
// "outcome_unknown", "timeout" (a deadline, ErrTxTimeout), "canceled",
// "closed" (ErrUnavailable), "not_found", "invalid" (ErrInvalidModel,
// ErrMissingPrimaryKey, ErrNoPrimaryKey, ErrInvalidQuery, ErrSchemaNotFound,
// ErrNilContext, ErrInvalidConfig), "conflict", "constraint",
// "not_migrated", "decode", "encode", "l2_unavailable", "l3_unavailable",
// "l3_failed", "tx_failed", "hook_panic", "write_behind_full", and "other".
// The set is small and fixed, so it is safe as a metric label.
func ErrorClass(err error) string {
	if err == nil {
		return ""
	}
	for _, c := range errorClasses {
		for _, target := range c.is {
			if errors.Is(err, target) {
				return c.name
			}
		}
	}
	return "other"
}

var errorClasses = []struct {
	name string
	is   []error
}{
	{"outcome_unknown", []error{ErrOutcomeUnknown}},
	{"timeout", []error{context.DeadlineExceeded, ErrTxTimeout}},
	{"canceled", []error{context.Canceled}},
	{"closed", []error{ErrUnavailable}},
	{"not_found", []error{ErrNotFound}},
	{"invalid", []error{ErrInvalidModel, ErrMissingPrimaryKey, ErrNoPrimaryKey, ErrInvalidQuery, ErrSchemaNotFound, ErrNilContext, ErrInvalidConfig}},
	{"conflict", []error{ErrConflict}},
	{"constraint", []error{ErrConstraint}},
	{"not_migrated", []error{ErrNotMigrated}},
	{"decode", []error{ErrDecodeFailed}},
	{"encode", []error{ErrEncodeFailed}},
	{"l2_unavailable", []error{ErrL2Unavailable}},
	{"l3_unavailable", []error{ErrL3Unavailable}},
	{"l3_failed", []error{ErrL3Failed}},
	{"tx_failed", []error{ErrTxFailed}},
	{"hook_panic", []error{ErrHookPanic}},
	{"write_behind_full", []error{ErrWriteBehindFull}},
}

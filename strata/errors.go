package strata

import (
	"errors"

	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/AndrewDonelson/strata/strata/internal/model"
)

// Schema registration errors.
var (
	// ErrSchemaNotFound is returned by every data operation that names a
	// schema Register was not called for.
	ErrSchemaNotFound = errors.New("strata: schema not registered")
	// ErrSchemaDuplicate is returned by Register for a name already registered.
	ErrSchemaDuplicate = errors.New("strata: schema already registered")
	// ErrNoPrimaryKey is returned by Register for a model with no field
	// tagged primary_key.
	ErrNoPrimaryKey = model.ErrNoPrimaryKey
	// ErrInvalidModel is returned by Register for a model that is not a
	// non-nil pointer to a struct, or whose fields or tags Strata cannot map
	// (an unsupported type, an unknown tag, encrypted on a non-string, ...),
	// and by data operations given a value of the wrong type or one
	// PostgreSQL cannot store: an id or string field with a NUL byte or
	// invalid UTF-8, a time outside 4713 BC … 294276 AD, a reference cycle
	// or nesting deeper than 10,000 references (the message names the field
	// path). These are checked before anything is sent.
	ErrInvalidModel = model.ErrInvalidModel
	// ErrMissingPrimaryKey is returned by writes whose id, or whose value's
	// primary key field, is empty.
	ErrMissingPrimaryKey = errors.New("strata: missing primary key")
)

// Data errors.
var (
	// ErrNotFound means the record is absent from the source of truth.
	ErrNotFound = errors.New("strata: not found")
	// ErrInvalidQuery is returned by Search, SearchTyped, SearchCached and
	// Count for a Query they cannot run: a Where whose highest $n
	// placeholder is not len(Args), an unknown OrderBy or Fields column, a
	// negative Limit or Offset, a condition PostgreSQL refuses (a syntax
	// error, an unknown column or function, an argument of the wrong type).
	// errors.Is(err, l3postgres.ErrInvalidQuery) is true for it as well.
	ErrInvalidQuery error = &tierSentinel{"strata: invalid query", l3postgres.ErrInvalidQuery}
	// ErrConflict means a unique constraint refused a write: another record
	// already has the value of a unique column. errors.As(err, &ce) with a
	// *ConflictError gives the constraint's name.
	ErrConflict error = &tierSentinel{"strata: conflict", l3postgres.ErrConflict}
	// ErrConstraint means PostgreSQL refused a write for a NOT NULL, CHECK
	// or foreign-key constraint the model does not know about (for a
	// column left behind by a removed field, run Migrate: it drops that
	// NOT NULL).
	ErrConstraint = errors.New("strata: constraint violated")
	// ErrNotMigrated means the schema's table, or one of its columns, does
	// not exist in PostgreSQL: run DataStore.Migrate (or your SQL
	// migrations) first.
	ErrNotMigrated = errors.New("strata: table not migrated")
	// ErrDecodeFailed wraps a codec or decryption failure on read.
	ErrDecodeFailed = errors.New("strata: decode failed")
	// ErrEncodeFailed wraps a codec or encryption failure on write.
	ErrEncodeFailed = errors.New("strata: encode failed")
)

// Infrastructure errors.
var (
	// ErrL1Unavailable means the in-memory tier is not initialised.
	ErrL1Unavailable = errors.New("strata: L1 unavailable")
	// ErrL2Unavailable means Redis is unreachable where it is the source of
	// truth (no L3 for the schema). Elsewhere a Redis outage is bypassed.
	ErrL2Unavailable = errors.New("strata: L2 (redis) unavailable")
	// ErrL3Unavailable means PostgreSQL is unreachable or not configured, for
	// operations that need it (writes of L3-backed schemas, Search, Count,
	// Migrate, Tx).
	ErrL3Unavailable = errors.New("strata: L3 (postgres) unavailable")
	// ErrUnavailable is returned by every call made after Close.
	ErrUnavailable = errors.New("strata: data store is closed")
	// ErrOutcomeUnknown is wrapped, together with the cause (the context's
	// error, ErrL3Unavailable, ...), by the error of a write that failed
	// after PostgreSQL was sent it: its deadline passed during the
	// statement or the COMMIT, or the connection broke before the answer.
	// The write may have been applied, even after the call returned.
	// Strata invalidates the caches as for a successful write, at once and
	// again when PostgreSQL has finished with it, so reads show whichever
	// happened; read the record (or retry the write) to learn which. Every
	// other failed write was not applied.
	ErrOutcomeUnknown = errors.New("strata: write outcome unknown")
	// ErrL3Failed wraps a PostgreSQL failure that no other sentinel names:
	// a serialization failure or deadlock, a statement timeout, a full
	// disk, ... The *pgconn.PgError stays reachable with errors.As.
	ErrL3Failed = errors.New("strata: L3 (postgres) statement failed")
	// ErrMigrationFailed is returned by Migrate and MigrateFrom when the
	// database cannot be brought up to the models or files: a column whose
	// type or nullability drifted, a statement PostgreSQL refused, an
	// applied file that changed, a badly named file.
	ErrMigrationFailed = errors.New("strata: migration failed")
)

// ConflictError is the error behind ErrConflict: the constraint (or unique
// index) that refused the write, its table, and the server's error.
type ConflictError = l3postgres.ConflictError

// tierSentinel is a Strata sentinel that also matches the tier module's
// sentinel of the same meaning (errors.Is follows Unwrap).
type tierSentinel struct {
	msg  string
	tier error
}

func (s *tierSentinel) Error() string { return s.msg }
func (s *tierSentinel) Unwrap() error { return s.tier }

// Transaction errors.
var (
	// ErrTxFailed wraps the PostgreSQL error that made a transaction roll back.
	ErrTxFailed = errors.New("strata: transaction failed")
	// ErrTxTimeout means a transaction's context deadline passed.
	ErrTxTimeout = errors.New("strata: transaction timed out")
)

var (
	// ErrInvalidConfig is returned by NewDataStore for a Config it cannot
	// use; the message names the field.
	ErrInvalidConfig = errors.New("strata: invalid config")
	// ErrNilContext is returned by every method that takes a
	// context.Context when it is given a nil one (instead of panicking).
	// Pass context.Background() when there is no other context.
	ErrNilContext = errors.New("strata: nil context.Context")
	// ErrHookPanic is returned when a schema hook panics; the panic is
	// recovered and logged at Error. The message says whether the operation
	// had already happened (AfterSet: the write was stored; AfterGet: the
	// value was read) or was aborted (BeforeSet, BeforeGet). See SchemaHooks.
	ErrHookPanic = errors.New("strata: hook panicked")
	// ErrWriteBehindMaxRetry is passed to OnWriteError when a write-behind
	// entry exhausted its retries.
	ErrWriteBehindMaxRetry = errors.New("strata: write-behind retries exhausted")
	// ErrWriteBehindFull is returned by a write-behind Set when the schema
	// already has Config.WriteBehindMaxPending entries waiting for L3
	// (back-pressure: retry later, or slow down).
	ErrWriteBehindFull = errors.New("strata: write-behind queue full")
)

package strata

import "errors"

// Schema registration errors.
var (
	// ErrSchemaNotFound is returned by every data operation that names a
	// schema Register was not called for.
	ErrSchemaNotFound = errors.New("strata: schema not registered")
	// ErrSchemaDuplicate is returned by Register for a name already registered.
	ErrSchemaDuplicate = errors.New("strata: schema already registered")
	// ErrNoPrimaryKey is returned by Register for a model with no field
	// tagged primary_key.
	ErrNoPrimaryKey = errors.New("strata: model has no primary_key field")
	// ErrInvalidModel is returned by Register for a model that is not a
	// non-nil pointer to a struct, or whose fields or tags Strata cannot map
	// (an unsupported type, an unknown tag, encrypted on a non-string, ...),
	// and by data operations given a value of the wrong type.
	ErrInvalidModel = errors.New("strata: invalid model")
	// ErrMissingPrimaryKey is returned by writes whose id, or whose value's
	// primary key field, is empty.
	ErrMissingPrimaryKey = errors.New("strata: missing primary key")
)

// Data errors.
var (
	// ErrNotFound means the record is absent from the source of truth.
	ErrNotFound = errors.New("strata: not found")
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
)

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
	// ErrHookPanic is returned when a schema hook panics; the panic is
	// recovered and the operation aborted.
	ErrHookPanic = errors.New("strata: hook panicked")
	// ErrWriteBehindMaxRetry is passed to OnWriteError when a write-behind
	// entry exhausted its retries.
	ErrWriteBehindMaxRetry = errors.New("strata: write-behind retries exhausted")
	// ErrWriteBehindFull is returned by a write-behind Set when the schema
	// already has Config.WriteBehindMaxPending entries waiting for L3
	// (back-pressure: retry later, or slow down).
	ErrWriteBehindFull = errors.New("strata: write-behind queue full")
)

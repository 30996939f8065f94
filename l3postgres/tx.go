package l3postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Tx is a transaction on the primary. Bind tables to it with [Table.On];
// end it with Commit or Rollback. A Tx is not safe for concurrent use.
type Tx struct {
	tx pgx.Tx
}

// Begin starts a transaction on the primary.
func (db *DB) Begin(ctx context.Context) (*Tx, error) {
	return db.BeginTx(ctx, pgx.TxOptions{})
}

// BeginTx starts a transaction on the primary with the given options
// (isolation level, read-only, deferrable).
func (db *DB) BeginTx(ctx context.Context, opts pgx.TxOptions) (*Tx, error) {
	if db.closed.Load() {
		return nil, ErrClosed
	}
	tx, err := db.primary.BeginTx(ctx, opts)
	if err != nil {
		return nil, mapErr(err)
	}
	return &Tx{tx: tx}, nil
}

// InTx runs fn in a transaction, committing when fn returns nil and
// rolling back otherwise (also when fn panics, after which the panic goes
// on). fn's error is returned as it is. An error wrapping
// [ErrOutcomeUnknown] comes from the COMMIT (see [Tx.Commit]); any other
// error means nothing was committed.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) (err error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Commit commits the transaction. A transaction that had already failed
// is rolled back and Commit returns an error wrapping pgx.ErrTxCommitRollback.
// An error wrapping [ErrOutcomeUnknown] means the COMMIT was sent but its
// answer did not arrive: the transaction may have been committed.
func (tx *Tx) Commit(ctx context.Context) error {
	backend := tx.tx.Conn().PgConn().PID()
	return outcome(tx.tx.Commit(ctx), backend)
}

// Rollback rolls the transaction back; after Commit it is a no-op
// returning pgx.ErrTxClosed.
func (tx *Tx) Rollback(ctx context.Context) error { return mapErr(tx.tx.Rollback(ctx)) }

// Exec runs one program-written statement inside the transaction with args
// as parameters and returns the number of rows it affected.
func (tx *Tx) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := execExtended(ctx, tx.tx, sql, args...)
	return tag.RowsAffected(), mapErr(err)
}

// Raw returns the underlying pgx.Tx for statements this package does not
// cover.
func (tx *Tx) Raw() pgx.Tx { return tx.tx }

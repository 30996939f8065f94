package l3postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrOutcomeUnknown is wrapped by the error of a write that failed after
// its statement (or its COMMIT) was sent: the context ended or the
// connection broke before the server's answer arrived, so the write may
// have been applied, or may still be applied by the server after the call
// returned. Every other error of a write (of [Table.Upsert],
// [Table.DeleteByID], [Table.UpsertMany], [DB.InTx], [Tx.Commit]) means the
// write was not applied. The error is an [*OutcomeUnknownError].
var ErrOutcomeUnknown = errors.New("l3postgres: outcome unknown")

// OutcomeUnknownError is the error of a write whose outcome is unknown (see
// [ErrOutcomeUnknown]). errors.Is finds ErrOutcomeUnknown and everything the
// cause matches (ErrUnavailable, context.DeadlineExceeded, ...).
type OutcomeUnknownError struct {
	// Backend is the process id of the server backend the write was sent
	// to, or 0 if unknown. Once that backend has ended (see
	// [DB.BackendsAlive]) the write is applied or not for good.
	Backend uint32
	// Err is the cause.
	Err error
}

func (e *OutcomeUnknownError) Error() string {
	return e.Err.Error() + " (the write may have been applied)"
}

func (e *OutcomeUnknownError) Unwrap() []error { return []error{ErrOutcomeUnknown, e.Err} }

// notApplied reports whether err proves that a write sent on a connection
// was not applied: pgx knows nothing was sent, the transaction had already
// failed (COMMIT answered ROLLBACK) or was over, or the server answered with
// an ERROR, which aborts the statement and its transaction. A FATAL or PANIC
// (the backend ending, as in a shutdown) can arrive after a commit, and a
// timeout or a broken connection says nothing; those are ambiguous.
func notApplied(err error) bool {
	if pgconn.SafeToRetry(err) || errors.Is(err, pgx.ErrTxCommitRollback) || errors.Is(err, pgx.ErrTxClosed) {
		return true
	}
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		return false
	}
	severity := pg.SeverityUnlocalized // (Severity may be translated)
	if severity == "" {
		severity = pg.Severity
	}
	return severity == "ERROR"
}

// outcome maps the error of a write sent to backend: an ambiguous failure
// becomes an *OutcomeUnknownError.
func outcome(err error, backend uint32) error {
	if err == nil || notApplied(err) {
		return mapErr(err)
	}
	return &OutcomeUnknownError{Backend: backend, Err: mapErr(err)}
}

// backendOf returns the server process id of a pooled connection.
func backendOf(c *pgxpool.Conn) uint32 { return c.Conn().PgConn().PID() }

// write runs a write of t: in the bound transaction, whose COMMIT decides
// its outcome, or on a connection of the primary pool, with a failure
// classified by outcome (a failure to get a connection sent nothing).
func (t *Table) write(ctx context.Context, fn func(querier) error) error {
	q, err := t.writer()
	if err != nil {
		return err
	}
	if t.tx != nil {
		return mapErr(fn(q))
	}
	c, err := t.db.primary.Acquire(ctx)
	if err != nil {
		return mapErr(err)
	}
	defer c.Release()
	return outcome(fn(c), backendOf(c))
}

// BackendsAlive returns which of the server backends (process ids) still
// run, in one query of pg_stat_activity, which lists every backend to every
// role. After a write failed with an [*OutcomeUnknownError], its backend
// goes on until it has finished what it was sent (a backend notices that
// its client left only when it next reads or writes): once it has ended,
// the write's outcome is settled.
func (db *DB) BackendsAlive(ctx context.Context, backends []uint32) (map[uint32]bool, error) {
	if db.closed.Load() {
		return nil, ErrClosed
	}
	pids := make([]int32, len(backends))
	for i, b := range backends {
		pids[i] = int32(b)
	}
	rows, err := db.primary.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE pid = ANY($1)", pids)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	alive := make(map[uint32]bool, len(backends))
	for rows.Next() {
		var pid int32
		if err := rows.Scan(&pid); err != nil {
			return nil, mapErr(err)
		}
		alive[uint32(pid)] = true
	}
	return alive, mapErr(rows.Err())
}

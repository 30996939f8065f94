package migrate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Migrator applies table descriptions and SQL files to one database. It
// is safe for concurrent use, and any number of Migrators (in any number
// of processes) may work on the same database at once: each call holds
// the advisory lock Options.LockID for its whole duration.
type Migrator struct {
	pool    *pgxpool.Pool
	ownPool bool
	opts    Options
}

// New returns a Migrator on a caller-owned pool. It does not touch the
// database.
func New(pool *pgxpool.Pool, opts *Options) (*Migrator, error) {
	if pool == nil {
		return nil, errors.New("migrate: nil pool")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Migrator{pool: pool, opts: o}, nil
}

// Polling bounds for the advisory lock.
const (
	lockPollMin = 5 * time.Millisecond
	lockPollMax = 250 * time.Millisecond
)

// lock takes the session-level advisory lock by polling
// pg_try_advisory_lock rather than blocking in pg_advisory_lock. A session
// blocked in pg_advisory_lock sits in an open statement, and CREATE INDEX
// CONCURRENTLY run by the lock holder waits for every such statement to
// end: the two would deadlock. Between polls the waiter holds nothing.
func (m *Migrator) lock(ctx context.Context, conn *pgx.Conn) error {
	wait := lockPollMin
	for {
		var ok bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", m.opts.LockID).Scan(&ok); err != nil {
			return fmt.Errorf("%w: taking advisory lock %d: %w", ErrUnavailable, m.opts.LockID, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("migrate: waiting for advisory lock %d: %w", m.opts.LockID, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, lockPollMax)
	}
}

// Open returns a Migrator on a pool of its own for dsn (one connection is
// all it uses at a time); [Migrator.Close] closes that pool.
func Open(ctx context.Context, dsn string, opts *Options) (*Migrator, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	cfg.MinConns = 0
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return &Migrator{pool: pool, ownPool: true, opts: o}, nil
}

// Close closes the pool created by [Open]; for a Migrator made with [New]
// it does nothing (the caller owns that pool).
func (m *Migrator) Close() {
	if m.ownPool {
		m.pool.Close()
	}
}

// withLock runs fn on one connection holding the session-level advisory
// lock. The lock is released (or, if that fails, the connection closed,
// which releases it too) before withLock returns.
func (m *Migrator) withLock(ctx context.Context, fn func(*pgx.Conn) error) error {
	pc, err := m.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer pc.Release()
	conn := pc.Conn()
	if err := m.lock(ctx, conn); err != nil {
		return err
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", m.opts.LockID); err != nil {
			_ = conn.Close(uctx) // ending the session releases the lock
		}
	}()
	return fn(conn)
}

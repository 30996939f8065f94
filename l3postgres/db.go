package l3postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is the PostgreSQL tier: a primary pool, an optional replica pool, and
// the routing between them. It is safe for concurrent use.
type DB struct {
	primary    *pgxpool.Pool
	replica    *pgxpool.Pool
	ownPrimary bool
	ownReplica bool
	opts       Options

	groups *upsertGroups  // Table.UpsertGrouped's groups (group.go); a pointer keeps DB comparable
	drains sync.WaitGroup // their goroutines

	closed           atomic.Bool
	replicaDownUntil atomic.Int64 // unix nanoseconds; replica skipped before this
}

// querier is what both a pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	Begin(ctx context.Context) (pgx.Tx, error)
}

// New returns a DB on a caller-owned pool, which the caller closes after
// [DB.Close]. Only the replica fields and the Logger of opts apply; the
// pool-size fields are for pools this package creates.
func New(pool *pgxpool.Pool, opts *Options) (*DB, error) {
	if pool == nil {
		return nil, fmt.Errorf("%w: nil pool", ErrInvalidOptions)
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	db := &DB{primary: pool, opts: o, groups: new(upsertGroups)}
	if err := db.openReplica(); err != nil {
		return nil, err
	}
	return db, nil
}

// Open creates a pool for dsn with the settings of opts (nil = defaults)
// and returns a DB that owns it. Open does not wait for a connection: when
// the server is down, calls fail with [ErrUnavailable] until it is back.
func Open(ctx context.Context, dsn string, opts *Options) (*DB, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg, err := o.poolConfig(dsn)
	if err != nil {
		return nil, err
	}
	if err := checkExecMode(cfg); err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, mapErr(err)
	}
	db := &DB{primary: pool, ownPrimary: true, opts: o, groups: new(upsertGroups)}
	if err := db.openReplica(); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// WithReplica returns a DB that shares db's primary pool and sends its
// queries and counts to the read replica dsn, through a pool created with
// db's options. Use it to give some tables a replica without opening a
// second pool to the primary. Closing the returned DB closes only its
// replica pool; db keeps the primary.
func (db *DB) WithReplica(dsn string) (*DB, error) {
	if db.closed.Load() {
		return nil, ErrClosed
	}
	if dsn == "" {
		return nil, fmt.Errorf("%w: empty replica DSN", ErrInvalidOptions)
	}
	o := db.opts
	o.ReplicaDSN, o.Replica = dsn, nil
	r := &DB{primary: db.primary, opts: o, groups: new(upsertGroups)}
	if err := r.openReplica(); err != nil {
		return nil, err
	}
	return r, nil
}

func (db *DB) openReplica() error {
	if err := checkExecMode(db.primary.Config()); err != nil {
		return err
	}
	switch {
	case db.opts.Replica != nil:
		db.replica = db.opts.Replica
		return checkExecMode(db.replica.Config())
	case db.opts.ReplicaDSN != "":
		cfg, err := db.opts.poolConfig(db.opts.ReplicaDSN)
		if err != nil {
			return err
		}
		if err := checkExecMode(cfg); err != nil {
			return err
		}
		pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			return mapErr(err)
		}
		db.replica, db.ownReplica = pool, true
	}
	return nil
}

// checkExecMode refuses pools that would interpolate values client-side.
func checkExecMode(cfg *pgxpool.Config) error {
	if cfg.ConnConfig.DefaultQueryExecMode == pgx.QueryExecModeSimpleProtocol {
		return fmt.Errorf("%w: the simple protocol is not allowed (values must travel as parameters)", ErrInvalidOptions)
	}
	return nil
}

// Close closes the pools this DB created; caller-owned pools are left
// open. Close is idempotent; later calls on the DB return [ErrClosed].
func (db *DB) Close() {
	if db.closed.Swap(true) {
		return
	}
	if db.ownReplica {
		db.replica.Close()
	}
	if db.ownPrimary {
		db.primary.Close()
	}
	db.drains.Wait() // each ends once its calls are answered (ErrClosed now)
}

// Pool returns the primary pool.
func (db *DB) Pool() *pgxpool.Pool { return db.primary }

// ReplicaPool returns the replica pool, or nil when there is none.
func (db *DB) ReplicaPool() *pgxpool.Pool { return db.replica }

// Ping checks that the primary answers.
func (db *DB) Ping(ctx context.Context) error {
	if db.closed.Load() {
		return ErrClosed
	}
	return mapErr(db.primary.Ping(ctx))
}

// Exec runs one statement on the primary with args as parameters and
// returns the number of rows it affected. sql is program-written SQL; it
// must not be built from user input.
func (db *DB) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	if db.closed.Load() {
		return 0, ErrClosed
	}
	tag, err := execExtended(ctx, db.primary, sql, args...)
	return tag.RowsAffected(), mapErr(err)
}

// execExtended runs sql over the extended protocol even when it has no
// arguments (pgx's Exec switches to the simple protocol in that case).
func execExtended(ctx context.Context, q querier, sql string, args ...any) (pgconn.CommandTag, error) {
	if len(args) > 0 {
		return q.Exec(ctx, sql, args...)
	}
	rows, err := q.Query(ctx, sql, pgx.QueryExecModeExec)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	rows.Close()
	return rows.CommandTag(), rows.Err()
}

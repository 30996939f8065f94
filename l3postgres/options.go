package l3postgres

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Options tunes a [DB]. A nil *Options means all defaults; a zero field
// means that field's default.
type Options struct {
	// MaxConns is the pool's maximum number of connections, for pools that
	// Open creates (primary and replica). Default: 20.
	MaxConns int32

	// MinConns is the number of idle connections the pool keeps open.
	// Default: 2. Must not exceed MaxConns.
	MinConns int32

	// MaxConnLifetime is how long a connection may live before the pool
	// replaces it. Default: 30m.
	MaxConnLifetime time.Duration

	// MaxConnIdleTime is how long an idle connection is kept. Default: 10m.
	MaxConnIdleTime time.Duration

	// ReplicaDSN, when set, names a read-only replica whose pool serves
	// Query and Count. The pool is created with the same settings as the
	// primary's and closed by DB.Close. Default: none.
	ReplicaDSN string

	// Replica is a caller-owned replica pool, used instead of ReplicaDSN;
	// the caller closes it. Default: none.
	Replica *pgxpool.Pool

	// ReplicaRetryInterval is how long a replica that failed with a
	// connection-level error is skipped (its work going to the primary)
	// before it is tried again. Default: 5s.
	ReplicaRetryInterval time.Duration

	// Logger receives the warning logged when a replica is down.
	// Default: slog.Default().
	Logger *slog.Logger
}

// Defaults, as documented on the Options fields.
const (
	DefaultMaxConns             int32         = 20
	DefaultMinConns             int32         = 2
	DefaultMaxConnLifetime      time.Duration = 30 * time.Minute
	DefaultMaxConnIdleTime      time.Duration = 10 * time.Minute
	DefaultReplicaRetryInterval time.Duration = 5 * time.Second
)

// withDefaults returns a copy of o with every zero field set to its default.
func (o *Options) withDefaults() (Options, error) {
	var out Options
	if o != nil {
		out = *o
	}
	if out.MaxConns == 0 {
		out.MaxConns = DefaultMaxConns
	}
	if out.MinConns == 0 {
		out.MinConns = DefaultMinConns
	}
	if out.MaxConnLifetime == 0 {
		out.MaxConnLifetime = DefaultMaxConnLifetime
	}
	if out.MaxConnIdleTime == 0 {
		out.MaxConnIdleTime = DefaultMaxConnIdleTime
	}
	if out.ReplicaRetryInterval == 0 {
		out.ReplicaRetryInterval = DefaultReplicaRetryInterval
	}
	if out.Logger == nil {
		out.Logger = slog.Default()
	}
	switch {
	case out.MaxConns < 0 || out.MinConns < 0:
		return out, fmt.Errorf("%w: MaxConns and MinConns must not be negative", ErrInvalidOptions)
	case out.MinConns > out.MaxConns:
		return out, fmt.Errorf("%w: MinConns %d exceeds MaxConns %d", ErrInvalidOptions, out.MinConns, out.MaxConns)
	case out.MaxConnLifetime < 0 || out.MaxConnIdleTime < 0 || out.ReplicaRetryInterval < 0:
		return out, fmt.Errorf("%w: durations must not be negative", ErrInvalidOptions)
	case out.ReplicaDSN != "" && out.Replica != nil:
		return out, fmt.Errorf("%w: set ReplicaDSN or Replica, not both", ErrInvalidOptions)
	}
	return out, nil
}

// poolConfig parses dsn and applies the pool settings of o.
func (o Options) poolConfig(dsn string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	cfg.MaxConns = o.MaxConns
	cfg.MinConns = o.MinConns
	cfg.MaxConnLifetime = o.MaxConnLifetime
	cfg.MaxConnIdleTime = o.MaxConnIdleTime
	return cfg, nil
}

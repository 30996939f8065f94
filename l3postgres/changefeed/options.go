package changefeed

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Defaults applied by [Start] to zero Config fields.
const (
	DefaultStatusInterval  = time.Second
	DefaultAcquireInterval = time.Second
	DefaultTakeoverAfter   = 10 * time.Second
	DefaultReleaseAfter    = 10 * time.Second
	DefaultMinRetry        = 50 * time.Millisecond
	DefaultMaxRetry        = 2 * time.Second
	DefaultMaxBatch        = 1024
)

// Config configures a [Feed].
type Config struct {
	// Conn holds the connection settings (host, user, TLS, ...). The Feed
	// opens two connections from copies of it: a replication connection
	// (replication=database) that streams the slot, and an ordinary one for
	// the catalog (primary keys of the published tables) and for watching
	// the slot while another consumer holds it. Required.
	Conn *pgx.ConnConfig
	// BeforeConnect, when set, may change a copy of Conn before each
	// connection is made (e.g. to fetch a short-lived password); it has
	// the signature of pgxpool.Config.BeforeConnect, so a pool's hook can
	// be passed on. Default: none.
	BeforeConnect func(ctx context.Context, cfg *pgx.ConnConfig) error

	// Slot is the logical replication slot to stream. It must exist
	// ([EnsureSlot]); until it does the Feed logs and retries. Required;
	// [a-z0-9_], at most 63 characters.
	Slot string
	// Publication names the pgoutput publication of the tables to watch
	// ([EnsurePublication]). Required.
	Publication string

	// Handler receives the changes of committed transactions, in commit
	// order. The slot's confirmed position passes a transaction only after
	// a Handler call that covered its last change returned nil; on an error
	// the same batch is offered again, with backoff, so nothing is lost. A
	// batch may be delivered again after a crash or a takeover (at least
	// once), so the Handler must be idempotent. Required.
	Handler Handler

	// StatusInterval is how often the Feed reports its position to the
	// server while it streams, which is also its heartbeat. Default: 1s.
	StatusInterval time.Duration
	// AcquireInterval is how often a Feed that does not hold the slot
	// checks whether it can take it. Default: 1s.
	AcquireInterval time.Duration
	// TakeoverAfter is how long the consumer holding the slot may go
	// without a status report before a waiting Feed ends its replication
	// session (pg_terminate_backend) and takes the slot. A consumer whose
	// process died frees the slot at once; this bounds the case where it
	// hangs or its host vanished. Default: 10s.
	TakeoverAfter time.Duration
	// ReleaseAfter is how long the Handler may keep failing (every retry
	// of a batch, counted from the start of the first failing call, no
	// success in between) before the Feed ends its session
	// and lets another Feed take the slot: a consumer that cannot apply
	// (its cache server refuses or cannot be reached) must not pin the
	// slot while a consumer elsewhere could make progress. The Feed then
	// stays away from the slot for twice AcquireInterval, so that a
	// waiting Feed gets it first; if none does, it takes the slot again
	// and retries. Nothing is lost either way: the slot's position has
	// not passed the failing batch. Default: 10s.
	ReleaseAfter time.Duration
	// Ready, when set, is asked before the Feed takes the slot (or ends a
	// silent holder's session); while it returns an error the Feed leaves
	// the slot to others, e.g. while its cache server does not answer.
	// Default: always ready.
	Ready func(ctx context.Context) error
	// MinRetry and MaxRetry bound the backoff between Handler retries.
	// Defaults: 50ms and 2s.
	MinRetry, MaxRetry time.Duration
	// MaxBatch is the number of changes beyond which the Feed stops adding
	// transactions to one Handler call (a single large transaction is
	// split into calls of this size; its position is confirmed after the
	// last). Default: 1024.
	MaxBatch int

	// VersionColumn names a row version column (see migrate's
	// Table.RowVersion) whose value the Feed passes on as Change.Version
	// for inserts and updates of tables that have it. Default: none.
	VersionColumn string

	// Logger receives the Feed's log lines. Default: discard.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Conn == nil:
		return bad("Conn is required")
	case c.Handler == nil:
		return bad("Handler is required")
	case !ValidSlotName(c.Slot):
		return bad("Slot %q must be 1-63 characters of [a-z0-9_]", c.Slot)
	case !validIdent(c.Publication):
		return bad("Publication %q must be 1-63 letters, digits or underscores", c.Publication)
	case c.StatusInterval < 0 || c.AcquireInterval < 0 || c.TakeoverAfter < 0 || c.ReleaseAfter < 0 || c.MinRetry < 0 || c.MaxRetry < 0 || c.MaxBatch < 0:
		return bad("durations and MaxBatch must not be negative")
	}
	if c.StatusInterval == 0 {
		c.StatusInterval = DefaultStatusInterval
	}
	if c.AcquireInterval == 0 {
		c.AcquireInterval = DefaultAcquireInterval
	}
	if c.TakeoverAfter == 0 {
		c.TakeoverAfter = DefaultTakeoverAfter
	}
	if c.ReleaseAfter == 0 {
		c.ReleaseAfter = DefaultReleaseAfter
	}
	if c.TakeoverAfter < 2*c.StatusInterval {
		return bad("TakeoverAfter %v must be at least twice StatusInterval %v, or live consumers would be taken over", c.TakeoverAfter, c.StatusInterval)
	}
	if c.MinRetry == 0 {
		c.MinRetry = DefaultMinRetry
	}
	if c.MaxRetry == 0 {
		c.MaxRetry = DefaultMaxRetry
	}
	if c.MaxRetry < c.MinRetry {
		c.MaxRetry = c.MinRetry
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// ValidSlotName reports whether name is a valid replication slot name:
// 1-63 characters, each a lower-case letter, a digit or an underscore.
func ValidSlotName(name string) bool {
	if len(name) == 0 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// validIdent accepts plain identifiers, which need no quoting rules beyond
// double quotes.
func validIdent(name string) bool {
	if len(name) == 0 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

package strata

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/AndrewDonelson/strata/migrate"
)

// DataStore is the handle to Strata's tiers. Create one with NewDataStore,
// Register schemas, then read and write. It is safe for concurrent use.
type DataStore struct {
	cfg Config
	enc *keyring // nil when Config.EncryptionKey is nil

	// schemas maps a name to its state. It is replaced, never mutated, so
	// reads need no lock; mu serialises Register.
	schemas atomic.Pointer[map[string]*schemaState]
	hints   schemaHints // schema's fast path; see schemahints.go
	mu      sync.Mutex

	life lifecycle // closed, writes in flight, background goroutines; see lifecycle.go

	stats counters

	l2       *l2redis.Store            // nil without Redis
	bus      *l2redis.Bus              // nil without Redis
	l3       *l3postgres.DB            // nil without PostgreSQL
	replicas map[string]*l3postgres.DB // per ReadReplica DSN; see replicaDB
	mig      *migrate.Migrator         // nil without PostgreSQL
	stale    staleL2
	doubts   doubts // ambiguous writes waiting to be settled; see ambiguous.go

	flushNow  chan struct{} // wakes the flusher early
	repairNow chan struct{} // wakes the repairer early

	cf feedState // the change feed; see coherence_feed.go

	test testHooks // set only by tests; see testhooks.go
}

// NewDataStore validates cfg, applies its defaults and connects the tiers it
// names. Config{} gives a working in-memory store.
func NewDataStore(cfg Config) (*DataStore, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ds := &DataStore{cfg: c, flushNow: make(chan struct{}, 1), repairNow: make(chan struct{}, 1), life: newLifecycle()}
	if c.EncryptionKey != nil {
		if ds.enc, err = newKeyring(c.EncryptionKey, c.PreviousEncryptionKeys); err != nil {
			return nil, err
		}
	}
	empty := map[string]*schemaState{}
	ds.schemas.Store(&empty)
	if err := ds.connect(); err != nil {
		return nil, err
	}
	if err := ds.startFeed(); err != nil {
		ds.closeTiers()
		return nil, err
	}
	return ds, nil
}

// Close flushes pending writes, stops every background goroutine and closes
// the tiers. Pending write-behind records are flushed with retries and
// backoff for up to 10 s while PostgreSQL is unreachable or drops
// connections (as after a restart); what is still unwritten then is named in
// the returned error. It is idempotent; every later call on the DataStore
// returns ErrUnavailable.
func (ds *DataStore) Close() error {
	return ds.life.close(func() error {
		ds.closeFeed() // before the tiers it invalidates are closed
		ds.life.stopLoops()
		errs := ds.settleBeforeClose()
		for _, st := range *ds.schemas.Load() {
			errs = append(errs, st.close())
		}
		ds.life.wait()
		errs = append(errs, ds.closeTiers())
		return errors.Join(errs...)
	})
}

// settleBeforeClose flushes the write-behind records, invalidates the
// writes whose outcome is unknown and makes a last try at the Redis keys
// an outage left stale.
func (ds *DataStore) settleBeforeClose() []error {
	var errs []error
	if ds.dirtyCount() > 0 {
		budget := flushRetryBudget
		if d := ds.test.closeFlushBudget.Load(); d > 0 {
			budget = time.Duration(d)
		}
		ctx, cancel := context.WithTimeout(context.Background(), budget)
		if err := ds.flushAll(ctx); err != nil {
			errs = append(errs, fmt.Errorf("strata: Close could not flush write-behind records (they are lost with this process): %w", err))
		}
		cancel()
	}
	if n := ds.drainDoubts(); n > 0 {
		ds.cfg.Logger.Warn("strata: Close invalidates writes whose outcome PostgreSQL had not settled yet", "writes", n)
	}
	if ds.stale.n.Load() > 0 { // a last try at what Redis could not be told
		ds.retryStaleL2(context.Background())
		if n := ds.stale.n.Load(); n > 0 {
			ds.cfg.Logger.Warn("strata: Close could not repair every redis key written during an outage; they expire by their TTL", "entries", n)
		}
	}
	return errs
}

// startFlusher starts the write-behind flusher once.
func (ds *DataStore) startFlusher() {
	ds.life.flusher.Do(func() { ds.goBackground(func() { ds.flusher(ds.life.stop) }) })
}

// goBackground runs fn on a goroutine that Close waits for, unless Close
// has begun waiting (then fn does not run and false is returned).
func (ds *DataStore) goBackground(fn func()) bool { return ds.life.goBackground(fn) }

// schema returns the registered state of name, or an error if the store is
// closed or the name unknown. It takes no lock. Its fast path (also in
// begin) is the name's hint slot, see schemahints.go.
func (ds *DataStore) schema(name string) (*schemaState, error) {
	if st := ds.hints.lookup(name); st != nil && !ds.life.closed.Load() {
		return st, nil
	}
	return ds.schemaByMap(name)
}

// schemaByMap is schema's lookup in the map of registered schemas.
func (ds *DataStore) schemaByMap(name string) (*schemaState, error) {
	if ds.life.closed.Load() {
		return nil, ErrUnavailable
	}
	st, ok := (*ds.schemas.Load())[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrSchemaNotFound, name)
	}
	ds.hints.remember(name, st)
	return st, nil
}

// writeOp marks a write in flight until release is called: Close waits for
// writes in flight before it flushes and closes the tiers, so a write that
// has been accepted always finishes its cache upkeep. It fails once Close
// has begun. Writes must not nest writeOp calls.
func (ds *DataStore) writeOp() (release func(), err error) { return ds.life.op() }

// errNilContext is what a method given a nil context.Context returns.
var errNilContext = fmt.Errorf("%w: pass context.Background() when there is no other", ErrNilContext)

// begin is the common prologue of data operations.
func (ds *DataStore) begin(ctx context.Context, name string) (*schemaState, error) {
	if ctx == nil {
		return nil, errNilContext
	}
	st := ds.hints.lookup(name) // schema's fast path, inlined
	if st == nil || ds.life.closed.Load() {
		var err error
		if st, err = ds.schemaByMap(name); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return st, nil
}

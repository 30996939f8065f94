package strata

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/l3postgres"
)

// Ambiguous writes. A write whose call fails after PostgreSQL was sent it
// (the caller's deadline passed during the statement or its COMMIT, the
// connection broke before the answer) may have been applied, or may still
// be applied after the call returned: a frozen or overloaded server runs
// what it received when it gets to it. l3postgres tells these failures
// apart (l3postgres.ErrOutcomeUnknown; every other failure of a write means
// it was not applied) and names the server backend the write went to.
//
// Such a write is invalidated like a successful one, at once — in case it
// was applied before the call gave up — and again once its outcome is
// settled: when its backend has ended, since a backend notices that its
// client left only after finishing what it was sent. The second round is
// what makes the first safe: between the two, another reader may have read
// the old row and cached it. Until the second round, this instance's reads
// of those ids bypass its caches (doubts.has), so they see the write as
// soon as it lands; other instances may serve the old row until the second
// round reaches them. Invalidation is idempotent, so doing it for a write
// that turns out not to have been applied costs only a cache miss.
//
// The wait is bounded (settleTimeout): a statement still running after it
// (one waiting for a lock held elsewhere, say) is invalidated then, and a
// later application of it is left to the L2 TTL or the change feed.

// settleTimeout bounds how long an ambiguous write's backend is waited for.
const settleTimeout = 2 * time.Minute

// settlePoll is how often the backends of ambiguous writes are looked for.
const settlePoll = 50 * time.Millisecond

// doubt is an ambiguous write waiting for its backend to end.
type doubt struct {
	st      *schemaState
	ids     []string
	dropL1  bool
	backend uint32
	until   time.Time
}

// doubts holds the ambiguous writes whose outcome is not settled yet.
type doubts struct {
	n       atomic.Int64
	mu      sync.Mutex
	pending []doubt
}

// has reports whether an ambiguous write of st's id is still unsettled.
// Until it is, reads of id bypass the caches: they read PostgreSQL and fill
// neither L1 nor Redis, because a row read now may be replaced at any
// moment by the write landing, and nothing would tell this instance before
// the doubt settles. Cheap when nothing is in doubt (one atomic load).
func (d *doubts) has(st *schemaState, id string) bool {
	if d.n.Load() == 0 {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, x := range d.pending {
		if x.st == st && slices.Contains(x.ids, id) {
			return true
		}
	}
	return false
}

func (d *doubts) add(x doubt) {
	d.mu.Lock()
	d.pending = append(d.pending, x)
	d.n.Store(int64(len(d.pending)))
	d.mu.Unlock()
}

// settle hands every doubt for which done returns true to the stale
// ledger (and drops its L1 entries), under the lock, so that a concurrent
// drain never misses one. It returns how many it handed over.
func (d *doubts) settle(ds *DataStore, done func(doubt) bool) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	kept, n := d.pending[:0], 0
	for _, x := range d.pending {
		if !done(x) {
			kept = append(kept, x)
			continue
		}
		if ds.sharesCaches() {
			ds.stale.add(x.st, x.ids...) // before the L1 drop: no refill from L2 between
		}
		if x.dropL1 {
			for _, id := range x.ids {
				x.st.l1.Delete(id)
			}
		}
		n++
	}
	clear(d.pending[len(kept):])
	d.pending = kept
	d.n.Store(int64(len(kept)))
	return n
}

// writeError is the error of a failed L3 write in Strata's vocabulary: err
// as l3Error maps it, also wrapping ErrOutcomeUnknown when the write may
// have been applied.
func writeError(err error) error {
	if !errors.Is(err, l3postgres.ErrOutcomeUnknown) {
		return l3Error(err)
	}
	return &tierError{kind: ErrOutcomeUnknown, err: l3Error(err), msg: ErrOutcomeUnknown.Error() + ": " + explain(err)}
}

// afterFailedWrite runs when the L3 write of ids failed with err: if it
// may have been applied, the caches are invalidated now and again once its
// outcome is settled (see above). It returns err in Strata's vocabulary.
func (ds *DataStore) afterFailedWrite(ctx context.Context, st *schemaState, op l2redis.Op, dropL1 bool, err error, ids ...string) error {
	var unknown *l3postgres.OutcomeUnknownError
	if !errors.As(err, &unknown) {
		return writeError(err)
	}
	// The doubt is recorded before the first invalidation: a read that
	// begins after it bypasses the caches (doubts.has), and a fill begun
	// before it is voided by the invalidation (L1's epoch, Redis's lease).
	again := ds.sharesCaches() || dropL1 // something to invalidate once more
	if again {
		ds.doubts.add(doubt{st: st, ids: ids, dropL1: dropL1, backend: unknown.Backend, until: time.Now().Add(settleTimeout)})
	}
	ds.invalidateAfterWrite(ctx, st, op, dropL1, ids...)
	if again {
		ds.startRepairer()
		ds.kickRepairer()
	}
	logWarn(ctx, ds.cfg.Logger, "strata: a write failed after PostgreSQL was sent it; invalidated now and when its outcome is settled",
		"schema", st.Name, "ids", len(ids), "err", err)
	return writeError(err)
}

// settleDoubts invalidates the ambiguous writes whose backend has ended
// (or that waited settleTimeout), and reports how many it settled.
func (ds *DataStore) settleDoubts(ctx context.Context) int {
	ask := ds.backendAsker()
	if ds.doubts.n.Load() == 0 || ask == nil {
		return 0
	}
	ds.doubts.mu.Lock()
	asked := make(map[uint32]bool, len(ds.doubts.pending))
	backends := make([]uint32, 0, len(ds.doubts.pending))
	for _, x := range ds.doubts.pending {
		if !asked[x.backend] {
			asked[x.backend] = true
			backends = append(backends, x.backend)
		}
	}
	ds.doubts.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	alive, err := ask(ctx, backends)
	now := time.Now()
	return ds.doubts.settle(ds, func(x doubt) bool {
		ended := err == nil && asked[x.backend] && !alive[x.backend] // (a doubt added since was not asked about)
		return ended || x.backend == 0 || now.After(x.until)
	})
}

// drainDoubts hands every unsettled ambiguous write to the stale ledger
// (Close's last attempt), and reports how many were still unsettled.
func (ds *DataStore) drainDoubts() int {
	return ds.doubts.settle(ds, func(doubt) bool { return true })
}

package strata

import (
	"context"
	"sync"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// leaseKeeper keeps a fill lease that its reader still needs from lapsing:
// from the grant until the fill has been answered (or the read ended
// without one), it extends the lease every quarter of its LeaseTTL, and
// retries sooner an extension that failed. A reader
// slowed down past LeaseTTL — a loaded machine, a slow PostgreSQL — used to
// lose its lease to expiry while it read, and the next reader, of any
// instance, then took the key and read PostgreSQL as well. A reader that
// died stops extending, and its lease expires within LeaseTTL as before.
// Extending costs nothing while reads and fills take less than LeaseTTL/4
// (a timer that never fires).
type leaseKeeper struct {
	ds    *DataStore
	st    *schemaState
	lease l2redis.Lease
	every time.Duration
	mu    sync.Mutex
	timer *time.Timer
	done  bool
}

// keepLease starts extending lease; the caller stops it (stop) when the
// lease is no longer needed. It returns nil for the zero Lease.
func (ds *DataStore) keepLease(st *schemaState, lease l2redis.Lease) *leaseKeeper {
	if !lease.Valid() {
		return nil
	}
	k := &leaseKeeper{ds: ds, st: st, lease: lease, every: ds.l2.LeaseTTL() / 4}
	k.mu.Lock()
	k.timer = time.AfterFunc(k.every, k.extend)
	k.mu.Unlock()
	return k
}

// extend runs on the timer: one Extend in the background (Close waits for
// it), then the timer again, unless the lease is gone or no longer needed.
func (k *leaseKeeper) extend() {
	k.mu.Lock()
	done := k.done
	k.mu.Unlock()
	if done {
		return
	}
	k.ds.goBackground(func() {
		// The lease has about 3/4 of LeaseTTL left: the call may take
		// most of it (a loaded machine), and a failed one is retried soon.
		ctx, cancel := context.WithTimeout(context.Background(), 2*k.every)
		ok, err := k.ds.l2.Extend(ctx, k.lease)
		cancel()
		next := k.every
		if err != nil {
			k.ds.cfg.Metrics.Error(k.st.Name, metrics.TierL2, "lease")
			next = k.every / 4
		} else if !ok { // voided by a write, or lapsed: nothing left to keep
			return
		}
		k.mu.Lock()
		defer k.mu.Unlock()
		if !k.done {
			k.timer.Reset(next)
		}
	})
}

// stop ends the extensions. A nil keeper does nothing.
func (k *leaseKeeper) stop() {
	if k == nil {
		return
	}
	k.mu.Lock()
	k.done = true
	k.timer.Stop()
	k.mu.Unlock()
}

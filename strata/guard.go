package strata

import "sync/atomic"

// writeGuard lets a bulk read (Search) fill L1 without racing writes.
//
// Per-key epochs (l1mem's fill guard) protect a fill whose key is known
// before the read. Search learns its keys only from the rows, so the epochs
// it takes come after the read, and a write that landed between the read and
// the epoch would be missed. writeGuard closes that gap for the whole
// schema: every local write counts itself in while it runs (L3 through L1),
// every write or invalidation counts as done when it finishes, and Search
// fills only if no write was running when it began or ends and none finished
// in between. A write that starts after that check advances the key's epoch
// or deletes the entry, as for any other fill.
type writeGuard struct {
	running atomic.Int64
	done    atomic.Uint64
}

// enter marks a write as running; call the returned function when its last
// tier (L1) is updated.
func (g *writeGuard) enter() func() {
	g.running.Add(1)
	return func() {
		g.done.Add(1)
		g.running.Add(-1)
	}
}

// invalidated records a completed invalidation from elsewhere (another
// instance's message, or an L1 flush).
func (g *writeGuard) invalidated() { g.done.Add(1) }

// begin returns a token for quiet; ^0 when a write is running already.
func (g *writeGuard) begin() uint64 {
	if g.running.Load() != 0 {
		return ^uint64(0)
	}
	return g.done.Load()
}

// quiet reports whether no write ran or finished since begin returned token.
func (g *writeGuard) quiet(token uint64) bool {
	return token != ^uint64(0) && g.running.Load() == 0 && g.done.Load() == token
}

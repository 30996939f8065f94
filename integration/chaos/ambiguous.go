package chaos

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// AmbiguousReport is what the end-of-run ambiguous writes did.
type AmbiguousReport struct {
	// Sent counts the Sets made while instance a's link to PostgreSQL was
	// blackholed, Failed those whose call failed (outcome unknown), and
	// Applied those PostgreSQL holds once the link healed: each a write
	// whose caller saw an error and that took effect afterwards.
	Sent    int `json:"sent"`
	Failed  int `json:"failed"`
	Applied int `json:"applied"`
}

// ambiguousKeys is how many shared keys the end-of-run scenario writes.
const ambiguousKeys = 5

// ambiguousWrites runs, with the workload stopped and before the
// convergence check, the scenario the workload's hot keys hide: a write
// whose call fails after PostgreSQL was sent it, on a key nobody writes
// again. During the workload the next acknowledged write of the key
// invalidates the caches within a second or so, whatever the failed one
// left; here the convergence check is all that follows, so a write that was
// applied without its caches being invalidated leaves every instance
// serving the old value (issue 11 item 7).
//
// Instance a sets ambiguousKeys shared keys (acknowledged, and using as
// many pooled connections a moment ago: pgxpool pings a connection idle
// for over a second before lending it, and that ping would not get
// through), a and b read them (Redis and their L1 now hold them), a's link
// to PostgreSQL is blackholed, a sets each key again with a short deadline —
// every call fails, its statement held — and the link heals, delivering
// the statements.
func (r *runner) ambiguousWrites(ctx context.Context, rep *RunReport) AmbiguousReport {
	var out AmbiguousReport
	keys := r.cfg.Keys.Shared[:min(ambiguousKeys, len(r.cfg.Keys.Shared))]
	workers := map[string]*worker{}
	for i, slot := range []string{slotA, slotB} {
		spec := r.specs[slot]
		spec.ProcNum = int64(6 + i) // ids apart from the workload's and restartWithPending's
		workers[slot] = &worker{ds: r.stores[slot], rec: r.h, spec: spec, c: ClientSpec{ID: r.clientID, Role: RoleMixed}, seq: new(atomic.Int64)}
		r.clientID++
	}
	a := workers[slotA]
	each := func(f func(key string)) {
		var wg sync.WaitGroup
		for _, key := range keys {
			wg.Add(1)
			go func() { defer wg.Done(); f(key) }()
		}
		wg.Wait()
	}
	each(func(key string) { a.setVer(SchemaWT, key) })
	for _, slot := range []string{slotA, slotB} {
		for _, key := range keys {
			workers[slot].get(SchemaWT, key)
		}
	}
	short := *a
	short.spec.OpTimeout = 500 * time.Millisecond
	vers := make([]int64, len(keys))
	failed := 0
	link := r.links[slotA].PG
	f := Fault{Kind: "pg-blackhole", Target: slotA, Start: r.h.Now()}
	link.SetBlackhole(true)
	var wg sync.WaitGroup
	for i, key := range keys {
		wg.Add(1)
		go func() { defer wg.Done(); vers[i] = short.setVer(SchemaWT, key) }()
	}
	wg.Wait()
	link.SetBlackhole(false)
	f.End = r.h.Now()
	rep.Faults = append(rep.Faults, f)
	for _, op := range r.h.Ops() {
		if op.ID>>32 == short.spec.ProcNum && op.Kind == KindSet && op.Status == StatusUnknown {
			failed++
		}
	}
	out.Sent, out.Failed = len(keys), failed
	// The held statements run once delivered; wait (briefly) to count them.
	deadline := time.Now().Add(5 * time.Second)
	for {
		truth, err := r.truth(ctx)
		if err != nil {
			rep.Failures = append(rep.Failures, fmt.Sprintf("ambiguous writes: %v", err))
			return out
		}
		out.Applied = 0
		for i, key := range keys {
			if truth[SchemaWT+"/"+key] == vers[i] {
				out.Applied++
			}
		}
		if out.Applied == len(keys) || time.Now().After(deadline) {
			return out
		}
		time.Sleep(100 * time.Millisecond)
	}
}

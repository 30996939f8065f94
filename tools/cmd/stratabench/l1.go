package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/AndrewDonelson/strata/tools/benchkit"
	"github.com/AndrewDonelson/strata/tools/l1bench"
)

// l1Subjects are the l1bench caches compared here: l1mem with LRU (the
// policy Strata's L1 uses by default) and with W-TinyLFU, against the
// peers and the plain mutex LRU.
var l1Subjects = []string{"l1mem-lru", "l1mem-tinylfu", "otter", "ristretto", "hashicorp", "mutexlru"}

func l1Makers() []l1bench.Maker {
	var out []l1bench.Maker
	for _, name := range l1Subjects {
		for _, m := range l1bench.Makers {
			if m.Name == name {
				out = append(out, m)
			}
		}
	}
	return out
}

// waiter is the caches (ristretto) whose writes land asynchronously.
type waiter interface{ Wait() }

func settle(c l1bench.Cache) {
	if w, ok := c.(waiter); ok {
		w.Wait()
	}
}

// l1Workloads measure l1bench's workload: every cache full (about 100,000
// entries) with the 100,000 hottest of 1M Zipf(1.01) keys; Get hits walk a
// Zipf trace of the keys each cache still holds, the 90/10 mix and Sets a
// Zipf trace over all 1M keys.
func l1Workloads(f *fixture) []workload {
	mask := l1bench.Stream - 1
	resident := func(c l1bench.Cache, w *l1bench.Workload) ([]string, error) { return w.ResidentTrace(c) }
	everything := func(_ l1bench.Cache, w *l1bench.Workload) ([]string, error) { return w.All, nil }
	timed := func(name string, parallel bool, trace func(l1bench.Cache, *l1bench.Workload) ([]string, error), op func(c l1bench.Cache, w *l1bench.Workload, trace []string, i int)) workload {
		return workload{name: name, run: func(context.Context) ([]benchkit.Result, error) {
			w := l1bench.Load()
			var subjects []benchkit.Subject
			var caches []l1bench.Cache
			defer func() {
				for _, c := range caches {
					c.Close()
				}
			}()
			for _, m := range l1Makers() {
				c := m.New(l1bench.Capacity, 0)
				caches = append(caches, c)
				w.FillCache(c)
				t, err := trace(c, w)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", m.Name, err)
				}
				subjects = append(subjects, benchkit.Subject{
					Name: m.Name, Ours: strings.HasPrefix(m.Name, "l1mem"),
					Op: func(i int) error { op(c, w, t, i); return nil },
				})
			}
			plan := f.cfg.l1
			if parallel {
				plan.Parallel = runtime.GOMAXPROCS(0)
			}
			ms, err := benchkit.Run(plan, subjects)
			if err != nil {
				return nil, err
			}
			return benchkit.Compare(name, ms), nil
		}}
	}
	get := func(c l1bench.Cache, _ *l1bench.Workload, t []string, i int) { c.Get(t[i&mask]) }
	mix := func(c l1bench.Cache, w *l1bench.Workload, t []string, i int) {
		j := i & mask
		if w.Write[j] {
			c.Set(t[j], l1bench.ValueOf(j))
		} else {
			c.Get(t[j])
		}
	}
	set := func(c l1bench.Cache, _ *l1bench.Workload, t []string, i int) { c.Set(t[i&mask], l1bench.ValueOf(i)) }
	return []workload{
		timed("l1/get-hit", false, resident, get),
		timed("l1/get-hit-parallel", true, resident, get),
		timed("l1/mix-90r10w-parallel", true, everything, mix),
		timed("l1/set-parallel", true, everything, set),
		hitRatioWorkload(f, 10_000),
		hitRatioWorkload(f, 100_000),
	}
}

// hitRatioWorkload replays a Zipf(1.01) stream over l1bench.Keys keys
// through each cache at the given capacity: a Get, and a Set on a miss.
func hitRatioWorkload(f *fixture, capacity int) workload {
	name := fmt.Sprintf("l1/hit-ratio-%dk", capacity/1000)
	return workload{name: name, run: func(context.Context) ([]benchkit.Result, error) {
		keys := make([]string, f.cfg.hitRequests)
		z := l1bench.Zipf(42, l1bench.Keys)
		for i := range keys {
			keys[i] = l1bench.Key(z.Uint64())
		}
		var ms []benchkit.Measured
		for _, m := range l1Makers() {
			c := m.New(capacity, 0)
			hits := 0
			start := time.Now()
			for _, k := range keys {
				if _, ok := c.Get(k); ok {
					hits++
					continue
				}
				c.Set(k, l1bench.ValueOf(1))
				settle(c)
			}
			took := time.Since(start)
			c.Close()
			ms = append(ms, benchkit.Measured{
				Subject: m.Name, Ours: strings.HasPrefix(m.Name, "l1mem"),
				NsPerOp: float64(took) / float64(len(keys)),
				HitPct:  benchkit.Float(100 * float64(hits) / float64(len(keys))),
			})
		}
		return benchkit.Compare(name, ms), nil
	}}
}

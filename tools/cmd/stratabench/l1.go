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

// l1Subjects are the l1bench caches compared here: l1mem with LRU, the
// policy Strata's L1 uses by default, against the peers and the plain
// mutex LRU.
var l1Subjects = []string{"l1mem-lru", "otter", "ristretto", "hashicorp", "mutexlru"}

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

// prefillHot stores the hot set until every key of it is resident (a
// TinyLFU-style admission may refuse the first attempts).
func prefillHot(c l1bench.Cache, w *l1bench.Workload) {
	for pass := 0; pass < 3; pass++ {
		for i, k := range w.HotSet {
			c.Set(k, i)
		}
		settle(c)
	}
}

func warmAll(c l1bench.Cache, w *l1bench.Workload) {
	for i, k := range w.All {
		c.Set(k, i)
	}
	settle(c)
}

func l1Workloads(f *fixture) []workload {
	mask := l1bench.Stream - 1
	timed := func(name string, parallel bool, prep func(l1bench.Cache, *l1bench.Workload), op func(l1bench.Cache, *l1bench.Workload, int)) workload {
		return workload{name: name, run: func(context.Context) ([]benchkit.Result, error) {
			w := l1bench.Load()
			var subjects []benchkit.Subject
			var caches []l1bench.Cache
			for _, m := range l1Makers() {
				c := m.New(l1bench.Capacity, 0)
				caches = append(caches, c)
				prep(c, w)
				subjects = append(subjects, benchkit.Subject{
					Name: m.Name, Ours: strings.HasPrefix(m.Name, "l1mem"),
					Op: func(i int) error { op(c, w, i); return nil },
				})
			}
			defer func() {
				for _, c := range caches {
					c.Close()
				}
			}()
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
	get := func(c l1bench.Cache, w *l1bench.Workload, i int) { c.Get(w.Hits[i&mask]) }
	mix := func(c l1bench.Cache, w *l1bench.Workload, i int) {
		j := i & mask
		if w.Write[j] {
			c.Set(w.All[j], j)
		} else {
			c.Get(w.All[j])
		}
	}
	set := func(c l1bench.Cache, w *l1bench.Workload, i int) { c.Set(w.All[i&mask], i) }
	return []workload{
		timed("l1/get-hit", false, prefillHot, get),
		timed("l1/get-hit-parallel", true, prefillHot, get),
		timed("l1/mix-90r10w-parallel", true, warmAll, mix),
		timed("l1/set-parallel", true, warmAll, set),
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
				c.Set(k, 1)
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

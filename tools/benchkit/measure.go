package benchkit

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Subject is one implementation measured in a workload.
type Subject struct {
	// Name identifies the subject in the report, e.g. "strata" or "raw pgx".
	Name string
	// Ours marks a Strata subject: it is compared to every other subject.
	Ours bool
	// Op performs operation number i. i grows from 0 across the whole run
	// of the subject, so Op can index a precomputed key stream with it.
	// With Parallel workers, Op is called concurrently.
	Op func(i int) error
	// Units is how many operations one call of Op performs (a batch call
	// writing 10,000 rows is 10,000): ns/op and allocs/op are per unit.
	// Default (0): 1.
	Units int
}

// Plan says how long and how often to measure.
type Plan struct {
	// Rounds is the number of measured rounds per subject; the report keeps
	// their median. Default: 5.
	Rounds int
	// RoundTime is the target duration of one round of one subject.
	// Default: 200ms.
	RoundTime time.Duration
	// Parallel is the number of goroutines sharing the operations of a
	// round. Default (0 or 1): one, sequential.
	Parallel int
	// MaxOps caps the operations of one round (0: no cap), for subjects
	// whose operations have side effects that must stay bounded.
	MaxOps int
}

func (p Plan) withDefaults() Plan {
	if p.Rounds <= 0 {
		p.Rounds = 5
	}
	if p.RoundTime <= 0 {
		p.RoundTime = 200 * time.Millisecond
	}
	if p.Parallel <= 0 {
		p.Parallel = 1
	}
	return p
}

// RoundOrder returns the order in which the subjects run in round r:
// forwards in even rounds, backwards in odd ones, so that no subject always
// runs right after the same neighbour (or right after a warm-up).
func RoundOrder(n, r int) []int {
	order := make([]int, n)
	for i := range order {
		if r%2 == 0 {
			order[i] = i
		} else {
			order[i] = n - 1 - i
		}
	}
	return order
}

// Run measures every subject under plan: a calibration pass sizes each
// subject's rounds to plan.RoundTime (and warms it), then the rounds run
// with the subjects interleaved. It returns the medians in subject order.
func Run(plan Plan, subjects []Subject) ([]Measured, error) {
	plan = plan.withDefaults()
	next := make([]int, len(subjects)) // the i each subject continues from
	sizes := make([]int, len(subjects))
	for k, s := range subjects {
		n, err := calibrate(plan, s, &next[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
		sizes[k] = n
	}
	ns := make([][]float64, len(subjects))
	allocs := make([][]float64, len(subjects))
	for r := range plan.Rounds {
		for _, k := range RoundOrder(len(subjects), r) {
			d, a, err := timeOps(plan.Parallel, subjects[k].Op, next[k], sizes[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", subjects[k].Name, err)
			}
			next[k] += sizes[k]
			ns[k] = append(ns[k], float64(d)/float64(sizes[k]))
			allocs[k] = append(allocs[k], a/float64(sizes[k]))
		}
	}
	out := make([]Measured, len(subjects))
	for k, s := range subjects {
		units := float64(max(s.Units, 1))
		out[k] = Measured{Subject: s.Name, Ours: s.Ours, NsPerOp: Median(ns[k]) / units, AllocsPerOp: Median(allocs[k]) / units}
	}
	return out, nil
}

// calibrate grows a batch until it takes a tenth of a round, then returns
// the operation count that fills a round.
func calibrate(plan Plan, s Subject, next *int) (int, error) {
	n := plan.Parallel
	for {
		d, _, err := timeOps(plan.Parallel, s.Op, *next, n)
		if err != nil {
			return 0, err
		}
		*next += n
		if d >= plan.RoundTime/10 || (plan.MaxOps > 0 && n >= plan.MaxOps) {
			per := float64(d) / float64(n)
			size := int(float64(plan.RoundTime) / max(per, 1))
			size = max(size, plan.Parallel)
			if plan.MaxOps > 0 {
				size = min(size, plan.MaxOps)
			}
			return size, nil
		}
		n *= 4
		if plan.MaxOps > 0 {
			n = min(n, plan.MaxOps)
		}
	}
}

// timeOps runs ops n operations starting at index first, split across
// workers goroutines, and returns the wall time and the heap allocations
// made meanwhile (by the whole process).
func timeOps(workers int, op func(int) error, first, n int) (time.Duration, float64, error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	var err error
	if workers <= 1 {
		for i := first; i < first+n; i++ {
			if err = op(i); err != nil {
				break
			}
		}
	} else {
		err = parallel(workers, op, first, n)
	}
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	return d, float64(after.Mallocs - before.Mallocs), err
}

func parallel(workers int, op func(int) error, first, n int) error {
	var (
		wg    sync.WaitGroup
		taken atomic.Int64
		mu    sync.Mutex
		errs  []error
		stop  atomic.Bool
	)
	const chunk = 64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				lo := int(taken.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+chunk, n); i++ {
					if err := op(first + i); err != nil {
						stop.Store(true)
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

//go:build linux

package l1bench

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// threadCPU is the calling thread's CPU time, from
// clock_gettime(CLOCK_THREAD_CPUTIME_ID), which counts in nanoseconds
// (getrusage's per-thread times move in scheduler ticks).
func threadCPU() time.Duration {
	const clockThreadCPUTime = 3
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// burst runs n operations of op on workers goroutines, each locked to its
// thread and walking its own part of the trace from first, and returns
// the wall time and the CPU time the workers' threads used.
func burst(workers int, op func(i int), first, n int) (wall, cpu time.Duration) {
	if workers <= 1 {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		c0, t0 := threadCPU(), time.Now()
		for i := first; i < first+n; i++ {
			op(i)
		}
		return time.Since(t0), threadCPU() - c0
	}
	var (
		ready, done sync.WaitGroup
		start       = make(chan struct{})
		mu          sync.Mutex
	)
	per := n / workers
	for w := range workers {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			from := first + w*(Stream/workers)
			ready.Done()
			<-start
			c0 := threadCPU()
			for i := from; i < from+per; i++ {
				op(i)
			}
			d := threadCPU() - c0
			mu.Lock()
			cpu += d
			mu.Unlock()
		}()
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	done.Wait()
	return time.Since(t0), cpu
}

// sameRunCase is one row group of the issue-13 table.
type sameRunCase struct {
	name     string
	parallel bool
	trace    func(Cache, *Workload) []string
	op       func(c Cache, trace []string, w *Workload, i int)
}

func sameRunCases() []sameRunCase {
	const mask = Stream - 1
	get := func(c Cache, t []string, _ *Workload, i int) { c.Get(t[i&mask]) }
	mix := func(c Cache, t []string, w *Workload, i int) {
		j := i & mask
		if w.Write[j] {
			c.Set(t[j], ValueOf(j))
		} else {
			c.Get(t[j])
		}
	}
	set := func(c Cache, t []string, _ *Workload, i int) { c.Set(t[i&mask], ValueOf(i)) }
	return []sameRunCase{
		{"Get hit, 1 goroutine", false, resident, get},
		{"Get hit, parallel", true, resident, get},
		{"90/10, parallel", true, everything, mix},
		{"Set, parallel", true, everything, set},
	}
}

// TestSameRun measures l1mem (LRU, TinyLFU) and otter on the l1bench
// workload with the subjects interleaved in short bursts, so that they
// share whatever load the machine has, and prints per case the median
// wall ns/op, the median CPU ns/op (the worker threads' CPU time, summed
// over the goroutines) and the median of the per-round ratios to otter
// with their interquartile range. L1BENCH_ROUNDS (default 21) and
// L1BENCH_BURST_MS (default 40) size the run; L1BENCH_ONLY keeps the
// cases whose name contains it.
//
//	L1BENCH_REPORT=1 go test -count=1 -run SameRun -v ./l1bench
func TestSameRun(t *testing.T) {
	needReport(t)
	rounds := envInt("L1BENCH_ROUNDS", 21)
	burstTime := time.Duration(envInt("L1BENCH_BURST_MS", 40)) * time.Millisecond
	names := []string{"l1mem-lru", "l1mem-tinylfu", "otter"}
	var makers []Maker
	for _, n := range names {
		for _, m := range Makers {
			if m.Name == n {
				makers = append(makers, m)
			}
		}
	}
	w := Load()
	workers := runtime.GOMAXPROCS(0)
	var load0 [3]float64
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Sscan(string(data), &load0[0], &load0[1], &load0[2])
	}
	fmt.Printf("same run: %d rounds of %v bursts, GOMAXPROCS %d, load average %.1f\n\n", rounds, burstTime, workers, load0[0])
	fmt.Printf("| case | cache | ns/op | vs otter (IQR) | CPU ns/op | vs otter (IQR) |\n|---|---|---|---|---|---|\n")
	only := os.Getenv("L1BENCH_ONLY")
	for _, tc := range sameRunCases() {
		if only != "" && !strings.Contains(tc.name, only) {
			continue
		}
		nw := 1
		if tc.parallel {
			nw = workers
		}
		caches := make([]Cache, len(makers))
		ops := make([]func(int), len(makers))
		for k, m := range makers {
			c := m.New(Capacity, 0)
			w.FillCache(c)
			tr := tc.trace(c, w)
			caches[k] = c
			ops[k] = func(i int) { tc.op(c, tr, w, i) }
		}
		// Finish the garbage collection the preparation started, so no
		// mark phase runs during the bursts.
		runtime.GC()
		// Calibrate: operations per burst, and a warm-up.
		sizes := make([]int, len(makers))
		for k := range makers {
			n := 1 << 12
			for {
				d, _ := burst(nw, ops[k], 0, n)
				if d >= burstTime/4 || n >= 1<<24 {
					sizes[k] = max(nw, int(float64(n)*float64(burstTime)/float64(max(d, 1))))
					break
				}
				n *= 4
			}
		}
		ns := make([][]float64, len(makers))
		cpu := make([][]float64, len(makers))
		next := 0
		for r := range rounds {
			for j := range makers {
				k := (j + r) % len(makers)
				d, c := burst(nw, ops[k], next, sizes[k])
				ns[k] = append(ns[k], float64(d)/float64(sizes[k]))
				cpu[k] = append(cpu[k], float64(c)/float64(sizes[k]))
			}
			next += 7919 * 13
		}
		ref := len(makers) - 1 // otter
		for k, m := range makers {
			rn, rc := ratios(ns[k], ns[ref]), ratios(cpu[k], cpu[ref])
			fmt.Printf("| %s | %s | %.0f | %s | %.0f | %s |\n", tc.name, m.Name, median(ns[k]), spread(rn), median(cpu[k]), spread(rc))
		}
		for _, c := range caches {
			c.Close()
		}
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("\nload average at the end: %s", data)
	}
}

func ratios(a, b []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] / b[i]
	}
	return out
}

func quantile(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1)+0.5)]
}

func median(xs []float64) float64 { return quantile(xs, 0.5) }

func spread(xs []float64) string {
	return fmt.Sprintf("%.2f× (%.2f–%.2f)", median(xs), quantile(xs, 0.25), quantile(xs, 0.75))
}

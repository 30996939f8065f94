package l1bench

import (
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time. The benchmarks report it
// per operation (cpu-ns/op) beside wall time: on a shared machine it is
// far less disturbed by other processes than ns/op.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measured runs body as the timed part of b and reports cpu-ns/op.
func measured(b *testing.B, body func()) {
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	body()
	b.StopTimer()
	if b.N > 0 {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	}
}

var start atomic.Uint64

// offset spreads parallel workers over a trace.
func offset() int { return int(start.Add(7919) * 104729 % Stream) }

// forEach runs one sub-benchmark per cache. Each cache is built and
// filled once, on the first call of its sub-benchmark (so only for the
// caches -bench selects), and kept for the b.N ramp-up, which then
// measures the same full cache rather than refilling it. prep returns the
// trace the timed loop walks.
func forEach(b *testing.B, prep func(c Cache, w *Workload) []string, run func(b *testing.B, c Cache, trace []string, w *Workload)) {
	w := Load()
	for _, m := range Makers {
		var (
			c     Cache
			trace []string
		)
		b.Run(m.Name, func(b *testing.B) {
			if c == nil {
				c = m.New(Capacity, 0)
				w.FillCache(c)
				trace = prep(c, w)
			}
			run(b, c, trace, w)
		})
		if c != nil {
			c.Close()
		}
	}
}

// resident is the Get-hit trace: keys the filled cache still holds.
func resident(c Cache, w *Workload) []string {
	t, err := w.ResidentTrace(c)
	if err != nil {
		panic(err)
	}
	return t
}

// everything is the trace over all Keys keys, for the mixes with writes.
func everything(_ Cache, w *Workload) []string { return w.All }

func BenchmarkGetHitSingle(b *testing.B) {
	forEach(b, resident, func(b *testing.B, c Cache, trace []string, _ *Workload) {
		measured(b, func() {
			for i := range b.N {
				c.Get(trace[i&(Stream-1)])
			}
		})
	})
}

func BenchmarkGetHitParallel(b *testing.B) {
	forEach(b, resident, func(b *testing.B, c Cache, trace []string, _ *Workload) {
		measured(b, func() {
			b.RunParallel(func(pb *testing.PB) {
				i := offset()
				for pb.Next() {
					c.Get(trace[i&(Stream-1)])
					i++
				}
			})
		})
	})
}

func BenchmarkMix9010Parallel(b *testing.B) {
	forEach(b, everything, func(b *testing.B, c Cache, trace []string, w *Workload) {
		measured(b, func() {
			b.RunParallel(func(pb *testing.PB) {
				i := offset()
				for pb.Next() {
					j := i & (Stream - 1)
					if w.Write[j] {
						c.Set(trace[j], ValueOf(j))
					} else {
						c.Get(trace[j])
					}
					i++
				}
			})
		})
	})
}

func BenchmarkSetParallel(b *testing.B) {
	forEach(b, everything, func(b *testing.B, c Cache, trace []string, _ *Workload) {
		measured(b, func() {
			b.RunParallel(func(pb *testing.PB) {
				i := offset()
				for pb.Next() {
					j := i & (Stream - 1)
					c.Set(trace[j], ValueOf(j))
					i++
				}
			})
		})
	})
}

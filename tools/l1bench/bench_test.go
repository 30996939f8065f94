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

// offset spreads parallel workers over the stream.
func offset() int { return int(start.Add(7919) * 104729 % Stream) }

type waiter interface{ Wait() }

func prefillHot(b *testing.B, c Cache, w *Workload) {
	for pass := 0; pass < 3; pass++ {
		for i, k := range w.HotSet {
			c.Set(k, i)
		}
		if wt, ok := c.(waiter); ok {
			wt.Wait()
		}
	}
	for _, k := range w.HotSet {
		if _, ok := c.Get(k); !ok {
			c.Set(k, 1)
		}
	}
	if wt, ok := c.(waiter); ok {
		wt.Wait()
	}
}

func warm(c Cache, w *Workload) {
	for i, k := range w.All {
		c.Set(k, i)
	}
	if wt, ok := c.(waiter); ok {
		wt.Wait()
	}
}

func forEach(b *testing.B, run func(b *testing.B, c Cache, w *Workload)) {
	w := Load()
	for _, m := range Makers {
		b.Run(m.Name, func(b *testing.B) {
			c := m.New(Capacity, 0)
			defer c.Close()
			run(b, c, w)
		})
	}
}

func BenchmarkGetHitParallel(b *testing.B) {
	forEach(b, func(b *testing.B, c Cache, w *Workload) {
		prefillHot(b, c, w)
		measured(b, func() {
			b.RunParallel(func(pb *testing.PB) {
				i := offset()
				for pb.Next() {
					c.Get(w.Hits[i&(Stream-1)])
					i++
				}
			})
		})
	})
}

func BenchmarkGetHitSingle(b *testing.B) {
	forEach(b, func(b *testing.B, c Cache, w *Workload) {
		prefillHot(b, c, w)
		measured(b, func() {
			for i := range b.N {
				c.Get(w.Hits[i&(Stream-1)])
			}
		})
	})
}

func BenchmarkMix9010Parallel(b *testing.B) {
	forEach(b, func(b *testing.B, c Cache, w *Workload) {
		warm(c, w)
		measured(b, func() {
			b.RunParallel(func(pb *testing.PB) {
				i := offset()
				for pb.Next() {
					j := i & (Stream - 1)
					if w.Write[j] {
						c.Set(w.All[j], j)
					} else {
						c.Get(w.All[j])
					}
					i++
				}
			})
		})
	})
}

func BenchmarkSetParallel(b *testing.B) {
	forEach(b, func(b *testing.B, c Cache, w *Workload) {
		warm(c, w)
		measured(b, func() {
			b.RunParallel(func(pb *testing.PB) {
				i := offset()
				for pb.Next() {
					j := i & (Stream - 1)
					c.Set(w.All[j], j)
					i++
				}
			})
		})
	})
}

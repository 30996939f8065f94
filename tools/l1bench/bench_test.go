package l1bench

import (
	"sync/atomic"
	"testing"
)

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
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := offset()
			for pb.Next() {
				c.Get(w.Hits[i&(Stream-1)])
				i++
			}
		})
	})
}

func BenchmarkGetHitSingle(b *testing.B) {
	forEach(b, func(b *testing.B, c Cache, w *Workload) {
		prefillHot(b, c, w)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			c.Get(w.Hits[i&(Stream-1)])
			i++
		}
	})
}

func BenchmarkMix9010Parallel(b *testing.B) {
	forEach(b, func(b *testing.B, c Cache, w *Workload) {
		warm(c, w)
		b.ReportAllocs()
		b.ResetTimer()
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
}

func BenchmarkSetParallel(b *testing.B) {
	forEach(b, func(b *testing.B, c Cache, w *Workload) {
		warm(c, w)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := offset()
			for pb.Next() {
				j := i & (Stream - 1)
				c.Set(w.All[j], j)
				i++
			}
		})
	})
}

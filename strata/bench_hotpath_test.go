package strata_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l1mem"
	"github.com/AndrewDonelson/strata/strata"
)

// hotKeys is the working set of the hot-path benchmarks.
const hotKeys = 1024

// BenchmarkHotPath compares a GetTyped L1 hit with a raw l1mem Get of the
// same snapshots, single-goroutine and parallel, in one run, so the ratio
// does not depend on the machine's load at the time (issue 12's targets:
// ≤ 1.3× single, ≤ 1.5× parallel, 0 allocs).
func BenchmarkHotPath(b *testing.B) {
	ctx := context.Background()
	ids := make([]string, hotKeys)
	for i := range ids {
		ids[i] = fmt.Sprintf("f%d", i)
	}
	ds := newMemStore(b, strata.Config{})
	raw, err := l1mem.New(&l1mem.Options[string, any]{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	for _, id := range ids {
		v := &Flat{ID: id, Name: "x", Score: 3, At: time.Now()}
		if err := ds.Set(ctx, "flat", id, v); err != nil {
			b.Fatal(err)
		}
		raw.Set(id, v)
	}
	var sink Flat
	rawGet := func(id string) {
		v, ok := raw.Get(id)
		if !ok {
			b.Fatal("raw miss")
		}
		sink = *v.(*Flat)
	}
	typedGet := func(id string) {
		v, err := strata.GetTyped[Flat](ctx, ds, "flat", id)
		if err != nil {
			b.Fatal(err)
		}
		sink = v
	}
	for _, c := range []struct {
		name string
		get  func(string)
	}{{"raw", rawGet}, {"GetTyped", typedGet}} {
		b.Run("single/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.get(ids[i&(hotKeys-1)])
				i++
			}
		})
		b.Run("parallel/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					c.get(ids[i&(hotKeys-1)])
					i++
				}
			})
		})
	}
	_ = sink
}

// BenchmarkHotPathRatio times GetTyped L1 hits and raw l1mem Gets in
// alternating chunks of 256 calls and reports their ratio (x-raw), so that
// the load of a shared machine, which changes over seconds, weighs on both
// sides alike. ns/op is the time of one pair.
func BenchmarkHotPathRatio(b *testing.B) {
	ctx := context.Background()
	ids := make([]string, hotKeys)
	for i := range ids {
		ids[i] = fmt.Sprintf("f%d", i)
	}
	ds := newMemStore(b, strata.Config{})
	raw, err := l1mem.New(&l1mem.Options[string, any]{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	for _, id := range ids {
		v := &Flat{ID: id, Name: "x", Score: 3, At: time.Now()}
		if err := ds.Set(ctx, "flat", id, v); err != nil {
			b.Fatal(err)
		}
		raw.Set(id, v)
	}
	const chunk = 256
	run := func(pb func() bool, add func(rawNs, typedNs int64)) {
		var sink Flat
		i := 0
		for pb() {
			t0 := time.Now()
			for j := 0; j < chunk; j++ {
				v, ok := raw.Get(ids[(i+j)&(hotKeys-1)])
				if !ok {
					panic("raw miss")
				}
				sink = *v.(*Flat)
			}
			t1 := time.Now()
			for j := 0; j < chunk; j++ {
				v, err := strata.GetTyped[Flat](ctx, ds, "flat", ids[(i+j)&(hotKeys-1)])
				if err != nil {
					panic(err)
				}
				sink = v
			}
			t2 := time.Now()
			add(t1.Sub(t0).Nanoseconds(), t2.Sub(t1).Nanoseconds())
			i += chunk
		}
		_ = sink
	}
	report := func(b *testing.B, rawNs, typedNs int64) {
		b.ReportMetric(float64(typedNs)/float64(rawNs), "x-raw")
	}
	b.Run("single", func(b *testing.B) {
		b.ReportAllocs()
		var r, ty int64
		n := 0
		run(func() bool { n++; return n <= (b.N+chunk-1)/chunk }, func(a, c int64) { r += a; ty += c })
		report(b, r, ty)
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var mu sync.Mutex
		var r, ty int64
		b.RunParallel(func(pb *testing.PB) {
			var lr, lt int64
			run(func() bool {
				for k := 0; k < chunk; k++ {
					if !pb.Next() {
						return false
					}
				}
				return true
			}, func(a, c int64) { lr += a; lt += c })
			mu.Lock()
			r, ty = r+lr, ty+lt
			mu.Unlock()
		})
		report(b, r, ty)
	})
}

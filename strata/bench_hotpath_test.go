package strata_test

import (
	"context"
	"fmt"
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

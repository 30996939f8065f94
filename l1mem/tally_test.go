package l1mem_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/AndrewDonelson/strata/l1mem"
)

// TestTallyCountsExactlyTheTalliedHits: Tally counts GetTallied's hits and
// nothing else — not its misses, not Get's hits — exactly, across many
// goroutines and across the folds of the per-slot counts (thousands of
// reads per slot), and every tallied hit is also a hit in Stats.
func TestTallyCountsExactlyTheTalliedHits(t *testing.T) {
	t.Parallel()
	c, err := l1mem.New(&l1mem.Options[string, int]{Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 64 {
		c.Set(fmt.Sprint(i), i)
	}
	const goroutines, reads = 8, 6000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range reads {
				k := fmt.Sprint((g + i) % 64)
				if v, ok := c.GetTallied(k); !ok || fmt.Sprint(v) != k {
					t.Errorf("GetTallied(%q) = %d, %v", k, v, ok)
					return
				}
				if _, ok := c.Get(k); !ok {
					t.Errorf("Get(%q) missed", k)
					return
				}
				if _, ok := c.GetTallied("absent"); ok {
					t.Error("GetTallied found an absent key")
					return
				}
			}
		}()
	}
	wg.Wait()
	st := c.Stats()
	got := []uint64{c.Tally(), st.Hits, st.Misses}
	want := []uint64{goroutines * reads, 2 * goroutines * reads, goroutines * reads}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("tally, hits, misses = %v, want %v", got, want)
	}
}

// A data store that must count the reads it serves from the cache reads
// them with GetTallied and sums Tally, rather than adding to a counter of
// its own on every hit.
func ExampleCache_GetTallied() {
	c, _ := l1mem.New(&l1mem.Options[string, string]{})
	defer c.Close()
	c.Set("user-7", "Ada")
	c.GetTallied("user-7")
	c.GetTallied("user-8") // a miss: not tallied
	c.Get("user-7")        // a hit, but not tallied
	fmt.Println(c.Tally(), c.Stats().Hits)
	// Output:
	// 1 2
}

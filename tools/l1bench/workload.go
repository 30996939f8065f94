package l1bench

import (
	"math/rand/v2"
	"strconv"
	"sync"
)

// The benchmark workload: a Zipf (s=1.01) stream over 1M keys against a
// cache of 100k entries.
const (
	Keys     = 1_000_000
	Capacity = 100_000
	Stream   = 1 << 20
	HotKeys  = 50_000 // ranks used for the Get-hit stream: all of them fit
)

// Workload holds precomputed key streams so the benchmarks measure the
// caches, not the generator.
type Workload struct {
	All    []string // Zipf stream over Keys ranks
	Hits   []string // Zipf stream restricted to the top HotKeys ranks
	HotSet []string // the top HotKeys keys
	Write  []bool   // 10% true: the writes of the 90/10 mix
}

var (
	wlOnce sync.Once
	wl     Workload
)

// Key names rank k.
func Key(k uint64) string { return "key:" + strconv.FormatUint(k, 10) }

// Zipf returns a generator of Zipf(s=1.01) ranks in [0, n).
func Zipf(seed uint64, n uint64) *rand.Zipf {
	return rand.NewZipf(rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), 1.01, 1, n-1)
}

// Load returns the shared workload, building it on first use.
func Load() *Workload {
	wlOnce.Do(func() {
		z := Zipf(1, Keys)
		r := rand.New(rand.NewPCG(3, 4))
		wl.All = make([]string, Stream)
		wl.Write = make([]bool, Stream)
		for i := range wl.All {
			wl.All[i] = Key(z.Uint64())
			wl.Write[i] = r.IntN(10) == 0
		}
		wl.Hits = make([]string, 0, Stream)
		for len(wl.Hits) < Stream {
			if k := z.Uint64(); k < HotKeys {
				wl.Hits = append(wl.Hits, Key(k))
			}
		}
		for k := range uint64(HotKeys) {
			wl.HotSet = append(wl.HotSet, Key(k))
		}
	})
	return &wl
}

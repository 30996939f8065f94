package l1bench

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
)

// The benchmark workload: a full, bounded cache of about 100,000 entries
// (l1mem: 256 shards of MaxEntries 390) filled with the FillKeys hottest
// keys of a Zipf(1.01) distribution over Keys string keys.
//
//   - Get hit: each goroutine walks a pre-generated Zipf trace of the keys
//     still resident after the fill (checked with Has, per cache).
//   - 90/10 and Set: each goroutine walks a Zipf trace over all Keys keys,
//     so writes replace resident entries and insert new ones that evict.
const (
	Keys     = 1_000_000
	Capacity = 100_000
	FillKeys = 100_000
	Stream   = 1 << 20 // length of every trace; a power of two
)

// Value is the small struct every compared cache stores.
type Value struct {
	ID      int64
	Version int32
	Flags   uint32
}

// ValueOf is the value stored for trace position or rank i.
func ValueOf(i int) Value {
	return Value{ID: int64(i), Version: int32(i & 0xffff), Flags: uint32(i) & 7}
}

// Workload holds precomputed key traces so the benchmarks measure the
// caches, not the generator. Trace strings are allocated apart from the
// strings stored by Fill, as a request's key would be.
type Workload struct {
	All   []string // Zipf trace over Keys ranks (90/10, Set, hit ratio)
	Hot   []string // Zipf trace over Keys ranks, keeping only draws below FillKeys
	Fill  []string // the FillKeys hottest keys, coldest first
	Write []bool   // 10% true: the writes of the 90/10 mix
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
		// Some Hot draws may not be resident after the fill; a little
		// extra keeps ResidentTrace from cycling.
		hz := Zipf(5, Keys)
		wl.Hot = make([]string, 0, Stream+Stream/8)
		for len(wl.Hot) < cap(wl.Hot) {
			if k := hz.Uint64(); k < FillKeys {
				wl.Hot = append(wl.Hot, Key(k))
			}
		}
		wl.Fill = make([]string, 0, FillKeys)
		for k := uint64(FillKeys); k > 0; k-- {
			wl.Fill = append(wl.Fill, Key(k-1))
		}
	})
	return &wl
}

// FillCache stores the FillKeys hottest keys in c, coldest first, so that
// where the cache is a little smaller than FillKeys the coldest give way.
func (w *Workload) FillCache(c Cache) {
	for i, k := range w.Fill {
		c.Set(k, ValueOf(len(w.Fill)-1-i))
	}
	if wt, ok := c.(waiter); ok {
		wt.Wait()
	}
}

// ResidentTrace returns the Get-hit trace for c: the Hot trace without
// the keys c does not hold (checked with Has, which does not count as a
// use), Stream entries long.
func (w *Workload) ResidentTrace(c Cache) ([]string, error) {
	out := make([]string, 0, Stream)
	resident := make(map[string]bool, FillKeys)
	for len(out) < Stream {
		before := len(out)
		for _, k := range w.Hot {
			ok, seen := resident[k]
			if !seen {
				ok = c.Has(k)
				resident[k] = ok
			}
			if ok {
				out = append(out, k)
				if len(out) == Stream {
					break
				}
			}
		}
		if len(out) == before {
			return nil, fmt.Errorf("none of the %d hottest keys is resident after the fill", FillKeys)
		}
	}
	return out, nil
}

type waiter interface{ Wait() }

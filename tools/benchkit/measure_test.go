package benchkit_test

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/tools/benchkit"
)

func TestRoundOrder(t *testing.T) {
	t.Parallel()
	if got := benchkit.RoundOrder(3, 0); !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("round 0 = %v", got)
	}
	if got := benchkit.RoundOrder(3, 1); !slices.Equal(got, []int{2, 1, 0}) {
		t.Errorf("round 1 = %v", got)
	}
}

func TestRunInterleavesAndComputesMedians(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var trace []string
	last := ""
	record := func(name string) {
		mu.Lock()
		if name != last {
			trace = append(trace, name)
			last = name
		}
		mu.Unlock()
	}
	spin := func(d time.Duration) {
		for start := time.Now(); time.Since(start) < d; {
		}
	}
	subjects := []benchkit.Subject{
		{Name: "fast", Ours: true, Op: func(int) error { record("fast"); spin(2 * time.Microsecond); return nil }},
		{Name: "slow", Op: func(int) error { record("slow"); spin(20 * time.Microsecond); return nil }},
	}
	ms, err := benchkit.Run(benchkit.Plan{Rounds: 3, RoundTime: 10 * time.Millisecond}, subjects)
	if err != nil {
		t.Fatal(err)
	}
	if ms[0].Subject != "fast" || !ms[0].Ours || ms[1].Subject != "slow" {
		t.Fatalf("measured = %+v", ms)
	}
	if ms[0].NsPerOp >= ms[1].NsPerOp {
		t.Errorf("fast %.0fns/op is not below slow %.0fns/op", ms[0].NsPerOp, ms[1].NsPerOp)
	}
	// Calibration (fast, slow), then rounds fast slow | slow fast | fast slow.
	want := []string{"fast", "slow", "fast", "slow", "fast", "slow"}
	if !slices.Equal(trace, want) {
		t.Errorf("run order = %v, want %v", trace, want)
	}
}

func TestRunParallelCoversEveryIndexOnce(t *testing.T) {
	t.Parallel()
	var seen sync.Map
	var dup atomic.Bool
	s := benchkit.Subject{Name: "p", Op: func(i int) error {
		if _, loaded := seen.LoadOrStore(i, true); loaded {
			dup.Store(true)
		}
		return nil
	}}
	if _, err := benchkit.Run(benchkit.Plan{Rounds: 2, RoundTime: 2 * time.Millisecond, Parallel: 4, MaxOps: 5000}, []benchkit.Subject{s}); err != nil {
		t.Fatal(err)
	}
	if dup.Load() {
		t.Error("an operation index was used twice")
	}
}

func TestRunStopsOnError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	s := benchkit.Subject{Name: "bad", Op: func(i int) error {
		if i >= 1 { // Run calls Op at least twice (calibration, then a round), however slow the machine
			return boom
		}
		return nil
	}}
	_, err := benchkit.Run(benchkit.Plan{Rounds: 1, RoundTime: time.Millisecond}, []benchkit.Subject{s})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
}

// TestRunDividesByUnits: a subject of Units n reports the time per unit.
// Two subjects run the same 100 µs operation, one as 1 unit and one as
// 100, interleaved round by round, so their ratio is 100 however slow the
// machine is; an absolute bound on the time failed under load (a single
// descheduled call on a loaded two-core machine measured "ns/op = 33280").
// Rounds of 100 ms average many calls, so one descheduled call does not
// decide a round (at 20 ms the ratio came out 14.3 at load 17), and the
// ratio may be off by 10 either way (at load 22 it came out 478): a Run
// that did not divide would give 1, one that divided twice 10,000.
func TestRunDividesByUnits(t *testing.T) {
	t.Parallel()
	spin := func(d time.Duration) {
		for start := time.Now(); time.Since(start) < d; {
		}
	}
	op := func(int) error { spin(100 * time.Microsecond); return nil }
	ms, err := benchkit.Run(benchkit.Plan{Rounds: 5, RoundTime: 100 * time.Millisecond}, []benchkit.Subject{
		{Name: "one", Units: 1, Op: op},
		{Name: "batch", Units: 100, Op: op},
	})
	if err != nil {
		t.Fatal(err)
	}
	one, batch := ms[0].NsPerOp, ms[1].NsPerOp
	if batch < 900 {
		t.Errorf("batch: ns/op = %.0f, below the 1000 of 100 µs per call of 100 units", batch)
	}
	if r := one / batch; r < 10 || r > 1000 {
		t.Errorf("ns/op of 1 unit per call %.0f, of 100 units per call %.0f: ratio %.1f, want about 100", one, batch, r)
	}
}

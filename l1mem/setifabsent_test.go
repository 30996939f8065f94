package l1mem_test

import (
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l1mem"
)

func TestSetIfAbsent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		prepare    func(c *l1mem.Cache[string, int], clk *fakeClock)
		wantActual int
		wantStored bool
	}{
		{"absent key is stored", func(*l1mem.Cache[string, int], *fakeClock) {}, 2, true},
		{"present key is kept", func(c *l1mem.Cache[string, int], _ *fakeClock) { c.Set("k", 1) }, 1, false},
		{"expired key is replaced", func(c *l1mem.Cache[string, int], clk *fakeClock) {
			_ = c.SetWithTTL("k", 1, time.Second)
			clk.Advance(time.Second)
		}, 2, true},
		{"deleted key is stored", func(c *l1mem.Cache[string, int], _ *fakeClock) {
			c.Set("k", 1)
			c.Delete("k")
		}, 2, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newFakeClock()
			c := mustNew(t, &l1mem.Options[string, int]{Clock: clk, DisableSweep: true})
			tc.prepare(c, clk)
			epoch := c.Epoch("k")
			actual, stored := c.SetIfAbsent("k", 2)
			if actual != tc.wantActual || stored != tc.wantStored {
				t.Fatalf("SetIfAbsent = %d, %v; want %d, %v", actual, stored, tc.wantActual, tc.wantStored)
			}
			if v, ok := c.Get("k"); !ok || v != tc.wantActual {
				t.Errorf("Get after = %d, %v; want %d", v, ok, tc.wantActual)
			}
			// Storing is a write for the fill guard; keeping is not.
			if filled := c.SetIfEpoch("k", 3, epoch); filled == tc.wantStored {
				t.Errorf("a fill guarded by the epoch taken before SetIfAbsent stored=%v; want %v", filled, !tc.wantStored)
			}
		})
	}
}

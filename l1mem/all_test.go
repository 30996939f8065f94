package l1mem_test

import (
	"maps"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l1mem"
)

func TestAll(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		stop  int // break after this many entries; 0 = never
		want  map[int]int
		count int
	}{
		{"every unexpired entry", 0, map[int]int{1: 10, 2: 20, 3: 30}, 3},
		{"break stops the loop", 2, nil, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newFakeClock()
			c := mustNew(t, &l1mem.Options[int, int]{Shards: 4, Clock: clk, DisableSweep: true})
			for k := 1; k <= 3; k++ {
				c.Set(k, 10*k)
			}
			_ = c.SetWithTTL(4, 40, time.Second)
			clk.Advance(time.Second) // 4 has expired
			got := map[int]int{}
			for k, v := range c.All() {
				got[k] = v
				if w, ok := c.Get(k); !ok || w != v { // the body may use the cache
					t.Errorf("Get(%d) inside the loop = %d, %v", k, w, ok)
				}
				c.Set(k, v+1)
				if len(got) == tc.stop {
					break
				}
			}
			if len(got) != tc.count {
				t.Fatalf("visited %d entries (%v), want %d", len(got), got, tc.count)
			}
			if tc.want != nil && !maps.Equal(got, tc.want) {
				t.Errorf("All yielded %v, want %v", got, tc.want)
			}
		})
	}
}

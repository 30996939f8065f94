package l1mem

import (
	"slices"
	"testing"

	"github.com/AndrewDonelson/strata/l1mem/internal/ilist"
)

// lruOrder lists p's slots from the head (most recent) to the tail.
func lruOrder(p *lru) []int32 {
	var out []int32
	for i := p.q.Head; i != ilist.Nil; i = p.nodes[i].Next {
		out = append(out, i)
	}
	return out
}

// TestLRUHitWithinSkipWindowLeavesQueue: a hit on an entry that moved to
// the head fewer than skip queue updates ago changes nothing (it is among
// the newest skip entries anyway), so a drain writes no queue node for
// it; a hit on an older entry moves it to the head as before, and with
// skip 0 every hit does.
func TestLRUHitWithinSkipWindowLeavesQueue(t *testing.T) {
	cases := []struct {
		name string
		skip uint32
		hits []int32
		want []int32 // head first
	}{
		// Inserted 0..7: 7 is the newest, 0 the oldest.
		{"entry moved two updates ago stays put", 4, []int32{5, 6, 5}, []int32{6, 5, 7, 4, 3, 2, 1, 0}},
		{"first hit of an entry moves it", 4, []int32{3}, []int32{3, 7, 6, 5, 4, 2, 1, 0}},
		{"moved entry is recent again", 4, []int32{2, 3, 2}, []int32{3, 2, 7, 6, 5, 4, 1, 0}},
		{"window passes after enough updates", 2, []int32{1, 0, 2, 1}, []int32{1, 2, 0, 7, 6, 5, 4, 3}},
		{"exact order with skip 0", 0, []int32{5, 6}, []int32{6, 5, 7, 4, 3, 2, 1, 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newLRU()
			p.skip = tc.skip
			p.grow(8)
			for i := range int32(8) {
				p.add(i, uint32(i))
			}
			for _, i := range tc.hits {
				p.hit(i)
			}
			if got := lruOrder(p); !slices.Equal(got, tc.want) {
				t.Errorf("order after hits %v = %v, want %v", tc.hits, got, tc.want)
			}
		})
	}
}

// TestLRUSkipFollowsShardWindow: a bounded LRU shard gives its queue the
// read-skip window (capacity/16), and SetExact turns it off.
func TestLRUSkipFollowsShardWindow(t *testing.T) {
	c, err := New(&Options[int, int]{Shards: 1, MaxEntries: 320, DisableSweep: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.shards[0].pol.(*lru).skip; got != 320/skipFraction {
		t.Errorf("queue skip = %d, want %d", got, 320/skipFraction)
	}
	c.SetExact()
	if got := c.shards[0].pol.(*lru).skip; got != 0 {
		t.Errorf("queue skip after SetExact = %d, want 0", got)
	}
}

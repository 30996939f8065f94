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

// TestLRUVictimGivesReadEntriesASecondChance: in clock mode the victim is
// the oldest entry not read since it last reached the tail; read entries
// met on the way move to the head with their mark cleared, in the order
// the sweep met them.
func TestLRUVictimGivesReadEntriesASecondChance(t *testing.T) {
	cases := []struct {
		name       string
		read       []int32 // marked before the eviction
		wantVictim int32
		wantOrder  []int32 // head first, after the eviction
		wantMarked []int32 // still marked afterwards
	}{
		// Inserted 0..7: 7 is the newest, 0 the oldest.
		{"no reads: the oldest goes", nil, 0, []int32{7, 6, 5, 4, 3, 2, 1}, nil},
		{"read tail survives", []int32{0}, 1, []int32{0, 7, 6, 5, 4, 3, 2}, nil},
		{"read run at the tail survives", []int32{0, 1, 2}, 3, []int32{2, 1, 0, 7, 6, 5, 4}, nil},
		{"reads far from the tail keep their marks", []int32{6, 0}, 1, []int32{0, 7, 6, 5, 4, 3, 2}, []int32{6}},
		{"everything read: one full round", []int32{0, 1, 2, 3, 4, 5, 6, 7}, 0, []int32{7, 6, 5, 4, 3, 2, 1}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			marked := make([]bool, 8)
			p := newLRU()
			p.referenced = func(i int32) bool {
				m := marked[i]
				marked[i] = false
				return m
			}
			p.grow(8)
			for i := range int32(8) {
				p.add(i, uint32(i))
			}
			for _, i := range tc.read {
				marked[i] = true
			}
			if v := p.victim(); v != tc.wantVictim {
				t.Errorf("victim = %d, want %d", v, tc.wantVictim)
			}
			if got := lruOrder(p); !slices.Equal(got, tc.wantOrder) {
				t.Errorf("order after eviction = %v, want %v", got, tc.wantOrder)
			}
			var still []int32
			for i, m := range marked {
				if m {
					still = append(still, int32(i))
				}
			}
			if !slices.Equal(still, tc.wantMarked) {
				t.Errorf("still marked = %v, want %v", still, tc.wantMarked)
			}
		})
	}
}

// TestLRUGetWritesNothingButTheMark: a bounded LRU shard records a hit by
// setting the entry's mark, once: no read ring is written, the queue is
// not touched, and further hits of the same entry write nothing at all.
// (Recording reads in the rings cost 40 % of parallel LRU Gets on the
// l1bench workload a ring write, and each replayed hit up to five queue
// node writes that the other processor's drains fetched back.)
func TestLRUGetWritesNothingButTheMark(t *testing.T) {
	c, err := New(&Options[int, int]{Shards: 1, MaxEntries: 64, DisableSweep: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 64 {
		c.Set(i, i)
	}
	s := &c.shards[0]
	order := lruOrder(s.pol.(*lru))
	for range 100 {
		for i := range 64 {
			if _, ok := c.Get(i); !ok {
				t.Fatalf("Get(%d) missed", i)
			}
		}
	}
	for si := range s.lk.stripes {
		if h := s.lk.stripes[si].head.Load(); h != 0 {
			t.Errorf("read ring %d holds %d recorded reads, want none", si, h)
		}
	}
	if got := lruOrder(s.pol.(*lru)); !slices.Equal(got, order) {
		t.Errorf("reads reordered the queue: %v -> %v", order, got)
	}
	for i := range s.entries {
		if s.entries[i].mark&markRef == 0 {
			t.Errorf("slot %d: mark = %#x after reads, want markRef set", i, s.entries[i].mark)
		}
	}
	c.Set(64, 64) // the sweep clears every mark, then evicts the oldest
	if c.Has(0) || !c.Has(1) || !c.Has(63) || !c.Has(64) {
		t.Errorf("after a full round the oldest entry should go: Has(0)=%v Has(1)=%v", c.Has(0), c.Has(1))
	}
}

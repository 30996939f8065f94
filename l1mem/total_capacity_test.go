package l1mem_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/AndrewDonelson/strata/l1mem"
)

func TestMaxTotalEntries(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		shards     int
		total      int
		wantShards int
		wantCaps   []int // per shard, when short enough to list
	}{
		{"small cache gets fewer shards", 0, 1000, 8, []int{125, 125, 125, 125, 125, 125, 125, 125}},
		{"remainder goes to the first shards", 4, 10, 4, []int{3, 3, 2, 2}},
		{"fewer entries than 64 a shard: one shard", 0, 50, 1, []int{50}},
		{"large cache keeps 256 shards", 0, 256 * 64, 256, nil},
		{"explicit shards", 16, 1600, 16, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := mustNew(t, &l1mem.Options[int, int]{Shards: tc.shards, MaxTotalEntries: tc.total})
			for i := range 10 * tc.total {
				c.Set(i, i)
			}
			st := c.Stats()
			if len(st.ShardSizes) != tc.wantShards {
				t.Fatalf("%d shards, want %d", len(st.ShardSizes), tc.wantShards)
			}
			if st.Entries != tc.total {
				t.Errorf("holds %d entries after %d distinct Sets, want MaxTotalEntries %d", st.Entries, 10*tc.total, tc.total)
			}
			if tc.wantCaps != nil && !slices.Equal(st.ShardSizes, tc.wantCaps) {
				t.Errorf("shard sizes %v, want %v", st.ShardSizes, tc.wantCaps)
			}
		})
	}
}

func TestMaxTotalEntriesInvalid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts l1mem.Options[int, int]
		want string
	}{
		{"negative", l1mem.Options[int, int]{MaxTotalEntries: -1}, "negative MaxTotalEntries"},
		{"with MaxEntries", l1mem.Options[int, int]{MaxEntries: 10, MaxTotalEntries: 100}, "both set"},
		{"below Shards", l1mem.Options[int, int]{Shards: 16, MaxTotalEntries: 8}, "smaller than Shards"},
		{"over the per-shard limit", l1mem.Options[int, int]{Shards: 1, MaxTotalEntries: 1<<30 + 1}, "per shard"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := l1mem.New(&tc.opts)
			if !errors.Is(err, l1mem.ErrInvalidOptions) {
				t.Fatalf("err = %v, want ErrInvalidOptions", err)
			}
			if msg := fmt.Sprint(err); !strings.Contains(msg, tc.want) {
				t.Errorf("message %q does not say %q", msg, tc.want)
			}
		})
	}
}

package l1mem_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l1mem"
)

// TestRefreshIfEpochCreatesOnlyWhatNothingInvalidated: a writer that took
// the key's epoch before its write creates the entry of an absent key only
// if nothing invalidated the key since; otherwise it behaves as Refresh.
func TestRefreshIfEpochCreatesOnlyWhatNothingInvalidated(t *testing.T) {
	t.Parallel()
	type cache = l1mem.Cache[string, string]
	tests := []struct {
		name    string
		between func(c *cache) // after the writer's Epoch, before its refresh
		before  func(c *cache) // before the writer's Epoch
		version uint64
		stored  bool
		want    state
	}{
		{"absent, nothing in between: created", nil, nil, 5, true, state{"v5", 5, true}},
		{"absent, deleted in between: not created", func(c *cache) { c.Delete("k") }, nil, 5, false, state{}},
		{"absent, cleared in between: not created", func(c *cache) { c.Clear() }, nil, 5, false, state{}},
		{"absent, another writer's refresh in between: not created", func(c *cache) { c.Refresh("k", "v9", 9) }, nil, 5, false, state{}},
		{"absent, a newer writer created it in between: kept", func(c *cache) { c.RefreshIfEpoch("k", "v9", 9, c.Epoch("k")) }, nil, 5, false, state{"v9", 9, true}},
		{"absent, an older writer created it in between: replaced", func(c *cache) { c.RefreshIfEpoch("k", "v3", 3, c.Epoch("k")) }, nil, 5, true, state{"v5", 5, true}},
		{"deleted before the epoch: created", nil, func(c *cache) {
			c.SetIfEpochVersion("k", "v3", c.Epoch("k"), 3)
			c.Delete("k")
		}, 5, true, state{"v5", 5, true}},
		{"lower version: replaced", nil, func(c *cache) { c.SetIfEpochVersion("k", "v3", c.Epoch("k"), 3) }, 5, true, state{"v5", 5, true}},
		{"higher version: kept", nil, func(c *cache) { c.SetIfEpochVersion("k", "v7", c.Epoch("k"), 7) }, 5, false, state{"v7", 7, true}},
		{"unknown version: dropped", nil, func(c *cache) { c.Set("k", "v?") }, 5, false, state{}},
		{"version 0: never created", nil, nil, 0, false, state{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := mustNew(t, &l1mem.Options[string, string]{Shards: 1})
			if tt.before != nil {
				tt.before(c)
			}
			e := c.Epoch("k")
			if tt.between != nil {
				tt.between(c)
			}
			if got := c.RefreshIfEpoch("k", "v5", tt.version, e); got != tt.stored {
				t.Errorf("RefreshIfEpoch = %v, want %v", got, tt.stored)
			}
			if got := stateOf(c); got != tt.want {
				t.Errorf("after RefreshIfEpoch: %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestRefreshIfEpochReplacesAnExpiredEntryAndDropsARememberedMiss: an
// expired value counts as absent; a remembered miss is removed, as
// Refresh removes it, not replaced.
func TestRefreshIfEpochReplacesAnExpiredEntryAndDropsARememberedMiss(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	c := mustNew(t, &l1mem.Options[string, string]{Shards: 1, DefaultTTL: time.Minute, NegativeTTL: time.Minute, Clock: clk, DisableSweep: true})
	c.SetIfEpochVersion("k", "v9", c.Epoch("k"), 9)
	clk.Advance(2 * time.Minute)
	if !c.RefreshIfEpoch("k", "v5", 5, c.Epoch("k")) {
		t.Fatal("an expired entry was not replaced")
	}
	if got, want := stateOf(c), (state{"v5", 5, true}); got != want {
		t.Errorf("after replacing the expired entry: %+v, want %+v", got, want)
	}
	_, err := c.GetOrLoad(context.Background(), "gone", func(context.Context, string) (string, error) { return "", l1mem.ErrNotFound })
	if err == nil {
		t.Fatal("the loader's ErrNotFound was not returned")
	}
	if c.RefreshIfEpoch("gone", "v5", 5, c.Epoch("gone")) {
		t.Error("a remembered miss was replaced")
	}
	if _, ok := c.Version("gone"); ok {
		t.Error("the key holds a value after a refresh of a remembered miss")
	}
}

// TestRefreshIfEpochRacingDeleteNeverResurrects: writers create the entry
// while another goroutine deletes the key after each write "commits"; once
// every Delete that followed a commit has returned, the entry is either
// absent or holds a version written after the last Delete began.
func TestRefreshIfEpochRacingDeleteNeverResurrects(t *testing.T) {
	t.Parallel()
	c := mustNew(t, &l1mem.Options[string, string]{Shards: 1})
	for round := range 2000 {
		e := c.Epoch("k") // the writer, before its write
		var wg sync.WaitGroup
		wg.Add(2)
		committed := make(chan struct{})
		go func() { // the delete, which commits after the write
			defer wg.Done()
			<-committed
			c.Delete("k")
		}()
		go func() {
			defer wg.Done()
			close(committed)
			c.RefreshIfEpoch("k", "v", uint64(round+1), e)
		}()
		wg.Wait()
		if v, ok := c.Version("k"); ok {
			t.Fatalf("round %d: the write created version %d after the Delete that followed it", round, v)
		}
	}
}

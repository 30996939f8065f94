package l1mem_test

import (
	"context"
	"sync"
	"testing"

	"github.com/AndrewDonelson/strata/l1mem"
)

// state is what the cache holds for "k": the value and its version, or
// "absent".
type state struct {
	Val     string
	Version uint64
	Present bool
}

func stateOf(c *l1mem.Cache[string, string]) state {
	v, ok := c.Get("k")
	ver, _ := c.Version("k")
	return state{v, ver, ok}
}

func TestRefreshReplacesOnlyALowerKnownVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		before   func(c *l1mem.Cache[string, string])
		version  uint64
		replaced bool
		want     state
	}{
		{"absent: never created", func(*l1mem.Cache[string, string]) {}, 5, false, state{}},
		{"deleted: not brought back", func(c *l1mem.Cache[string, string]) {
			c.SetIfEpochVersion("k", "v3", c.Epoch("k"), 3)
			c.Delete("k")
		}, 5, false, state{}},
		{"lower version: replaced", func(c *l1mem.Cache[string, string]) { c.SetIfEpochVersion("k", "v3", c.Epoch("k"), 3) }, 5, true, state{"v5", 5, true}},
		{"same version: kept", func(c *l1mem.Cache[string, string]) { c.SetIfEpochVersion("k", "v5'", c.Epoch("k"), 5) }, 5, false, state{"v5'", 5, true}},
		{"higher version: kept", func(c *l1mem.Cache[string, string]) { c.SetIfEpochVersion("k", "v7", c.Epoch("k"), 7) }, 5, false, state{"v7", 7, true}},
		{"unknown version (plain Set): dropped", func(c *l1mem.Cache[string, string]) { c.Set("k", "v?") }, 5, false, state{}},
		{"versioned value overwritten by a plain Set: dropped", func(c *l1mem.Cache[string, string]) {
			c.SetIfEpochVersion("k", "v3", c.Epoch("k"), 3)
			c.Set("k", "v?")
		}, 5, false, state{}},
		{"version 0: dropped", func(c *l1mem.Cache[string, string]) { c.SetIfEpochVersion("k", "v3", c.Epoch("k"), 3) }, 0, false, state{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := mustNew(t, &l1mem.Options[string, string]{Shards: 1})
			tt.before(c)
			if got := c.Refresh("k", "v5", tt.version); got != tt.replaced {
				t.Errorf("Refresh = %v, want %v", got, tt.replaced)
			}
			if got := stateOf(c); got != tt.want {
				t.Errorf("after Refresh: %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestRefreshVoidsFillsThatBeganBefore: like Delete, a refresh advances
// the key's epoch, so a fill that read an older value before it does not
// land on top of it.
func TestRefreshVoidsFillsThatBeganBefore(t *testing.T) {
	t.Parallel()
	c := mustNew(t, &l1mem.Options[string, string]{Shards: 1})
	c.SetIfEpochVersion("k", "v3", c.Epoch("k"), 3)
	e := c.Epoch("k")
	c.Refresh("k", "v5", 5)
	if c.SetIfEpochVersion("k", "v4", e, 4) {
		t.Fatal("a fill that began before the refresh was stored")
	}
	if got, want := stateOf(c), (state{"v5", 5, true}); got != want {
		t.Errorf("%+v, want %+v", got, want)
	}
}

func TestGetOrLoadVersionedRecordsTheVersion(t *testing.T) {
	t.Parallel()
	c := mustNew(t, &l1mem.Options[string, string]{Shards: 1})
	v, err := c.GetOrLoadVersioned(context.Background(), "k", func(context.Context, string) (string, uint64, error) { return "v4", 4, nil })
	if err != nil || v != "v4" {
		t.Fatalf("GetOrLoadVersioned = %q, %v", v, err)
	}
	if got, want := stateOf(c), (state{"v4", 4, true}); got != want {
		t.Fatalf("after the load: %+v, want %+v", got, want)
	}
	if !c.Refresh("k", "v6", 6) {
		t.Fatal("a refresh of a loaded lower version was refused")
	}
	if _, err := c.GetOrLoadVersioned(context.Background(), "x", nil); err == nil {
		t.Error("a nil loader was accepted")
	}
}

// TestRefreshesInAnyOrderKeepTheNewest: concurrent refreshes of versions
// 1..n, in any order, leave the highest.
func TestRefreshesInAnyOrderKeepTheNewest(t *testing.T) {
	t.Parallel()
	c := mustNew(t, &l1mem.Options[string, string]{Shards: 4})
	c.SetIfEpochVersion("k", "v0", c.Epoch("k"), 1)
	var wg sync.WaitGroup
	for v := uint64(200); v >= 2; v-- {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Refresh("k", "newest?", v)
		}()
	}
	wg.Wait()
	if ver, ok := c.Version("k"); !ok || ver != 200 {
		t.Fatalf("version %d (present %v) after refreshes up to 200", ver, ok)
	}
}

// TestVersionsSurviveSlabGrowthAndReuse: versions stay with their entries
// as the slab grows, and a reused slot starts with an unknown version.
func TestVersionsSurviveSlabGrowthAndReuse(t *testing.T) {
	t.Parallel()
	c := mustNew(t, &l1mem.Options[string, string]{Shards: 1})
	keys := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"}
	for i, k := range keys {
		c.SetIfEpochVersion(k, k, c.Epoch(k), uint64(i+1))
	}
	for i, k := range keys {
		if v, _ := c.Version(k); v != uint64(i+1) {
			t.Errorf("%s: version %d, want %d", k, v, i+1)
		}
	}
	c.Delete("a")
	c.Set("z", "z") // reuses a's slot
	if v, ok := c.Version("z"); !ok || v != 0 {
		t.Errorf("a plain Set into a reused slot has version %d, want 0", v)
	}
	c.Clear()
	c.Set("a", "a")
	if v, _ := c.Version("a"); v != 0 {
		t.Errorf("after Clear, version %d, want 0", v)
	}
}

// DeleteBelow keeps a value of the change's version or a newer one and
// removes anything older, unknown or absent-marked; it always voids the
// fills begun before it.
func TestDeleteBelow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		held      uint64 // the entry's version; 0: a plain Set (unknown)
		change    uint64
		wantKept  bool
		wantValue int
	}{
		{"older entry", 3, 5, false, 0},
		{"same version", 5, 5, true, 1},
		{"newer entry", 7, 5, true, 1},
		{"unknown version", 0, 5, false, 0},
		{"change of unknown version", 7, 0, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := mustNew(t, &l1mem.Options[string, int]{Shards: 1})
			if tt.held == 0 {
				c.Set("k", 1)
			} else {
				c.SetIfEpochVersion("k", 1, c.Epoch("k"), tt.held)
			}
			before := c.Epoch("k")
			removed := c.DeleteBelow("k", tt.change)
			v, ok := c.Get("k")
			if ok != tt.wantKept || removed == tt.wantKept {
				t.Fatalf("DeleteBelow(%d) over version %d: removed %v, then Get = %v, %v; want kept %v", tt.change, tt.held, removed, v, ok, tt.wantKept)
			}
			if ok && v != tt.wantValue {
				t.Fatalf("kept value %d, want %d", v, tt.wantValue)
			}
			if c.SetIfEpoch("k", 9, before) {
				t.Fatal("a fill begun before DeleteBelow was stored")
			}
		})
	}
}

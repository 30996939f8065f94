package l1mem_test

import (
	"errors"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l1mem"
)

func TestSetIfEpoch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		between func(c *l1mem.Cache[string, int])
		want    bool
	}{
		{"nothing happened", func(*l1mem.Cache[string, int]) {}, true},
		{"key written", func(c *l1mem.Cache[string, int]) { c.Set("k", 9) }, false},
		{"key deleted while absent", func(c *l1mem.Cache[string, int]) { c.Delete("k") }, false},
		{"key written then deleted", func(c *l1mem.Cache[string, int]) { c.Set("k", 9); c.Delete("k") }, false},
		{"cache cleared", func(c *l1mem.Cache[string, int]) { c.Clear() }, false},
		{"another fill", func(c *l1mem.Cache[string, int]) { c.SetIfEpoch("k", 8, c.Epoch("k")) }, true},
		{"fills voided", func(c *l1mem.Cache[string, int]) { c.VoidFills("k") }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := mustNew(t, &l1mem.Options[string, int]{Shards: 1, MaxEntries: 1})
			e := c.Epoch("k")
			tt.between(c)
			if got := c.SetIfEpoch("k", 7, e); got != tt.want {
				t.Fatalf("SetIfEpoch = %v, want %v", got, tt.want)
			}
			if v, ok := c.Get("k"); tt.want && (!ok || v != 7) {
				t.Fatalf("after a successful fill Get = %v, %v", v, ok)
			}
		})
	}
}

// The epoch survives eviction: a fill whose epoch predates a write is
// refused even after the written entry was evicted.
func TestEpochSurvivesEviction(t *testing.T) {
	t.Parallel()
	c := mustNew(t, &l1mem.Options[int, int]{Shards: 1, MaxEntries: 1})
	e := c.Epoch(1)
	c.Set(1, 100) // the write a slow loader raced with
	c.Set(2, 2)   // evicts key 1
	if c.Has(1) {
		t.Fatal("key 1 should be evicted")
	}
	if c.SetIfEpoch(1, 50, e) {
		t.Fatal("stale fill accepted after the written entry was evicted")
	}
	// Eviction alone does not invalidate: a fresh epoch works.
	if !c.SetIfEpoch(1, 100, c.Epoch(1)) {
		t.Fatal("fresh fill refused")
	}
}

// Keys in other slots do not disturb a fill (almost always: keys share one
// of 64 slots per shard).
func TestEpochMostlyIndependentOfOtherKeys(t *testing.T) {
	t.Parallel()
	c := mustNew[int, int](t, &l1mem.Options[int, int]{Shards: 1})
	ok := 0
	for k := range 1000 {
		e := c.Epoch(k)
		c.Set(k+1_000_000, 1)
		if c.SetIfEpoch(k, k, e) {
			ok++
		}
	}
	if ok < 900 {
		t.Fatalf("only %d of 1000 fills survived one unrelated write each", ok)
	}
}

func TestSetIfEpochWithTTL(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	c := mustNew(t, &l1mem.Options[string, int]{Clock: clk, DisableSweep: true})
	if _, err := c.SetIfEpochWithTTL("k", 1, -time.Second, c.Epoch("k")); !errors.Is(err, l1mem.ErrInvalidTTL) {
		t.Fatalf("negative ttl: err = %v", err)
	}
	ok, err := c.SetIfEpochWithTTL("k", 1, time.Second, c.Epoch("k"))
	if !ok || err != nil {
		t.Fatalf("fresh fill = %v, %v", ok, err)
	}
	clk.Advance(time.Second)
	if c.Has("k") {
		t.Fatal("per-entry ttl of a fill ignored")
	}
	e := c.Epoch("k")
	c.Delete("k")
	if ok, _ := c.SetIfEpochWithTTL("k", 2, 0, e); ok {
		t.Fatal("stale fill accepted")
	}
}

// VoidFills refuses the fills begun before it and keeps the entry: a
// reader still gets what the key held, and a fill begun after it stores.
func TestVoidFillsKeepsTheEntry(t *testing.T) {
	t.Parallel()
	c := mustNew(t, &l1mem.Options[string, int]{Shards: 1})
	c.Set("k", 1)
	before := c.Epoch("k")
	c.VoidFills("k")
	if v, ok := c.Get("k"); !ok || v != 1 {
		t.Fatalf("Get after VoidFills = %v, %v; want the entry it held, 1", v, ok)
	}
	if c.SetIfEpoch("k", 2, before) {
		t.Fatal("a fill begun before VoidFills was stored")
	}
	if !c.SetIfEpoch("k", 3, c.Epoch("k")) {
		t.Fatal("a fill begun after VoidFills was refused")
	}
	if v, _ := c.Get("k"); v != 3 {
		t.Fatalf("Get = %v, want the later fill's 3", v)
	}
}

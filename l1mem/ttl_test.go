package l1mem_test

import (
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l1mem"
)

func TestTTL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		defaultTTL time.Duration
		set        func(c *l1mem.Cache[string, int])
		advance    time.Duration
		wantHit    bool
	}{
		{"no ttl never expires", 0, func(c *l1mem.Cache[string, int]) { c.Set("k", 1) }, 1000 * time.Hour, true},
		{"default ttl alive", time.Minute, func(c *l1mem.Cache[string, int]) { c.Set("k", 1) }, 59 * time.Second, true},
		{"default ttl expired", time.Minute, func(c *l1mem.Cache[string, int]) { c.Set("k", 1) }, time.Minute, false},
		{"per-entry ttl overrides default", time.Minute, func(c *l1mem.Cache[string, int]) { _ = c.SetWithTTL("k", 1, time.Hour) }, 2 * time.Minute, true},
		{"per-entry ttl expires", time.Hour, func(c *l1mem.Cache[string, int]) { _ = c.SetWithTTL("k", 1, time.Second) }, 2 * time.Second, false},
		{"zero per-entry ttl never expires", time.Second, func(c *l1mem.Cache[string, int]) { _ = c.SetWithTTL("k", 1, 0) }, time.Hour, true},
		{"overwrite renews ttl", time.Minute, func(c *l1mem.Cache[string, int]) {
			c.Set("k", 1)
			_ = c.SetWithTTL("k", 2, time.Hour)
		}, 2 * time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, p := range allPolicies {
				clk := newFakeClock()
				c := mustNew(t, &l1mem.Options[string, int]{
					MaxEntries: 10, Eviction: p, DefaultTTL: tt.defaultTTL, Clock: clk, DisableSweep: true,
				})
				tt.set(c)
				clk.Advance(tt.advance)
				_, hit := c.Get("k")
				if hit != tt.wantHit || c.Has("k") != tt.wantHit {
					t.Fatalf("%v: hit = %v, want %v", p, hit, tt.wantHit)
				}
				n := 0
				c.Range(func(string, int) bool { n++; return true })
				if (n == 1) != tt.wantHit {
					t.Fatalf("%v: Range saw %d entries", p, n)
				}
			}
		})
	}
}

func TestBackgroundSweepRemovesExpired(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	done := make(chan struct{}, 100)
	c := mustNew(t, &l1mem.Options[int, int]{
		DefaultTTL: time.Minute, SweepInterval: time.Millisecond, Clock: clk,
		OnEvict: func(int, int, l1mem.EvictReason) { done <- struct{}{} },
	})
	for i := range 10 {
		c.Set(i, i)
	}
	clk.Advance(time.Hour)
	deadline := time.After(10 * time.Second)
	for range 10 {
		select {
		case <-done:
		case <-deadline:
			t.Fatalf("sweep removed only part of the entries; Len = %d", c.Len())
		}
	}
	if c.Len() != 0 || c.Stats().Expirations != 10 {
		t.Fatalf("after sweep Len = %d, Stats = %+v", c.Len(), c.Stats())
	}
}

func TestCloseStopsSweep(t *testing.T) {
	t.Parallel()
	c, err := l1mem.New(&l1mem.Options[int, int]{SweepInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c.Set(1, 1)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if v, ok := c.Get(1); !ok || v != 1 {
		t.Fatal("cache unusable after Close")
	}
	// TestMain's goleak check fails the run if the sweep goroutine lives on.
}

// DeleteExpired works through a large shard in batches and removes exactly
// the expired entries.
func TestDeleteExpiredInBatches(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	c := mustNew(t, &l1mem.Options[int, int]{Shards: 1, Clock: clk, DisableSweep: true})
	for i := range 1000 {
		ttl := time.Duration(0)
		if i%3 == 0 {
			ttl = time.Second
		}
		if err := c.SetWithTTL(i, i, ttl); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Second)
	if n := c.DeleteExpired(); n != 334 {
		t.Fatalf("DeleteExpired = %d, want 334", n)
	}
	if c.Len() != 666 || c.Has(0) || !c.Has(1) {
		t.Fatalf("after sweep Len = %d", c.Len())
	}
}

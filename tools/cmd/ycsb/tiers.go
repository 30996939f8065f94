package main

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/AndrewDonelson/strata/strata/metrics"
)

// tierCounts counts where the Strata binding's reads were served, so the
// report can say why a workload costs what it does. L1 hits are not
// counted here (the L1 hit path calls Hit, and a shared counter there
// would cost what it measures): they are the reads that did not miss L1.
type tierCounts struct {
	l1Miss, l2Hit, l2Miss, l3Hit, l3Miss atomic.Int64
	leaseWaits, invalReceived, flushes   atomic.Int64
}

// tierSnapshot is tierCounts at one moment, and the difference of two.
type tierSnapshot struct {
	L1Miss        int64 `json:"l1_misses"`
	L2Hit         int64 `json:"l2_hits"`
	L2Miss        int64 `json:"l2_misses"`
	L3Hit         int64 `json:"l3_hits"`
	L3Miss        int64 `json:"l3_misses"`
	LeaseWaits    int64 `json:"lease_waits"`
	InvalReceived int64 `json:"invalidations_received"`
	Flushes       int64 `json:"l1_flushes"`
}

func (c *tierCounts) snapshot() tierSnapshot {
	return tierSnapshot{
		L1Miss: c.l1Miss.Load(), L2Hit: c.l2Hit.Load(), L2Miss: c.l2Miss.Load(),
		L3Hit: c.l3Hit.Load(), L3Miss: c.l3Miss.Load(), LeaseWaits: c.leaseWaits.Load(),
		InvalReceived: c.invalReceived.Load(), Flushes: c.flushes.Load(),
	}
}

func (s tierSnapshot) minus(o tierSnapshot) tierSnapshot {
	return tierSnapshot{
		L1Miss: s.L1Miss - o.L1Miss, L2Hit: s.L2Hit - o.L2Hit, L2Miss: s.L2Miss - o.L2Miss,
		L3Hit: s.L3Hit - o.L3Hit, L3Miss: s.L3Miss - o.L3Miss, LeaseWaits: s.LeaseWaits - o.LeaseWaits,
		InvalReceived: s.InvalReceived - o.InvalReceived, Flushes: s.Flushes - o.Flushes,
	}
}

func (s *tierSnapshot) add(o tierSnapshot) {
	s.L1Miss += o.L1Miss
	s.L2Hit += o.L2Hit
	s.L2Miss += o.L2Miss
	s.L3Hit += o.L3Hit
	s.L3Miss += o.L3Miss
	s.LeaseWaits += o.LeaseWaits
	s.InvalReceived += o.InvalReceived
	s.Flushes += o.Flushes
}

// line describes where reads reads were served.
func (s tierSnapshot) line(reads int64) string {
	pct := func(n int64) string {
		if reads == 0 {
			return "—"
		}
		return fmt.Sprintf("%.1f %%", 100*float64(n)/float64(reads))
	}
	parts := []string{
		"L1 hits " + pct(reads-s.L1Miss),
		"L2 hits " + pct(s.L2Hit),
		"PostgreSQL reads " + pct(s.L3Hit+s.L3Miss),
	}
	if s.LeaseWaits > 0 {
		parts = append(parts, fmt.Sprint("lease waits ", s.LeaseWaits))
	}
	if s.InvalReceived > 0 || s.Flushes > 0 {
		parts = append(parts, fmt.Sprintf("invalidations received %d, L1 flushes %d", s.InvalReceived, s.Flushes))
	}
	return strings.Join(parts, ", ")
}

// Hit implements metrics.MetricsRecorder (L1 hits are not counted, see
// tierCounts).
func (c *tierCounts) Hit(_, tier string) {
	switch tier {
	case metrics.TierL2:
		c.l2Hit.Add(1)
	case metrics.TierL3:
		c.l3Hit.Add(1)
	}
}

// Miss implements metrics.MetricsRecorder.
func (c *tierCounts) Miss(_, tier string) {
	switch tier {
	case metrics.TierL1:
		c.l1Miss.Add(1)
	case metrics.TierL2:
		c.l2Miss.Add(1)
	case metrics.TierL3:
		c.l3Miss.Add(1)
	}
}

func (c *tierCounts) Latency(string, string, string, time.Duration) {}
func (c *tierCounts) Error(string, string, string)                  {}

// LeaseWait implements metrics.LeaseRecorder.
func (c *tierCounts) LeaseWait(string, time.Duration, string) { c.leaseWaits.Add(1) }

// InvalidationSent implements metrics.InvalidationRecorder.
func (c *tierCounts) InvalidationSent(string, string, int) {}

// InvalidationReceived implements metrics.InvalidationRecorder.
func (c *tierCounts) InvalidationReceived(string, string, int) { c.invalReceived.Add(1) }

// ResubscribeFlush implements metrics.ResubscribeRecorder.
func (c *tierCounts) ResubscribeFlush(string, int) { c.flushes.Add(1) }

var (
	_ metrics.MetricsRecorder      = (*tierCounts)(nil)
	_ metrics.LeaseRecorder        = (*tierCounts)(nil)
	_ metrics.InvalidationRecorder = (*tierCounts)(nil)
	_ metrics.ResubscribeRecorder  = (*tierCounts)(nil)
)

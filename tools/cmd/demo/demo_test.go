package main

import (
	"strings"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/strata/metrics"
)

func TestThousands(t *testing.T) {
	t.Parallel()
	for in, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -12345: "-12,345"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestTierRecorderAttributesTheLastHit(t *testing.T) {
	t.Parallel()
	r := newTierRecorder("players")
	r.Miss("players", metrics.TierL1)
	r.Hit("other", metrics.TierL1)
	r.Hit("players", metrics.TierL3)
	r.Latency("players", metrics.TierL3, "get", time.Millisecond)
	if got := r.take(); got != metrics.TierL3 {
		t.Errorf("take() = %q, want l3", got)
	}
	if got := r.take(); got != "" {
		t.Errorf("second take() = %q, want empty", got)
	}
	if r.l3Reads.Load() != 1 || r.ops(metrics.TierL3, "get") != 1 {
		t.Errorf("l3 reads = %d", r.l3Reads.Load())
	}
}

func TestSamplerBoundsMemory(t *testing.T) {
	t.Parallel()
	s := newSampler()
	for i := range sampleCap + 5000 {
		s.add(time.Duration(i % 100))
	}
	if s.n != sampleCap+5000 || len(s.keep) != sampleCap {
		t.Fatalf("n=%d kept=%d", s.n, len(s.keep))
	}
	if p := s.p(50); p < 40 || p > 60 {
		t.Errorf("p50 = %v, want about 50", p)
	}
}

func TestProgressWithoutTerminal(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	p := newProgress(&b, 100)
	for range 10 {
		p.add(10)
	}
	p.done()
	if got := strings.Count(b.String(), "loaded"); got != 4 {
		t.Errorf("printed %d progress lines, want 4:\n%s", got, b.String())
	}
}

func TestIndentWriter(t *testing.T) {
	t.Parallel()
	var w indentWriter
	_, _ = w.Write([]byte("a\n\nb\n"))
	if got := w.String(); got != "   a\n\n   b\n" {
		t.Errorf("got %q", got)
	}
}

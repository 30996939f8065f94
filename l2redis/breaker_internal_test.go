package l2redis

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestBreakerStates(t *testing.T) {
	t.Parallel()
	down := ErrUnavailable
	b := &breaker{threshold: 2, cooldown: 50 * time.Millisecond}
	steps := []struct {
		name      string
		sleep     time.Duration
		wantAllow bool
		record    error // recorded when allowed
	}{
		{name: "closed", wantAllow: true, record: down},
		{name: "one failure is below the threshold", wantAllow: true, record: down},
		{name: "open", wantAllow: false},
		{name: "still open", wantAllow: false},
		{name: "probe after cool-down", sleep: 60 * time.Millisecond, wantAllow: true, record: down},
		{name: "failed probe reopens", wantAllow: false},
		{name: "second probe", sleep: 60 * time.Millisecond, wantAllow: true, record: nil},
		{name: "closed again", wantAllow: true, record: down},
		{name: "failure count restarted", wantAllow: true, record: nil},
	}
	for _, st := range steps {
		time.Sleep(st.sleep)
		err := b.allow()
		if got := err == nil; got != st.wantAllow {
			t.Fatalf("%s: allow() = %v, want allowed=%v", st.name, err, st.wantAllow)
		}
		if err != nil && !errors.Is(err, ErrBreakerOpen) {
			t.Fatalf("%s: allow() = %v, want ErrBreakerOpen", st.name, err)
		}
		if err == nil {
			b.record(st.record)
		}
	}
}

func TestBreakerOneProbeAtATime(t *testing.T) {
	t.Parallel()
	b := &breaker{threshold: 1, cooldown: time.Millisecond}
	b.record(ErrUnavailable)
	time.Sleep(5 * time.Millisecond)
	if err := b.allow(); err != nil {
		t.Fatalf("first call after cool-down = %v, want a probe", err)
	}
	if err := b.allow(); !errors.Is(err, ErrBreakerOpen) {
		t.Fatalf("second concurrent call = %v, want ErrBreakerOpen while the probe runs", err)
	}
}

// TestBreakerAbandonedProbe: a probe cut short by its caller's context must
// not leave the breaker waiting for a verdict forever.
func TestBreakerAbandonedProbe(t *testing.T) {
	t.Parallel()
	s := &Store{brk: breaker{threshold: 1, cooldown: time.Millisecond}}
	s.brk.record(ErrUnavailable)
	time.Sleep(5 * time.Millisecond)
	if err := s.brk.allow(); err != nil {
		t.Fatalf("probe not allowed: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.result(ctx, context.Canceled); !errors.Is(err, context.Canceled) {
		t.Fatalf("result = %v, want the caller's context error", err)
	}
	if err := s.brk.allow(); err != nil {
		t.Errorf("after an abandoned probe allow() = %v, want another probe", err)
	}
}

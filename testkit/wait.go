package testkit

import (
	"testing"
	"time"
)

// WaitUntil polls cond every 10 ms until it holds, and fails tb when limit
// passes first, naming what it waited for. Tests wait for conditions this
// way, never with a fixed sleep.
func WaitUntil(tb testing.TB, limit time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

package l2redis

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestBreakerReportsEachStateChangeOnce: OnBreakerChange hears the breaker
// open once (not once per failure while open, nor per failed probe) and
// close once.
func TestBreakerReportsEachStateChangeOnce(t *testing.T) {
	t.Parallel()
	var changes []bool
	b := &breaker{threshold: 2, cooldown: time.Hour, onChange: func(open bool) { changes = append(changes, open) }}
	b.record(ErrUnavailable) // below the threshold
	b.record(ErrUnavailable) // opens
	b.record(ErrUnavailable) // a failed probe: reopens, no change
	b.record(nil)            // a probe that reached Redis: closes
	b.record(nil)            // still closed
	b.record(ErrUnavailable)
	b.record(ErrUnavailable) // opens again
	if diff := cmp.Diff([]bool{true, false, true}, changes); diff != "" {
		t.Fatalf("breaker changes (-want +got):\n%s", diff)
	}
}

// Package metrics defines what a DataStore reports about its tiers, so that
// any metrics system (Prometheus, OpenTelemetry, expvar) can be plugged in
// without Strata depending on it.
package metrics

import "time"

// Tier names passed to a MetricsRecorder.
const (
	TierL1 = "l1"
	TierL2 = "l2"
	TierL3 = "l3"
)

// MetricsRecorder receives per-tier events. Implementations must be safe for
// concurrent use and fast: they are called on the read path.
type MetricsRecorder interface {
	// Hit records that tier served a read of schema.
	Hit(schema, tier string)
	// Miss records that tier did not have the record.
	Miss(schema, tier string)
	// Latency records how long one operation (get, set, delete, query, ...)
	// took on tier.
	Latency(schema, tier, op string, d time.Duration)
	// Error records a failed operation on tier. On TierL2, op "decode"
	// counts a cached value that could not be decoded (corrupted, or
	// written by another codec or model version); Strata reads it as a
	// miss and deletes it.
	Error(schema, tier, op string)
}

// Noop discards everything. It is the default recorder.
type Noop struct{}

func (Noop) Hit(string, string)                            {}
func (Noop) Miss(string, string)                           {}
func (Noop) Latency(string, string, string, time.Duration) {}
func (Noop) Error(string, string, string)                  {}

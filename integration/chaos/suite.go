package chaos

import (
	"time"
)

// The suite's bounds, stated once. They are honest for a 2-core machine
// shared with other builds (the one the suite was written on runs at a load
// average near 16), under the race detector: not razor-thin.
const (
	// CalmBound: outside faults, a read returns a value that was current
	// at most this long before it began. Invalidation normally reaches
	// every instance in milliseconds (the bus); the rest is scheduling.
	CalmBound = time.Second
	// FlushEvery is the write-behind flush interval of the suite's
	// instances; a write-behind value reaches other instances only once
	// flushed, so their calm bound is CalmBound + WBSlack.
	FlushEvery = 100 * time.Millisecond
	// WBSlack covers the flush interval and a flush that waits for the
	// pool or for PostgreSQL on a loaded machine.
	WBSlack = time.Second
	// Grace: after a fault heals, reads may still return values current
	// since it began for this long — the bus's silent-loss detection
	// (2 × InvalidationHealthCheck, 2 s), the repairer's period (1 s) and
	// CalmBound. (For write-behind, plus the fault's length: the flusher's
	// backoff doubles per failed attempt.)
	Grace = 4 * time.Second
	// Detect: an instance whose link to Redis fails or falls silent stops
	// serving L1 within 2 × InvalidationHealthCheck (1 s by default).
	Detect = 2 * time.Second
	// Settle: once faults are healed and the workload has stopped, every
	// tier of every instance equals PostgreSQL within this long.
	Settle = 10 * time.Second
)

// DefaultBounds are the bounds every run is checked against.
func DefaultBounds() Bounds {
	return Bounds{
		Calm:       map[string]time.Duration{SchemaWT: CalmBound, SchemaWB: CalmBound + WBSlack},
		Grace:      Grace,
		Detect:     Detect,
		GraceGrows: map[string]bool{SchemaWB: true},
		NoReadYourWrites: map[string]bool{
			SchemaWB + "/" + string(KindSearch):       true,
			SchemaWB + "/" + string(KindSearchCached): true,
		},
	}
}

// DefaultConfig is a run of duration with faults, for seed and the change
// feed on or off, on the given servers; logs go to dir.
func DefaultConfig(seed uint64, feed bool, duration time.Duration, srv *Servers, dir string) RunConfig {
	return RunConfig{
		Seed: seed, Feed: feed, Duration: duration, Faults: true, CalmFirst: duration / 5,
		Hold:          [2]time.Duration{300 * time.Millisecond, 5 * time.Second},
		Gap:           [2]time.Duration{200 * time.Millisecond, time.Second},
		Settle:        Settle,
		Bounds:        DefaultBounds(),
		Servers:       srv,
		Dir:           dir,
		Keys:          NewKeyspace(40, 10, 20),
		Think:         4 * time.Millisecond,
		OpTimeout:     2 * time.Second,
		FlushEvery:    FlushEvery,
		LinearTimeout: time.Minute,
	}
}

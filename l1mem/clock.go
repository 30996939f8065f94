package l1mem

import "time"

// Clock tells the cache the time. Inject one through [Options.Clock] to
// drive expiry from tests; the default reads the monotonic system clock.
type Clock interface {
	Now() time.Time
}

// nanoClock returns the time in nanoseconds on some fixed scale. Expiry
// deadlines are stored on that scale.
type nanoClock func() int64

func newNanoClock(c Clock) nanoClock {
	if c == nil {
		start := time.Now()
		return func() int64 { return int64(time.Since(start)) + 1 }
	}
	return func() int64 { return c.Now().UnixNano() }
}

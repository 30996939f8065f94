package l2redis

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// breaker fails calls fast while Redis is down, so that a caller pays the
// dial and retry timeouts once per cool-down instead of on every call.
//
// Closed, it lets every call through and counts consecutive ErrUnavailable
// results; at the threshold it opens for the cool-down, failing calls at
// once. After the cool-down one call at a time goes through as a probe: a
// probe that reaches Redis closes the breaker, one that does not reopens it.
type breaker struct {
	threshold int32
	cooldown  time.Duration
	disabled  bool

	failures  atomic.Int32
	openUntil atomic.Int64 // unix nanoseconds; 0 while closed
	probing   atomic.Bool

	onChange func(open bool) // Options.OnBreakerChange; nil for none
}

// errBreakerOpen is what an open breaker returns.
var errBreakerOpen = fmt.Errorf("%w: %w", ErrUnavailable, ErrBreakerOpen)

// allow reports whether a call may go to Redis now.
func (b *breaker) allow() error {
	until := b.openUntil.Load()
	if until == 0 || b.disabled {
		return nil
	}
	if time.Now().UnixNano() < until {
		return errBreakerOpen
	}
	if b.probing.CompareAndSwap(false, true) {
		return nil
	}
	return errBreakerOpen
}

// record updates the breaker with the (classified) result of a call that
// allow let through.
func (b *breaker) record(err error) {
	if b.disabled {
		return
	}
	if err != nil && errors.Is(err, ErrUnavailable) {
		if b.failures.Add(1) >= b.threshold || b.openUntil.Load() != 0 {
			if b.openUntil.Swap(time.Now().Add(b.cooldown).UnixNano()) == 0 && b.onChange != nil {
				b.onChange(true)
			}
		}
		b.probing.Store(false)
		return
	}
	if b.failures.Load() != 0 {
		b.failures.Store(0)
	}
	if b.openUntil.Load() != 0 {
		if b.openUntil.Swap(0) != 0 && b.onChange != nil {
			b.onChange(false)
		}
		b.probing.Store(false)
	}
}

// abandon ends a call that proved nothing either way (the caller's context
// ended first): if it was the probe, the next call may probe instead.
func (b *breaker) abandon() {
	if b.openUntil.Load() != 0 {
		b.probing.Store(false)
	}
}

// result classifies the error of a call that allow let through and records
// it: unavailability, and a socket timeout at the caller's deadline, count
// towards opening; a cancelled call says nothing about Redis; anything else
// (success, a miss, an error reply) proves Redis answered.
func (b *breaker) result(ctx context.Context, err error) error {
	cause := err
	err = classify(ctx, err)
	switch {
	case err == nil:
		b.record(nil)
	case errors.Is(err, ErrUnavailable):
		b.record(err)
	case ctxEnded(ctx) == nil:
		b.record(nil)
	case isTimeout(cause):
		// Redis did not answer within the caller's deadline: that counts.
		b.record(ErrUnavailable)
	default:
		b.abandon()
	}
	return err
}

// result is the Store's breaker's result.
func (s *Store) result(ctx context.Context, err error) error {
	return s.brk.result(ctx, err)
}

// newBreaker returns a breaker for the given options; a negative cooldown
// disables it.
func newBreaker(failures int, cooldown time.Duration) breaker {
	return breaker{
		threshold: int32(min(failures, 1<<30)),
		cooldown:  cooldown,
		disabled:  cooldown < 0,
	}
}

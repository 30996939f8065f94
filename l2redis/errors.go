package l2redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	// ErrNotFound is returned by Get, TTL and GetResult when the key is
	// absent. redis.Nil never escapes this package: it always becomes
	// ErrNotFound. A key that holds only a fill lease (see
	// [Store.GetOrLease]) is absent too.
	ErrNotFound = errors.New("l2redis: not found")

	// ErrUnavailable is wrapped, together with the cause, by every error
	// that comes from Redis not answering: refused or broken connections,
	// I/O timeouts, a closed client, a pool timeout, and the LOADING,
	// CLUSTERDOWN, MASTERDOWN, TRYAGAIN, BUSY and READONLY replies. Test it with
	// errors.Is; errors.Is also finds the cause. When the caller's context
	// has ended, the context's error is returned instead (still wrapping the
	// cause).
	ErrUnavailable = errors.New("l2redis: redis unavailable")

	// ErrBreakerOpen is wrapped, with ErrUnavailable, by the errors of a
	// Store whose circuit breaker is open: Redis failed
	// Options.BreakerFailures times in a row, and calls fail at once until
	// Options.BreakerCooldown has passed and a probe call succeeds.
	ErrBreakerOpen = errors.New("l2redis: circuit breaker open")

	// ErrLeaseBusy is returned by [Store.GetOrLease] when the key is absent
	// and another caller holds its fill lease. Read the source of truth
	// without filling, or retry Get shortly.
	ErrLeaseBusy = errors.New("l2redis: fill lease held by another caller")

	// ErrNilClient is returned by [New] and [NewBus] when given a nil client.
	ErrNilClient = errors.New("l2redis: nil redis client")

	// ErrEmptyKey is returned by every operation given an empty key, prefix,
	// namespace or channel.
	ErrEmptyKey = errors.New("l2redis: empty key")

	// ErrInvalidTTL is returned by writes given a negative TTL other than
	// [NoExpiry].
	ErrInvalidTTL = errors.New("l2redis: invalid ttl")

	// ErrReservedValue is returned by Set, SetMany, Fill and FillMany when a value
	// begins with the bytes this package uses to mark a fill lease or an
	// absence, which no codec output does. Storing it would make the key read
	// as absent.
	ErrReservedValue = errors.New("l2redis: value begins with the reserved lease marker")

	// ErrUnversionedValue is returned by Apply given a refresh whose value
	// was not made by [Versioned].
	ErrUnversionedValue = errors.New("l2redis: a refresh needs a versioned value")

	// ErrLengthMismatch is returned by FillMany when it is not given one
	// value per lease.
	ErrLengthMismatch = errors.New("l2redis: not one value per lease")

	// ErrInvalidGeneration is returned by SetResult given generation 0,
	// which Generation and GetResult never return.
	ErrInvalidGeneration = errors.New("l2redis: invalid generation")

	// ErrInvalidOptions is wrapped by the errors of [New], [Open] and
	// [NewBus] when an option is out of range.
	ErrInvalidOptions = errors.New("l2redis: invalid options")

	// ErrInvalidMessage is wrapped by [DecodeInvalidation] when the bytes
	// are not an invalidation message this package can read.
	ErrInvalidMessage = errors.New("l2redis: invalid invalidation message")

	// ErrClosed is returned by a [Bus]'s Publish after Close.
	ErrClosed = errors.New("l2redis: closed")
)

// unavailableReplies are the error replies that mean the server cannot
// serve right now rather than that the command was wrong.
var unavailableReplies = []string{"LOADING", "CLUSTERDOWN", "MASTERDOWN", "TRYAGAIN", "BUSY", "READONLY"}

// classify maps an error from go-redis to this package's errors: redis.Nil to
// ErrNotFound, error replies from a working server wrapped with the package
// prefix, a failure after the caller's context ended to the context's error
// (wrapping the cause), and everything else (network, timeouts, closed
// client) to ErrUnavailable wrapping the cause.
func classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, redis.Nil) {
		return ErrNotFound
	}
	var reply redis.Error
	if errors.As(err, &reply) && !isUnavailableReply(reply.Error()) {
		return fmt.Errorf("l2redis: %w", err)
	}
	if cerr := ctxEnded(ctx); cerr != nil {
		if errors.Is(err, cerr) {
			return err
		}
		return fmt.Errorf("%w: %w", cerr, err)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// ctxEnded returns ctx's error, or DeadlineExceeded once its deadline has
// passed: go-redis sets the socket deadline from ctx's, and the resulting
// I/O timeout can come back a moment before ctx's own timer fires.
func ctxEnded(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

func isUnavailableReply(msg string) bool {
	for _, p := range unavailableReplies {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// authReplies are the error replies that mean Redis refused this client's
// credentials or permissions: a wrong password or user, a password missing,
// a command the ACL user may not run.
var authReplies = []string{"WRONGPASS", "NOAUTH", "NOPERM", "ERR invalid password", "ERR AUTH", "ERR Client sent AUTH"}

// IsAuthError reports whether err (from go-redis, or from this package,
// which wraps go-redis's errors) is Redis refusing the client's
// credentials or permissions (WRONGPASS, NOAUTH, NOPERM and the older
// "ERR invalid password" forms). Such an error persists until the
// configuration is fixed, so it deserves a louder log line than a
// transient outage.
func IsAuthError(err error) bool {
	if err == nil { // (first: reply escapes, so declaring it allocates)
		return false
	}
	var reply redis.Error
	if !errors.As(err, &reply) {
		return false
	}
	for _, p := range authReplies {
		if strings.HasPrefix(reply.Error(), p) {
			return true
		}
	}
	return false
}

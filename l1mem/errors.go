package l1mem

import "errors"

// Sentinel errors. Every error returned by this package wraps one of them, so
// callers test with [errors.Is].
var (
	// ErrInvalidOptions is wrapped by [New] when an [Options] field is out of
	// range; the message names the field.
	ErrInvalidOptions = errors.New("l1mem: invalid options")

	// ErrInvalidTTL is returned by [Cache.SetWithTTL] for a negative TTL.
	ErrInvalidTTL = errors.New("l1mem: invalid ttl")

	// ErrNilLoader is returned by [Cache.GetOrLoad] when the loader is nil.
	ErrNilLoader = errors.New("l1mem: nil loader")

	// ErrNilContext is returned by [Cache.GetOrLoad] when ctx is nil.
	ErrNilContext = errors.New("l1mem: nil context")

	// ErrLoaderPanic is returned by [Cache.GetOrLoad] and
	// [Cache.GetOrLoadMany] to every caller waiting on a loader that
	// panicked. The panic value is in the message.
	ErrLoaderPanic = errors.New("l1mem: loader panicked")

	// ErrNotFound is what a loader returns (or wraps) to say the key does
	// not exist; with [Options.NegativeTTL] the cache then remembers the
	// miss. [Cache.GetOrLoad] returns it for a remembered miss.
	ErrNotFound = errors.New("l1mem: not found")
)

package l2redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// absentMagic is the value a key holds while it records that the source of
// truth has no such record (shared negative caching, [Store.FillAbsent]).
// Like the lease marker it begins with a NUL byte, which no codec output
// does, and Set refuses values that start with it.
const absentMagic = "\x00\xffl2redis-absent"

func isAbsentMarker(b []byte) bool {
	return len(b) >= len(absentMagic) && string(b[:len(absentMagic)]) == absentMagic
}

func isAbsentMarkerString(s string) bool { return strings.HasPrefix(s, absentMagic) }

// isReserved reports whether a value begins with one of the package's
// markers, which callers may not store.
func isReserved(b []byte) bool { return isLeaseMarker(b) || isAbsentMarker(b) }

// ErrAbsent is returned by Get and GetOrLease when the key holds an absence
// marker: a reader found the record missing in the source of truth a moment
// ago (see [Store.FillAbsent]). It wraps ErrNotFound, so callers that only
// test for ErrNotFound see a miss.
var ErrAbsent = fmt.Errorf("%w: recorded as absent from the source of truth", ErrNotFound)

// FillAbsent records under the lease's key that the source of truth has no
// such record, for ttl, if and only if the lease still stands (as [Store.Fill]):
// a write or delete after the lease was granted voids it, so the marker can
// never hide a record written meanwhile. Until it expires, Get and
// GetOrLease of the key return ErrAbsent, and any write (Set, SetMany,
// Delete, DeleteMany, DeletePrefix, a fill) replaces or removes it. It
// reports whether it wrote; ttl must be positive.
func (s *Store) FillAbsent(ctx context.Context, l Lease, ttl time.Duration) (bool, error) {
	if !l.Valid() {
		return false, nil
	}
	if ttl <= 0 {
		return false, fmt.Errorf("%w: absence marker needs a positive ttl, got %v", ErrInvalidTTL, ttl)
	}
	if err := s.brk.allow(); err != nil {
		return false, err
	}
	ms := strconv.FormatInt(max(ttl.Milliseconds(), 1), 10)
	n, err := fillScript.Run(ctx, s.c, []string{l.key}, l.marker, absentMagic, ms).Int64()
	if err != nil {
		return false, s.result(ctx, err)
	}
	s.brk.record(nil)
	return n == 1, nil
}

package l2redis

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// leaseMagic starts the value a key holds while a fill lease stands on it.
// It begins with a NUL byte, which neither MsgPack maps nor JSON ever do, so
// it cannot be mistaken for a record; Set refuses values that start with it.
const leaseMagic = "\x00\xffl2redis-lease:"

func isLeaseMarker(b []byte) bool {
	return len(b) >= len(leaseMagic) && string(b[:len(leaseMagic)]) == leaseMagic
}

func isLeaseMarkerString(s string) bool { return strings.HasPrefix(s, leaseMagic) }

// Lease is the right to fill one absent key, granted by [Store.GetOrLease].
// The zero Lease is not valid and fills nothing.
//
// A lease is memcache's: while it stands the key holds a small marker value
// (with LeaseTTL as its TTL) that every read treats as absent. Any Set,
// SetMany, Delete, DeleteMany or DeletePrefix replaces or removes the marker
// and so voids the lease, and [Store.Fill] writes only while the marker with
// this lease's token is still there. A fill can therefore never install a
// value older than a write or delete that happened after the lease was
// granted.
type Lease struct {
	key    string
	marker string
}

// Key returns the key the lease is for.
func (l Lease) Key() string { return l.key }

// Valid reports whether l was granted (is not the zero Lease). It says
// nothing about whether a write has voided it since.
func (l Lease) Valid() bool { return l.marker != "" }

// leaseScript returns {1, value} on a hit, {2} when another lease stands,
// and otherwise installs the marker ARGV[1] for ARGV[2] ms and returns {0}.
var leaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {0}
end
if string.sub(v, 1, #ARGV[3]) == ARGV[3] then return {2} end
return {1, v}
`)

// fillScript writes ARGV[2] (with PX ARGV[3] unless it is "0") only while the
// key still holds the lease marker ARGV[1].
var fillScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
`)

// extendScript gives the marker ARGV[1] a TTL of ARGV[2] ms if it is still
// there.
var extendScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

// releaseScript removes the marker ARGV[1] if it is still there.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

const (
	leaseGranted = 0
	leaseHit     = 1
	leaseBusy    = 2
)

// GetOrLease is the read that precedes a fill, in one round trip. On a hit it
// returns the value and a zero Lease. On a miss it grants a Lease, and the
// caller reads the source of truth and passes the lease to [Store.Fill]. When
// another caller's lease already stands it returns ErrLeaseBusy: read the
// source without filling, or retry Get shortly.
//
// Take the lease before reading the source: the guarantee covers writes made
// after the lease was granted.
func (s *Store) GetOrLease(ctx context.Context, key string) ([]byte, Lease, error) {
	if key == "" {
		return nil, Lease{}, ErrEmptyKey
	}
	if err := s.brk.allow(); err != nil {
		return nil, Lease{}, err
	}
	marker := leaseMagic + randomID()
	ms := strconv.FormatInt(s.opt.LeaseTTL.Milliseconds(), 10)
	res, err := leaseScript.Run(ctx, s.c, []string{key}, marker, ms, leaseMagic).Slice()
	if err != nil {
		return nil, Lease{}, s.result(ctx, err)
	}
	s.brk.record(nil)
	code, _ := res[0].(int64)
	switch code {
	case leaseGranted:
		return nil, Lease{key: key, marker: marker}, nil
	case leaseBusy:
		return nil, Lease{}, ErrLeaseBusy
	}
	if len(res) < 2 {
		return nil, Lease{}, fmt.Errorf("l2redis: unexpected lease reply %v", res)
	}
	v, _ := res[1].(string)
	if isAbsentMarkerString(v) {
		return nil, Lease{}, ErrAbsent
	}
	return stripVersion([]byte(v)), Lease{}, nil
}

// Fill stores value under the lease's key with ttl (as for Set) if, and only
// if, the lease still stands, and reports whether it wrote. It returns
// false, nil when a write, delete, another fill or the lease's expiry came
// first, and for the zero Lease. The check and the write are one Lua script.
func (s *Store) Fill(ctx context.Context, l Lease, value []byte, ttl time.Duration) (bool, error) {
	if !l.Valid() {
		return false, nil
	}
	if isReserved(value) {
		return false, ErrReservedValue
	}
	exp, err := s.expiry(ttl)
	if err != nil {
		return false, err
	}
	if err := s.brk.allow(); err != nil {
		return false, err
	}
	if s.unguardedFill {
		return true, s.result(ctx, s.c.Set(ctx, l.key, value, exp).Err())
	}
	ms := strconv.FormatInt(exp.Milliseconds(), 10)
	n, err := fillScript.Run(ctx, s.c, []string{l.key}, l.marker, value, ms).Int64()
	if err != nil {
		return false, s.result(ctx, err)
	}
	s.brk.record(nil)
	return n == 1, nil
}

// Release gives a lease up without filling, so the next reader can take a
// new one at once instead of waiting out LeaseTTL. Releasing a lease that no
// longer stands does nothing.
func (s *Store) Release(ctx context.Context, l Lease) error {
	if !l.Valid() {
		return nil
	}
	if err := s.brk.allow(); err != nil {
		return err
	}
	return s.result(ctx, releaseScript.Run(ctx, s.c, []string{l.key}, l.marker).Err())
}

// Extend gives a lease that still stands a full LeaseTTL again, and reports
// whether it still stood (false: a write, delete, fill or its expiry ended
// it, or l is the zero Lease). A filler that is alive but slow to read the
// source extends its lease every part of LeaseTTL, so that the lease does
// not lapse under it (the next reader would take the key and read the
// source as well); a filler that crashed stops extending, and its lease
// expires within LeaseTTL.
func (s *Store) Extend(ctx context.Context, l Lease) (bool, error) {
	if !l.Valid() {
		return false, nil
	}
	if err := s.brk.allow(); err != nil {
		return false, err
	}
	ms := strconv.FormatInt(s.opt.LeaseTTL.Milliseconds(), 10)
	n, err := extendScript.Run(ctx, s.c, []string{l.key}, l.marker, ms).Int64()
	if err != nil {
		return false, s.result(ctx, err)
	}
	s.brk.record(nil)
	return n == 1, nil
}

// LeaseTTL returns how long a lease stands unless extended
// ([Options.LeaseTTL]).
func (s *Store) LeaseTTL() time.Duration { return s.opt.LeaseTTL }

// randomID returns 16 random hex digits: unique enough for lease tokens and
// instance IDs, which only need to differ from the others alive at once.
func randomID() string {
	var b [8]byte
	v := rand.Uint64()
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return hex.EncodeToString(b[:])
}

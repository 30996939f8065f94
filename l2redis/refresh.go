package l2redis

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// refreshPrefix starts the keys of refresh claims ([Store.ClaimRefresh]):
// strata:#refresh:{key}. It is in the package's reserved key space.
const refreshPrefix = KeyRoot + ":" + ReservedMark + "refresh:"

// GetWithTTL is Get that also returns the key's remaining time to live (-1
// when it has none), in one round trip (GET and PTTL pipelined): the read of
// a cache that refreshes keys ahead of their expiry.
func (s *Store) GetWithTTL(ctx context.Context, key string) ([]byte, time.Duration, error) {
	if key == "" {
		return nil, 0, ErrEmptyKey
	}
	if err := s.brk.allow(); err != nil {
		return nil, 0, err
	}
	var get *redis.StringCmd
	var pttl *redis.DurationCmd
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, key)
		pttl = p.PTTL(ctx, key)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, 0, s.result(ctx, err)
	}
	s.brk.record(nil)
	b, err := get.Bytes()
	if err != nil {
		return nil, 0, s.result(ctx, err) // redis.Nil becomes ErrNotFound
	}
	switch {
	case isLeaseMarker(b):
		return nil, 0, ErrNotFound
	case isAbsentMarker(b):
		return nil, 0, ErrAbsent
	case b == nil:
		b = []byte{}
	}
	ttl := pttl.Val()
	if ttl < 0 {
		ttl = -1 // no expiry (or gone since the GET)
	}
	return stripVersion(b), ttl, nil
}

// ClaimRefresh takes the fleet-wide right to reload key ahead of its expiry
// for the next window (a SET NX of a claim key that expires after window),
// and reports whether this caller got it. Only one caller in the fleet wins
// per window; the others keep serving the current value.
func (s *Store) ClaimRefresh(ctx context.Context, key string, window time.Duration) (bool, error) {
	if key == "" {
		return false, ErrEmptyKey
	}
	if err := s.brk.allow(); err != nil {
		return false, err
	}
	ok, err := s.c.SetNX(ctx, refreshPrefix+key, randomID(), max(window, time.Millisecond)).Result()
	if err != nil {
		return false, s.result(ctx, err)
	}
	s.brk.record(nil)
	return ok, nil
}

// refreshScript replaces KEYS[1] by ARGV[2] with PX ARGV[3] only while it
// still holds ARGV[1] (after any version prefix: ARGV[5] is versionMagic,
// ARGV[6] the prefix's length) with no more than ARGV[4] ms to live: the
// very value the refresher read, not a newer write or fill (which would
// also have reset the time to live) that happens to hold the same bytes.
var refreshScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
if string.sub(cur, 1, #ARGV[5]) == ARGV[5] then cur = string.sub(cur, tonumber(ARGV[6]) + 1) end
if cur ~= ARGV[1] then return 0 end
local t = redis.call('PTTL', KEYS[1])
if t < 0 or t > tonumber(ARGV[4]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

// RefreshIfUnchanged stores value (which may be [Versioned]) under key with
// ttl (as for Set) if, and only if, key still holds old, the value
// [Store.GetWithTTL] returned with seenTTL left to live. Any write, delete or fill since that read changes
// the value or resets the time to live, and the refresh then writes nothing
// and reports false: a reload can never put back a value older than a
// write. The check and the write are one Lua script.
func (s *Store) RefreshIfUnchanged(ctx context.Context, key string, old, value []byte, ttl, seenTTL time.Duration) (bool, error) {
	if key == "" {
		return false, ErrEmptyKey
	}
	if isReserved(value) {
		return false, ErrReservedValue
	}
	exp, err := s.expiry(ttl)
	if err != nil || exp == 0 || seenTTL <= 0 {
		return false, err // a key without expiry is never refreshed ahead
	}
	if err := s.brk.allow(); err != nil {
		return false, err
	}
	n, err := refreshScript.Run(ctx, s.c, []string{key}, old, value,
		strconv.FormatInt(exp.Milliseconds(), 10), strconv.FormatInt(seenTTL.Milliseconds()+1, 10),
		versionMagic, versionHeaderLen).Int64()
	if err != nil {
		return false, s.result(ctx, err)
	}
	s.brk.record(nil)
	return n == 1, nil
}

package l2redis

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"
)

// expiry turns a caller's ttl into the expiration go-redis sends: zero means
// DefaultTTL, NoExpiry means none (0 to go-redis), and positive TTLs get the
// configured jitter. The result is never below one millisecond, so a tiny
// TTL cannot turn into "no expiry".
func (s *Store) expiry(ttl time.Duration) (time.Duration, error) {
	switch {
	case ttl == NoExpiry:
		return 0, nil
	case ttl < 0:
		return 0, ErrInvalidTTL
	case ttl == 0:
		ttl = s.opt.DefaultTTL
	}
	if j := s.opt.TTLJitter; j > 0 {
		ttl += time.Duration((rand.Float64()*2 - 1) * j * float64(ttl))
	}
	return max(ttl, time.Millisecond), nil
}

// inspectScript reports a key's remaining TTL in milliseconds, -1 when it has
// none, and -3 when it is absent or holds only a fill lease or an absence
// marker (ARGV[1] and ARGV[2] are their prefixes).
var inspectScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -3 end
if redis.call('TYPE', KEYS[1]).ok == 'string' then
  local head = redis.call('GETRANGE', KEYS[1], 0, math.max(#ARGV[1], #ARGV[2]) - 1)
  if string.sub(head, 1, #ARGV[1]) == ARGV[1] or string.sub(head, 1, #ARGV[2]) == ARGV[2] then return -3 end
end
return redis.call('PTTL', KEYS[1])
`)

const inspectAbsent = -3

func (s *Store) inspect(ctx context.Context, key string) (int64, error) {
	if key == "" {
		return 0, ErrEmptyKey
	}
	if err := s.brk.allow(); err != nil {
		return 0, err
	}
	n, err := inspectScript.Run(ctx, s.c, []string{key}, leaseMagic, absentMagic).Int64()
	return n, s.result(ctx, err)
}

// TTL returns how long key has left to live, or [NoExpiry] when it has no
// TTL. It returns ErrNotFound when the key is absent or holds only a fill
// lease or an absence marker.
func (s *Store) TTL(ctx context.Context, key string) (time.Duration, error) {
	n, err := s.inspect(ctx, key)
	switch {
	case err != nil:
		return 0, err
	case n == inspectAbsent:
		return 0, ErrNotFound
	case n < 0:
		return NoExpiry, nil
	}
	return time.Duration(n) * time.Millisecond, nil
}

// Exists reports whether key holds a value. A key that holds only a fill
// lease or an absence marker does not count.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	n, err := s.inspect(ctx, key)
	if err != nil {
		return false, err
	}
	return n != inspectAbsent, nil
}

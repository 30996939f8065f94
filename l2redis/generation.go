package l2redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// generationScript reads (ARGV[2] == "0") or increments (ARGV[2] == "1") a
// generation counter, creating it at ARGV[1] first when it is absent.
//
// Starting a new counter at the current time in microseconds, rather than at
// zero, keeps generations increasing even if the counter key is lost (a
// flush or an eviction): a recreated counter starts above every value the old
// one can have reached, so result sets cached under old generations are never
// read again.
var generationScript = redis.NewScript(`
local g = redis.call('GET', KEYS[1])
if not g then
  redis.call('SET', KEYS[1], ARGV[1])
  g = ARGV[1]
end
if ARGV[2] == '1' then return redis.call('INCR', KEYS[1]) end
return g
`)

func (s *Store) generation(ctx context.Context, namespace string, bump bool) (uint64, error) {
	if namespace == "" {
		return 0, ErrEmptyKey
	}
	op := "0"
	if bump {
		op = "1"
	}
	if err := s.brk.allow(); err != nil {
		return 0, err
	}
	seed := strconv.FormatInt(time.Now().UnixMicro(), 10)
	v, err := generationScript.Run(ctx, s.c, []string{s.generationKey(namespace)}, seed, op).Result()
	if err != nil {
		return 0, s.result(ctx, err)
	}
	s.brk.record(nil)
	switch v := v.(type) {
	case int64:
		return uint64(v), nil
	case string:
		g, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("l2redis: generation of %q is %q: %w", namespace, v, err)
		}
		return g, nil
	}
	return 0, fmt.Errorf("l2redis: unexpected generation reply %T", v)
}

// Generation returns the current generation of namespace, creating the
// counter if it does not exist. Generations only grow.
//
// The counter keys carry no TTL: a lost counter is recreated above its old
// value (see the package overview), but a counter that expired on purpose
// would only cost memory to keep result sets alive.
func (s *Store) Generation(ctx context.Context, namespace string) (uint64, error) {
	return s.generation(ctx, namespace, false)
}

// BumpGeneration increments the generation of namespace and returns the new
// value. Every result set cached under an older generation is unreachable
// from then on; they expire by their TTL.
func (s *Store) BumpGeneration(ctx context.Context, namespace string) (uint64, error) {
	return s.generation(ctx, namespace, true)
}

// GetResult reads the result set cached for query in namespace's current
// generation. It returns that generation in every case without an error from
// Redis, and ErrNotFound on a miss; the caller then runs the query and stores
// the result with SetResult under the generation it got here. Because that
// generation was read before the query ran, a write that bumps the generation
// meanwhile makes the stored result unreachable instead of stale.
//
// It takes two round trips: the generation, then the result.
func (s *Store) GetResult(ctx context.Context, namespace, query string) ([]byte, uint64, error) {
	if query == "" {
		return nil, 0, ErrEmptyKey
	}
	gen, err := s.Generation(ctx, namespace)
	if err != nil {
		return nil, 0, err
	}
	b, err := s.c.Get(ctx, s.resultKey(namespace, gen, query)).Bytes()
	if err != nil {
		return nil, gen, s.result(ctx, err)
	}
	return b, gen, nil
}

// SetResult caches value as the result set of query in namespace under
// generation gen (from GetResult or Generation), with ttl as for Set.
func (s *Store) SetResult(ctx context.Context, namespace string, gen uint64, query string, value []byte, ttl time.Duration) error {
	if namespace == "" || query == "" {
		return ErrEmptyKey
	}
	if gen == 0 {
		return ErrInvalidGeneration
	}
	if err := s.brk.allow(); err != nil {
		return err
	}
	exp, err := s.expiry(ttl)
	if err != nil {
		return err
	}
	return s.result(ctx, s.c.Set(ctx, s.resultKey(namespace, gen, query), value, exp).Err())
}

package chaos

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/integration/harness"
	"github.com/AndrewDonelson/strata/l2redis"
)

// The convergence check reads Redis raw and recognises l2redis's lease and
// absence markers by their prefixes, which l2redis does not export: if
// either changes, this test fails rather than the check misreading every
// marker as an undecodable value.
func TestMarkersMatchL2redis(t *testing.T) {
	addr := harness.RedisAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := l2redis.Open(l2redis.Config{Addr: addr}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	key := "chaos-markers:" + strconv.FormatInt(time.Now().UnixNano(), 36)
	defer rdb.Del(context.Background(), key)

	_, lease, err := s.GetOrLease(ctx, key)
	if err != nil || !lease.Valid() {
		t.Fatalf("GetOrLease of a missing key = %v, %v; want a lease", lease, err)
	}
	raw, err := rdb.Get(ctx, key).Result()
	if err != nil || !strings.HasPrefix(raw, leaseMarker) {
		t.Errorf("a leased key holds %q, %v; want the prefix %q", raw, err, leaseMarker)
	}
	if ok, err := s.FillAbsent(ctx, lease, 5*time.Second); !ok || err != nil {
		t.Fatalf("FillAbsent = %v, %v", ok, err)
	}
	raw, err = rdb.Get(ctx, key).Result()
	if err != nil || !strings.HasPrefix(raw, absentMarker) {
		t.Errorf("a key recorded as absent holds %q, %v; want the prefix %q", raw, err, absentMarker)
	}
}

package redistest

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/testkit/rediskit"
)

// MasterName is the name the Sentinel set-up monitors its master under.
const MasterName = "l2redis-test-master"

// SharedSentinel returns the test binary's Sentinel set-up, starting it on
// first use.
func SharedSentinel(t testing.TB) *rediskit.Sentinel {
	t.Helper()
	return shared.Sentinel(t, MasterName)
}

// SentinelClient returns a failover client of the shared Sentinel set-up,
// closed when t ends.
func SentinelClient(t testing.TB) *redis.Client {
	t.Helper()
	s := SharedSentinel(t)
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: s.MasterName, SentinelAddrs: []string{s.Addr}})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

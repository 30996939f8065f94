// Package redistest gives l2redis's tests their Redis servers through the
// repository's server-test kit (module testkit): the devstack server named
// by STRATA_REDIS_ADDR, private redis-server processes for tests that stop
// or disrupt a server, a master with a Sentinel, and a local three-master
// Redis Cluster. Without STRATA_REDIS_ADDR a test that needs Redis is
// skipped with a message saying how to start the local stack, unless
// STRATA_REQUIRE_SERVERS=1, where it fails instead (testkit's contract).
package redistest

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/testkit"
	"github.com/AndrewDonelson/strata/testkit/rediskit"
)

// Addr returns the devstack Redis address, skipping (or, under
// STRATA_REQUIRE_SERVERS=1, failing) t when it is not set.
func Addr(t testing.TB) string {
	t.Helper()
	return testkit.RedisAddr(t)
}

// Client returns a client of the devstack Redis, closed when t ends.
func Client(t testing.TB) *redis.Client {
	t.Helper()
	return rediskit.Client(t)
}

// Prefix returns a key prefix unique to this test ("l2redis-test:<random>:")
// and removes every key under it when t ends. c may be a cluster client.
func Prefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	return rediskit.Prefix(t, c, "l2redis-test")
}

// RandomID returns random hex digits.
func RandomID() string { return testkit.Suffix() }

// DeletePrefix removes every key under p from every master c reaches.
func DeletePrefix(c redis.UniversalClient, p string) { rediskit.DeletePrefix(c, p) }

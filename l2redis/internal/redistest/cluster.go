package redistest

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/testkit/rediskit"
)

// SharedCluster returns the test binary's three-master cluster, starting it
// on first use. Tests sharing it must use their own key prefixes and
// channels.
func SharedCluster(t testing.TB) *rediskit.Cluster {
	t.Helper()
	return shared.Cluster(t)
}

// ClusterClient returns a client of the shared cluster, closed when t ends.
func ClusterClient(t testing.TB) *redis.ClusterClient {
	t.Helper()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: SharedCluster(t).Addrs})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

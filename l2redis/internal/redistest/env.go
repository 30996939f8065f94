// Package redistest gives l2redis's tests their Redis servers: the devstack
// server named by STRATA_REDIS_ADDR, private redis-server processes for tests
// that stop or disrupt a server, and a local three-master Redis Cluster.
//
// Every helper follows the repository's gating contract: without
// STRATA_REDIS_ADDR a test that needs Redis is skipped with a message saying
// how to start the local stack, unless STRATA_REQUIRE_SERVERS=1, where it
// fails instead.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// AddrEnv names the devstack Redis address.
	AddrEnv = "STRATA_REDIS_ADDR"
	// RequireEnv, set to 1, turns a missing server into a test failure.
	RequireEnv = "STRATA_REQUIRE_SERVERS"

	howTo = "run `make test`, or `go run ./tools/cmd/devstack up` from the repository root " +
		"and export the variables it prints (they are also in .devstack/env)"
)

// Addr returns the devstack Redis address, skipping (or, under
// STRATA_REQUIRE_SERVERS=1, failing) t when it is not set.
func Addr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv(AddrEnv)
	if addr != "" {
		return addr
	}
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s is not set but %s=1: %s", AddrEnv, RequireEnv, howTo)
	}
	t.Skipf("%s is not set; to run the Redis tests, %s", AddrEnv, howTo)
	return ""
}

// Client returns a client of the devstack Redis, closed when t ends.
func Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: Addr(t)})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Prefix returns a key prefix unique to this test ("l2redis-test:<random>:")
// and removes every key under it when t ends, so tests can share a server,
// run in parallel and leave nothing behind. c may be a cluster client.
func Prefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	p := "l2redis-test:" + RandomID() + ":"
	t.Cleanup(func() { DeletePrefix(c, p) })
	return p
}

// RandomID returns 16 random hex digits.
func RandomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// DeletePrefix removes every key under p from every master c reaches.
func DeletePrefix(c redis.UniversalClient, p string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	del := func(ctx context.Context, node redis.Cmdable) error {
		iter := node.Scan(ctx, 0, p+"*", 1000).Iterator()
		for iter.Next(ctx) {
			node.Del(ctx, iter.Val())
		}
		return iter.Err()
	}
	if cc, ok := c.(*redis.ClusterClient); ok {
		_ = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return del(ctx, n) })
		return
	}
	_ = del(ctx, c)
}

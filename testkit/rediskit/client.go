package rediskit

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/testkit"
)

// Client returns a client of the test server, closed when tb ends.
func Client(tb testing.TB) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: testkit.RedisAddr(tb)})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Prefix returns a key prefix unique to this test (name + ":" + a random
// suffix + ":") and removes every key under it when tb ends, so tests can
// share a server, run in parallel and leave nothing behind. c may be a
// cluster client.
func Prefix(tb testing.TB, c redis.UniversalClient, name string) string {
	tb.Helper()
	p := name + ":" + testkit.Suffix() + ":"
	tb.Cleanup(func() { DeletePrefix(c, p) })
	return p
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

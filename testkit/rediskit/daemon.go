package rediskit

import (
	"context"

	"github.com/AndrewDonelson/strata/testkit"
)

// Daemon starts bin (a redis-server) in dir as a daemon that outlives this
// process — the devstack's server — and returns its address and pid once
// it answers PING; stopping it is the caller's. It is
// [testkit.RedisDaemon], which needs no go-redis.
func Daemon(ctx context.Context, bin, dir string) (addr string, pid int, err error) {
	return testkit.RedisDaemon(ctx, bin, dir)
}

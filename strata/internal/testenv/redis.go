package testenv

import (
	"testing"

	"github.com/AndrewDonelson/strata/testkit/rediskit"
)

// StartRedis starts a redis-server of the test's own on a free loopback
// port, for tests that pause or stop it, and stops it when the test ends.
// It needs the same servers as RedisAddr (it is skipped, or fails, likewise).
func StartRedis(t testing.TB) string {
	t.Helper()
	return StartRedisServer(t).Addr
}

// RedisServer is a redis-server of the test's own, which the test may stop
// and start again, or freeze and thaw (the shared devstack server must never
// be disturbed). It keeps nothing on disk, so a restart comes back empty.
type RedisServer struct {
	Addr string
	t    testing.TB
	s    *rediskit.Server
}

// StartRedisServer is StartRedis returning the handle to the process.
func StartRedisServer(t testing.TB) *RedisServer {
	t.Helper()
	s := rediskit.StartServer(t)
	return &RedisServer{Addr: s.Addr, t: t, s: s}
}

// Start starts the server (again) on its port and waits until it answers.
func (r *RedisServer) Start() {
	r.t.Helper()
	if err := r.s.Start(); err != nil {
		r.t.Fatal(err)
	}
}

// Stop kills the server at once (SIGKILL: connections are reset, nothing is
// saved) and waits for it to exit.
func (r *RedisServer) Stop() { r.s.Kill() }

// Freeze stops the server process with SIGSTOP: connections stay open but
// nothing answers, as with a hung server or a network dropping packets.
func (r *RedisServer) Freeze() {
	r.t.Helper()
	if err := r.s.Freeze(); err != nil {
		r.t.Fatal(err)
	}
}

// Thaw resumes a frozen server with SIGCONT.
func (r *RedisServer) Thaw() {
	r.t.Helper()
	if err := r.s.Thaw(); err != nil {
		r.t.Fatal(err)
	}
}

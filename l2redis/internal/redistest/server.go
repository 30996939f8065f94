package redistest

import (
	"testing"

	"github.com/AndrewDonelson/strata/testkit/rediskit"
)

// Server is a redis-server process of the test's own (see rediskit.Server).
type Server = rediskit.Server

// StartServer starts a private redis-server, stopped when t ends.
func StartServer(t testing.TB) *Server {
	t.Helper()
	return rediskit.StartServer(t)
}

// shared holds the servers the test binary starts once; Shutdown stops
// them.
var shared rediskit.Shared

// SharedServer returns a private redis-server for the whole test binary,
// started on first use. Benchmarks use it so that other users of the
// devstack server do not add to their noise.
func SharedServer(t testing.TB) *Server {
	t.Helper()
	return shared.Server(t)
}

// Shutdown stops the shared server, cluster and Sentinel set-up that were
// started. Call it from TestMain after m.Run.
func Shutdown() { shared.Shutdown() }

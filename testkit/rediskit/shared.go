package rediskit

import (
	"os"
	"sync"
	"testing"

	"github.com/AndrewDonelson/strata/testkit"
)

// Shared holds the servers a test binary starts once and shares between
// its tests: a private server, a Cluster, a Sentinel set-up. Its zero value
// is ready; call Shutdown from TestMain after m.Run. Tests sharing them use
// their own key prefixes and channels.
type Shared struct {
	server   once[*Server]
	cluster  once[*Cluster]
	sentinel once[*Sentinel]
	dir      string
}

type once[T any] struct {
	once sync.Once
	v    T
	err  error
}

func (o *once[T]) get(tb testing.TB, start func() (T, error)) T {
	tb.Helper()
	testkit.RedisAddr(tb)
	o.once.Do(func() { o.v, o.err = start() })
	if o.err != nil {
		tb.Fatal(o.err)
	}
	return o.v
}

// Server returns the binary's private redis-server, started on first use.
// Benchmarks use it so that other users of the devstack server do not add
// to their noise.
func (s *Shared) Server(tb testing.TB) *Server {
	tb.Helper()
	return s.server.get(tb, func() (*Server, error) {
		dir, err := os.MkdirTemp("", "strata-redis-server-")
		if err != nil {
			return nil, err
		}
		s.dir = dir
		return Launch(dir, "", nil)
	})
}

// Cluster returns the binary's three-master cluster, started on first use.
func (s *Shared) Cluster(tb testing.TB) *Cluster {
	tb.Helper()
	return s.cluster.get(tb, StartCluster)
}

// Sentinel returns the binary's Sentinel set-up (master name masterName on
// first use), started on first use.
func (s *Shared) Sentinel(tb testing.TB, masterName string) *Sentinel {
	tb.Helper()
	return s.sentinel.get(tb, func() (*Sentinel, error) { return StartSentinel(masterName) })
}

// Shutdown stops whatever was started.
func (s *Shared) Shutdown() {
	if s.server.v != nil {
		s.server.v.Stop()
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
	if s.cluster.v != nil {
		s.cluster.v.Stop()
	}
	if s.sentinel.v != nil {
		s.sentinel.v.Stop()
	}
}

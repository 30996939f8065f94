package redistest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// MasterName is the name the Sentinel set-up monitors its master under.
const MasterName = "l2redis-test-master"

// Sentinel is a master redis-server and one Sentinel process monitoring it,
// both started by this package.
type Sentinel struct {
	Addr       string // the Sentinel's address
	MasterName string
	master     *Server
	sentinel   *Server
	dir        string
}

var sharedSentinel struct {
	once sync.Once
	s    *Sentinel
	err  error
}

// SharedSentinel returns the test binary's Sentinel set-up, starting it on
// first use; [Shutdown] stops it. It needs STRATA_REDIS_ADDR like every
// server test.
func SharedSentinel(t testing.TB) *Sentinel {
	t.Helper()
	Addr(t)
	sharedSentinel.once.Do(func() { sharedSentinel.s, sharedSentinel.err = StartSentinel() })
	if sharedSentinel.err != nil {
		t.Fatal(sharedSentinel.err)
	}
	return sharedSentinel.s
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

// StartSentinel starts a master and a Sentinel that monitors it, and waits
// until the Sentinel reports the master's address.
func StartSentinel() (*Sentinel, error) {
	dir, err := os.MkdirTemp("", "l2redis-sentinel-")
	if err != nil {
		return nil, err
	}
	s := &Sentinel{MasterName: MasterName, dir: dir}
	if s.master, err = startServer(dir, "", nil); err != nil {
		s.Stop()
		return nil, err
	}
	conf := fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 1\nsentinel down-after-milliseconds %s 5000\n",
		MasterName, s.master.port, MasterName)
	if s.sentinel, err = startServer(dir, conf, []string{"--sentinel"}); err != nil {
		s.Stop()
		return nil, err
	}
	s.Addr = s.sentinel.Addr
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		addr, err := c.GetMasterAddrByName(ctx, MasterName).Result()
		cancel()
		if err == nil && len(addr) == 2 && addr[1] == strconv.Itoa(s.master.port) {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("redistest: sentinel does not report the master: %v %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops both processes and removes their directory.
func (s *Sentinel) Stop() {
	if s.sentinel != nil {
		s.sentinel.Stop()
	}
	if s.master != nil {
		s.master.Stop()
	}
	_ = os.RemoveAll(s.dir)
}

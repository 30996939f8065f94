package rediskit

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/testkit"
)

// Sentinel is a master redis-server and one Sentinel process monitoring
// it, both started by this package.
type Sentinel struct {
	Addr       string // the Sentinel's address
	MasterName string
	Master     *Server
	sentinel   *Server
	dir        string
}

// StartSentinel starts a master and a Sentinel that monitors it under
// masterName, and waits until the Sentinel reports the master's address.
// The caller stops it.
func StartSentinel(masterName string) (*Sentinel, error) {
	dir, err := os.MkdirTemp("", "strata-redis-sentinel-")
	if err != nil {
		return nil, err
	}
	s := &Sentinel{MasterName: masterName, dir: dir}
	if s.Master, err = Launch(dir, "", nil); err != nil {
		s.Stop()
		return nil, err
	}
	conf := fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 1\nsentinel down-after-milliseconds %s 5000\n",
		masterName, s.Master.Port, masterName)
	if s.sentinel, err = Launch(dir, conf, []string{"--sentinel"}); err != nil {
		s.Stop()
		return nil, err
	}
	s.Addr = s.sentinel.Addr
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		addr, err := c.GetMasterAddrByName(ctx, masterName).Result()
		cancel()
		if err == nil && len(addr) == 2 && addr[1] == strconv.Itoa(s.Master.Port) {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("rediskit: sentinel does not report master %s: %v %v", masterName, addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// NewSentinel is StartSentinel for one test: gated like every server
// test, stopped when tb ends.
func NewSentinel(tb testing.TB, masterName string) *Sentinel {
	tb.Helper()
	testkit.RedisAddr(tb)
	s, err := StartSentinel(masterName)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Stop stops both processes and removes their directory.
func (s *Sentinel) Stop() {
	if s.sentinel != nil {
		s.sentinel.Stop()
	}
	if s.Master != nil {
		s.Master.Stop()
	}
	_ = os.RemoveAll(s.dir)
}

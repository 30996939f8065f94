package rediskit_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/testkit/rediskit"
)

// TestServerFreezeThawKillStart drives a private server through every
// disruption the tests use and checks what a client sees each time.
func TestServerFreezeThawKillStart(t *testing.T) {
	t.Parallel()
	s := rediskit.StartServer(t)
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer c.Close()
	ping := func(d time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		return c.Ping(ctx).Err()
	}
	if err := ping(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.Freeze(); err != nil {
		t.Fatal(err)
	}
	if err := ping(200 * time.Millisecond); err == nil {
		t.Fatal("a frozen server answered")
	}
	if err := s.Thaw(); err != nil {
		t.Fatal(err)
	}
	if err := ping(5 * time.Second); err != nil {
		t.Fatalf("after thaw: %v", err)
	}
	s.Kill()
	if err := ping(time.Second); err == nil {
		t.Fatal("a killed server answered")
	}
	if err := s.Freeze(); !errors.Is(err, rediskit.ErrNotRunning) {
		t.Fatalf("Freeze of a stopped server: %v, want ErrNotRunning", err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := ping(5 * time.Second); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

func TestSentinelReportsItsMaster(t *testing.T) {
	t.Parallel()
	s := rediskit.NewSentinel(t, "kit-master")
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: s.MasterName, SentinelAddrs: []string{s.Addr}})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	direct := redis.NewClient(&redis.Options{Addr: s.Master.Addr})
	defer direct.Close()
	if got, err := direct.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("the master behind the Sentinel holds k = %q, %v; want v", got, err)
	}
}

var shared rediskit.Shared

func TestSharedClusterAndPrefix(t *testing.T) {
	t.Parallel()
	cl := shared.Cluster(t)
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := rediskit.Prefix(t, c, "kit-test")
	for _, k := range []string{"a", "b", "c", "d"} {
		if err := c.Set(ctx, p+k, 1, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	rediskit.DeletePrefix(c, p)
	for _, k := range []string{"a", "b", "c", "d"} {
		if n, err := c.Exists(ctx, p+k).Result(); err != nil || n != 0 {
			t.Fatalf("%s after DeletePrefix: exists=%d %v", p+k, n, err)
		}
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Shutdown()
	os.Exit(code)
}

package strata_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata"
)

// TestRedisAddrMustBeHostPort: a URL, a missing or bad port, or an empty
// list entry in RedisAddr is ErrInvalidConfig saying what it takes,
// without echoing a password; host:port lists are accepted.
func TestRedisAddrMustBeHostPort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		want string // in the error; "" = accepted
	}{
		{"redis://localhost:6379", "takes host:port"},
		{"rediss://:topsecret@cache.internal:6380/2", "not a URL"},
		{"localhost", "not host:port"},
		{"localhost:", "port number"},
		{"localhost:redis", "port number"},
		{"localhost:70000", "port number"},
		{"a:6379,,b:6379", "empty address"},
		{"a:6379,b", "not host:port"},
		{"127.0.0.1:6379", ""},
		{"[::1]:6379", ""},
		{"cache-a:7000, cache-b:7001", ""},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			ds, err := strata.NewDataStore(strata.Config{RedisAddr: tt.addr})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("NewDataStore(RedisAddr %q) = %v, want it accepted", tt.addr, err)
				}
				ds.Close()
				return
			}
			if err == nil {
				ds.Close()
				t.Fatalf("NewDataStore(RedisAddr %q) succeeded, want ErrInvalidConfig", tt.addr)
			}
			if !errors.Is(err, strata.ErrInvalidConfig) || !strings.Contains(err.Error(), "RedisAddr") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewDataStore(RedisAddr %q) = %v, want ErrInvalidConfig naming RedisAddr and saying %q", tt.addr, err, tt.want)
			}
			if strings.Contains(err.Error(), "topsecret") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestPingNamesUnreachableTiers: with neither server reachable, Ping
// returns one error naming each tier, wrapping ErrL2Unavailable and
// ErrL3Unavailable, within its context.
func TestPingNamesUnreachableTiers(t *testing.T) {
	t.Parallel()
	redisAddr := fmt.Sprintf("127.0.0.1:%d", closedPort(t))
	dsn := fmt.Sprintf("postgres://app:pw@127.0.0.1:%d/app?sslmode=disable&connect_timeout=2", closedPort(t))
	ds, err := strata.NewDataStore(strata.Config{PostgresDSN: dsn, RedisAddr: redisAddr, L3Pool: strata.L3PoolConfig{MinConns: 1, MaxConns: 2}})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	err = ds.Ping(ctx)
	if !errors.Is(err, strata.ErrL2Unavailable) || !errors.Is(err, strata.ErrL3Unavailable) {
		t.Fatalf("Ping = %v, want ErrL2Unavailable and ErrL3Unavailable", err)
	}
	for _, want := range []string{"redis at " + redisAddr, "postgresql primary"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Ping error does not say %q: %v", want, err)
		}
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Ping took %v", took)
	}
}

// TestRouteRedisLogs: go-redis's own log lines reach the Logger given to
// RouteRedisLogs, and nothing after RouteRedisLogs(nil). Not parallel:
// go-redis's logger is process-wide.
func TestRouteRedisLogs(t *testing.T) {
	lg := &captureLogger{}
	strata.RouteRedisLogs(lg)
	defer strata.RouteRedisLogs(nil)
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", closedPort(t)), MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("Ping of a closed port succeeded")
	}
	if got := lg.find("WARN", "failed to dial", "go-redis"); len(got) == 0 {
		t.Fatalf("no go-redis line reached the Logger; lines: %v", lg.all())
	}
	strata.RouteRedisLogs(nil)
	n := len(lg.all())
	_ = c.Ping(ctx).Err()
	if got := len(lg.all()); got != n {
		t.Errorf("after RouteRedisLogs(nil) the Logger still got %d lines", got-n)
	}
}

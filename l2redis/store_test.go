package l2redis_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/l2redis/internal/redistest"
)

func TestNewOptions(t *testing.T) {
	t.Parallel()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = c.Close() })
	tests := []struct {
		name    string
		client  redis.UniversalClient
		opts    *l2redis.Options
		wantErr error
	}{
		{name: "nil options are defaults", client: c, opts: nil},
		{name: "zero options are defaults", client: c, opts: &l2redis.Options{}},
		{name: "all set", client: c, opts: &l2redis.Options{DefaultTTL: time.Hour, TTLJitter: 0.2, LeaseTTL: time.Second, ScanCount: 10, GenerationPrefix: "g:", ResultPrefix: "r:"}},
		{name: "nil client", client: nil, wantErr: l2redis.ErrNilClient},
		{name: "negative ttl", client: c, opts: &l2redis.Options{DefaultTTL: -time.Second}, wantErr: l2redis.ErrInvalidOptions},
		{name: "jitter too big", client: c, opts: &l2redis.Options{TTLJitter: 0.6}, wantErr: l2redis.ErrInvalidOptions},
		{name: "jitter negative", client: c, opts: &l2redis.Options{TTLJitter: -0.1}, wantErr: l2redis.ErrInvalidOptions},
		{name: "jitter NaN", client: c, opts: &l2redis.Options{TTLJitter: math.NaN()}, wantErr: l2redis.ErrInvalidOptions},
		{name: "lease ttl too short", client: c, opts: &l2redis.Options{LeaseTTL: time.Microsecond}, wantErr: l2redis.ErrInvalidOptions},
		{name: "negative scan count", client: c, opts: &l2redis.Options{ScanCount: -1}, wantErr: l2redis.ErrInvalidOptions},
		{name: "same prefixes", client: c, opts: &l2redis.Options{GenerationPrefix: "x", ResultPrefix: "x"}, wantErr: l2redis.ErrInvalidOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := l2redis.New(tt.client, tt.opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("New error = %v, want %v", err, tt.wantErr)
			}
			if err == nil && s.Client() != tt.client {
				t.Errorf("Client() is not the client given")
			}
		})
	}
}

// TestUnavailable needs no server: every call against a closed port fails
// with ErrUnavailable wrapping the cause.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	s, err := l2redis.Open(l2redis.Config{Addr: "127.0.0.1:1", MaxRetries: -1}, &l2redis.Options{BreakerCooldown: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := testCtx(t) // outlives the parallel subtests
	calls := []struct {
		name string
		call func() error
	}{
		{"Ping", func() error { return s.Ping(ctx) }},
		{"Get", func() error { _, err := s.Get(ctx, "k"); return err }},
		{"MGet", func() error { _, err := s.MGet(ctx, []string{"a", "b"}); return err }},
		{"Set", func() error { return s.Set(ctx, "k", []byte("v"), 0) }},
		{"SetMany", func() error { return s.SetMany(ctx, []l2redis.Item{{Key: "k"}}) }},
		{"Delete", func() error { return s.Delete(ctx, "k") }},
		{"DeletePrefix", func() error { _, err := s.DeletePrefix(ctx, "p:"); return err }},
		{"TTL", func() error { _, err := s.TTL(ctx, "k"); return err }},
		{"GetOrLease", func() error { _, _, err := s.GetOrLease(ctx, "k"); return err }},
		{"BumpGeneration", func() error { _, err := s.BumpGeneration(ctx, "ns"); return err }},
	}
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.call()
			if !errors.Is(err, l2redis.ErrUnavailable) {
				t.Errorf("%s error = %v, want ErrUnavailable", tt.name, err)
			}
			if errors.Is(err, l2redis.ErrBreakerOpen) {
				t.Errorf("%s error = %v with the breaker disabled", tt.name, err)
			}
		})
	}
}

func TestOpenConfig(t *testing.T) {
	t.Parallel()
	if _, err := l2redis.Open(l2redis.Config{}, nil); !errors.Is(err, l2redis.ErrInvalidOptions) {
		t.Errorf("Open(empty addr) = %v, want ErrInvalidOptions", err)
	}
	if _, err := l2redis.Open(l2redis.Config{Addr: "x:1"}, &l2redis.Options{ScanCount: -1}); !errors.Is(err, l2redis.ErrInvalidOptions) {
		t.Errorf("Open(bad options) = %v, want ErrInvalidOptions", err)
	}
}

func TestOpenServers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  func(t *testing.T) l2redis.Config
	}{
		{"standalone", func(t *testing.T) l2redis.Config { return l2redis.Config{Addr: redistest.Addr(t)} }},
		{"cluster", func(t *testing.T) l2redis.Config {
			cl := redistest.SharedCluster(t)
			return l2redis.Config{Addr: cl.Addrs[0] + ", " + cl.Addrs[1]}
		}},
		{"sentinel", func(t *testing.T) l2redis.Config {
			sn := redistest.SharedSentinel(t)
			return l2redis.Config{Addr: sn.Addr, MasterName: sn.MasterName}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg(t)
			cfg.PoolSize = 4
			s, err := l2redis.Open(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx := testCtx(t)
			if err := s.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			p := "l2redis-test:" + redistest.RandomID() + ":"
			if err := s.Set(ctx, p+"k", []byte("v"), 0); err != nil {
				t.Fatal(err)
			}
			if got, err := s.Get(ctx, p+"k"); err != nil || string(got) != "v" {
				t.Fatalf("Get = %q, %v", got, err)
			}
			if err := s.Delete(ctx, p+"k"); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			// Open's Store owns its client: Close closed it.
			if err := s.Ping(ctx); !errors.Is(err, l2redis.ErrUnavailable) {
				t.Errorf("Ping after Close = %v, want ErrUnavailable", err)
			}
		})
	}
}

// TestBreaker trips the breaker against a private server, checks that calls
// then fail at once, and that the first call after the cool-down that
// reaches Redis closes it again.
func TestBreaker(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	s, err := l2redis.Open(l2redis.Config{Addr: srv.Addr, MaxRetries: -1},
		&l2redis.Options{BreakerFailures: 2, BreakerCooldown: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := testCtx(t)
	p := redistest.Prefix(t, s.Client())
	if err := s.Set(ctx, p+"k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	for i := range 2 {
		if _, err := s.Get(ctx, p+"k"); !errors.Is(err, l2redis.ErrUnavailable) || errors.Is(err, l2redis.ErrBreakerOpen) {
			t.Fatalf("call %d with Redis down = %v, want ErrUnavailable from the network", i, err)
		}
	}
	start := time.Now()
	for range 100 {
		if _, err := s.Get(ctx, p+"k"); !errors.Is(err, l2redis.ErrBreakerOpen) || !errors.Is(err, l2redis.ErrUnavailable) {
			t.Fatalf("call with the breaker open = %v, want ErrBreakerOpen and ErrUnavailable", err)
		}
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("100 calls with the breaker open took %v; they should fail at once", d)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(350 * time.Millisecond)
	if err := s.Set(ctx, p+"k", []byte("back"), 0); err != nil {
		t.Fatalf("probe after the cool-down = %v, want success", err)
	}
	if v, err := s.Get(ctx, p+"k"); err != nil || string(v) != "back" {
		t.Errorf("Get after recovery = %q, %v", v, err)
	}
}

// TestBreakerOff: a negative cool-down disables the breaker.
func TestBreakerOff(t *testing.T) {
	t.Parallel()
	s, err := l2redis.Open(l2redis.Config{Addr: "127.0.0.1:1", MaxRetries: -1}, &l2redis.Options{BreakerFailures: 1, BreakerCooldown: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	for range 3 {
		if _, err := s.Get(context.Background(), "k"); errors.Is(err, l2redis.ErrBreakerOpen) {
			t.Fatalf("Get = %v with the breaker disabled", err)
		}
	}
}

// TestDeadlineHonoured: against a server that stops answering, a call
// returns when its context's deadline passes, not after go-redis's 5s read
// timeout, and the error is the context's.
func TestDeadlineHonoured(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	s, err := l2redis.Open(l2redis.Config{Addr: srv.Addr, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Ping(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = admin.Close() })
	if err := admin.Do(testCtx(t), "CLIENT", "PAUSE", 2000, "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = s.Get(ctx, "k")
	if d := time.Since(start); d > time.Second {
		t.Errorf("Get returned after %v; the deadline was 200ms", d)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get error = %v, want context.DeadlineExceeded", err)
	}
}

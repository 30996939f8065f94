package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
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
	args []string

	mu  sync.Mutex
	cmd *exec.Cmd
}

// StartRedisServer is StartRedis returning the handle to the process.
func StartRedisServer(t testing.TB) *RedisServer {
	t.Helper()
	RedisAddr(t) // same gating as the shared server
	port := freePort(t)
	r := &RedisServer{
		Addr: fmt.Sprintf("127.0.0.1:%d", port),
		t:    t,
		args: []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", t.TempDir()},
	}
	t.Cleanup(r.kill)
	r.Start()
	return r
}

// Start starts the server (again) on its port and waits until it answers.
func (r *RedisServer) Start() {
	r.t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		r.t.Fatalf("redis-server not found (make stack-up installs it): %v", err)
	}
	r.mu.Lock()
	if r.cmd == nil {
		r.cmd = exec.Command(bin, r.args...)
		if err := r.cmd.Start(); err != nil {
			r.cmd = nil
			r.mu.Unlock()
			r.t.Fatal(err)
		}
	}
	r.mu.Unlock()
	waitPing(r.t, r.Addr)
}

// Stop kills the server at once (SIGKILL: connections are reset, nothing is
// saved) and waits for it to exit.
func (r *RedisServer) Stop() { r.kill() }

func (r *RedisServer) kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// Freeze stops the server process with SIGSTOP: connections stay open but
// nothing answers, as with a hung server or a network dropping packets.
func (r *RedisServer) Freeze() { r.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server with SIGCONT.
func (r *RedisServer) Thaw() { r.signal(syscall.SIGCONT) }

func (r *RedisServer) signal(sig syscall.Signal) {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		r.t.Fatal("redis-server is not running")
	}
	if err := r.cmd.Process.Signal(sig); err != nil {
		r.t.Fatal(err)
	}
}

// StartSentinel starts a master redis-server and one Sentinel monitoring it
// under masterName, and returns the Sentinel's address.
func StartSentinel(t testing.TB, masterName string) string {
	t.Helper()
	master := StartRedis(t)
	_, mport, _ := net.SplitHostPort(master)
	port := freePort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("port %d\nbind 127.0.0.1\nsentinel monitor %s 127.0.0.1 %s 1\n", port, masterName, mport)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	startRedisProcess(t, conf, "--sentinel")
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	c := redis.NewSentinelClient(&redis.Options{Addr: addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		got, err := c.GetMasterAddrByName(ctx, masterName).Result()
		cancel()
		if err == nil && len(got) == 2 && got[1] == mport {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("sentinel on %s does not report master %s: %v %v", addr, masterName, got, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedisProcess runs redis-server with args until the test ends.
func startRedisProcess(t testing.TB, args ...string) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found (make stack-up installs it): %v", err)
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
}

// waitPing waits until the redis-server at addr answers.
func waitPing(t testing.TB, addr string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not answer: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

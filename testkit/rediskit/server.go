package rediskit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/testkit"
)

// Server is a redis-server process of the test's own, on a loopback port
// of its own, so a test may stop, kill, freeze or restart it without
// touching any server another test uses. Freeze, Thaw and Kill reach every
// process of the server (a save forks a child). It keeps nothing on disk:
// a restart comes back empty, on the same port.
type Server struct {
	Addr string
	Port int
	dir  string
	args []string
	// ready makes the client whose PING says the server is up (nil: a
	// plain client of Addr).
	ready *redis.Options

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartServer starts a private redis-server, stopped when tb ends. Like
// every server test it needs STRATA_REDIS_ADDR: that is how a run says
// servers are available.
func StartServer(tb testing.TB) *Server {
	tb.Helper()
	testkit.RedisAddr(tb)
	s, err := Launch(tb.TempDir(), "", nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Kill)
	return s
}

// StartWith starts redis-server with args alone — none of BaseArgs, so the
// caller says where it listens (a unix socket, a TLS port), what it asks of
// clients and where it keeps files — and waits until a client made from
// ready (its address, TLS, password) gets PONG. Like StartServer it is
// gated by testkit.RedisAddr, stopped when tb ends, and may be frozen,
// killed and started again.
func StartWith(tb testing.TB, ready *redis.Options, args ...string) *Server {
	tb.Helper()
	testkit.RedisAddr(tb)
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatalf("%v (apt package redis-server; make stack-up installs it): %v", ErrNoRedisServer, err)
	}
	s := &Server{Addr: ready.Addr, args: append([]string{bin, "--daemonize", "no"}, args...), ready: ready}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") { // a config file must come first
		s.args = append([]string{bin, args[0], "--daemonize", "no"}, args[1:]...)
	}
	if err := s.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Kill)
	return s
}

// BaseArgs are the arguments every redis-server of the kit and of the
// devstack gets: port, loopback only, no persistence, log file in dir
// ([testkit.RedisArgs]).
func BaseArgs(port int, dir string) []string { return testkit.RedisArgs(port, dir) }

// Launch starts redis-server in dir with extra arguments, retrying on
// another port if the one it picked was taken meanwhile. A non-empty conf
// is written to a config file passed first, as Sentinel requires. The
// caller stops the server.
func Launch(dir, conf string, extra []string) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("%w (apt package redis-server; make stack-up installs it): %w", ErrNoRedisServer, err)
	}
	var lastErr error
	for range 5 {
		port, err := testkit.FreeClusterPort()
		if err != nil {
			return nil, err
		}
		s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), Port: port, dir: dir}
		s.args = append(BaseArgs(port, dir), append([]string{"--daemonize", "no"}, extra...)...)
		head := []string{bin}
		if conf != "" {
			file := filepath.Join(dir, "redis-"+strconv.Itoa(port)+".conf")
			if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
				return nil, err
			}
			head = append(head, file)
		}
		s.args = append(head, s.args...)
		if lastErr = s.Start(); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

// ErrNoRedisServer means the redis-server program is not installed.
var ErrNoRedisServer = errors.New("rediskit: redis-server not found")

// Start (re)starts the server on its port (after Stop or Kill) and waits
// until it answers PING. It does nothing when the server runs.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	cmd := exec.Command(s.args[0], s.args[1:]...)
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("rediskit: start redis-server: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	ready := s.ready
	if ready == nil {
		ready = &redis.Options{Addr: s.Addr}
	}
	if err := waitReady(ready, exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		var log []byte
		if s.dir != "" {
			log, _ = os.ReadFile(filepath.Join(s.dir, "redis-"+strconv.Itoa(s.Port)+".log"))
		}
		return fmt.Errorf("rediskit: redis-server on %s: %w\n%s", s.Addr, err, log)
	}
	s.cmd = cmd
	s.exited = exited
	return nil
}

// Stop stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it
// to exit. It stops only the process this Server started.
func (s *Server) Stop() { s.stop(syscall.SIGTERM) }

// Kill kills the server and every process it forked at once (SIGKILL:
// connections are reset, nothing is saved) and waits until they are gone.
func (s *Server) Kill() { s.stop(syscall.SIGKILL) }

func (s *Server) stop(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	pid := s.cmd.Process.Pid
	if sig == syscall.SIGKILL {
		_ = testkit.KillTree(pid, 10*time.Second)
	} else {
		_ = testkit.SignalTree(pid, syscall.SIGCONT) // a frozen server cannot act on SIGTERM
		_ = s.cmd.Process.Signal(sig)
	}
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = testkit.KillTree(pid, 10*time.Second)
		<-s.exited
	}
	s.cmd = nil
}

// ErrNotRunning is returned by Freeze and Thaw when the server is stopped
// (the kit's one sentinel for it, testkit.ErrNotRunning).
var ErrNotRunning = testkit.ErrNotRunning

// Freeze stops the server and every process it forked with SIGSTOP:
// connections stay open but nothing answers, as with a hung server or a
// network dropping packets.
func (s *Server) Freeze() error { return s.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server with SIGCONT.
func (s *Server) Thaw() error { return s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return ErrNotRunning
	}
	return testkit.SignalTree(s.cmd.Process.Pid, sig)
}

// Running returns the server's pid while it runs, else 0.
func (s *Server) Running() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// pingWait bounds the wait for a server to answer PING: generous, for a
// loaded machine.
const pingWait = 30 * time.Second

// WaitPing waits up to 30 s until the redis-server at addr answers PING.
func WaitPing(addr string) error { return waitReady(&redis.Options{Addr: addr}, nil) }

// waitReady waits until a client made from opts (without retries) gets
// PONG, or the server exits.
func waitReady(opts *redis.Options, exited <-chan struct{}) error {
	o := *opts
	o.MaxRetries, o.DialTimeout = -1, time.Second
	c := redis.NewClient(&o)
	defer c.Close()
	deadline := time.Now().Add(pingWait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return errors.New("exited during start-up")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PONG within %v: %w", pingWait, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

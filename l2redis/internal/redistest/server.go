package redistest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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

// maxPort keeps a cluster node's bus port (port + 10000) within range.
const maxPort = 55535

// Server is a redis-server process this package started, on a loopback port
// of its own, so a test may stop, restart or disrupt it without touching any
// server another test uses.
type Server struct {
	Addr string
	port int
	dir  string
	args []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartServer starts a private redis-server, stopped when t ends. Like every
// server test it needs STRATA_REDIS_ADDR: that is how a test run says servers
// are available.
func StartServer(t testing.TB) *Server {
	t.Helper()
	Addr(t)
	s, err := startServer(t.TempDir(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// startServer starts redis-server in dir with extra arguments, retrying on
// another port if the one it picked was taken meanwhile. A non-empty conf is
// written to a config file passed first, as Sentinel requires.
func startServer(dir, conf string, extra []string) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redistest: redis-server not found (apt package redis-server): %w", err)
	}
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), port: port, dir: dir}
		s.args = append([]string{
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--dir", dir, "--save", "", "--appendonly", "no",
			"--daemonize", "no", "--protected-mode", "no",
			"--logfile", filepath.Join(dir, "redis-"+strconv.Itoa(port)+".log"),
		}, extra...)
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

// freePort picks a random loopback port no higher than maxPort whose
// cluster bus port (+10000) is free too.
func freePort() (int, error) {
	for range 100 {
		port := 20000 + rand.IntN(maxPort-20000)
		l1, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
		_ = l1.Close()
		if err != nil {
			continue
		}
		_ = l2.Close()
		return port, nil
	}
	return 0, errors.New("redistest: no free port found")
}

// Start (re)starts the server on its port and waits until it answers PING.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	cmd := exec.Command(s.args[0], s.args[1:]...)
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redistest: start redis-server: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	if err := waitPing(s.Addr, exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		log, _ := os.ReadFile(filepath.Join(s.dir, "redis-"+strconv.Itoa(s.port)+".log"))
		return fmt.Errorf("redistest: redis-server on %s: %w\n%s", s.Addr, err, log)
	}
	s.cmd = cmd
	s.exited = exited
	return nil
}

// Stop stops the server (SIGTERM, then SIGKILL after 5s) and waits for it
// to exit. It stops only the process this Server started.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

func waitPing(addr string, exited <-chan struct{}) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
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
			return fmt.Errorf("no PONG within 10s: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var sharedServer struct {
	once sync.Once
	s    *Server
	dir  string
	err  error
}

// SharedServer returns a private redis-server for the whole test binary,
// started on first use and stopped by [Shutdown]. Benchmarks use it so that
// other users of the devstack server do not add to their noise.
func SharedServer(t testing.TB) *Server {
	t.Helper()
	Addr(t)
	sharedServer.once.Do(func() {
		sharedServer.dir, sharedServer.err = os.MkdirTemp("", "l2redis-server-")
		if sharedServer.err == nil {
			sharedServer.s, sharedServer.err = startServer(sharedServer.dir, "", nil)
		}
	})
	if sharedServer.err != nil {
		t.Fatal(sharedServer.err)
	}
	return sharedServer.s
}

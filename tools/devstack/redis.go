package devstack

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/AndrewDonelson/strata/testkit"
)

// startRedis starts redis-server on a free loopback port with no persistence.
func (s *Stack) startRedis(ctx context.Context) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if err := s.installer.install(ctx, "redis-server"); err != nil {
			return nil, err
		}
		if bin, err = exec.LookPath("redis-server"); err != nil {
			return nil, fmt.Errorf("devstack: redis-server still not found after installing it: %w", err)
		}
	}
	root, err := os.MkdirTemp("", "strata-redis-")
	if err != nil {
		return nil, fmt.Errorf("devstack: create redis directory: %w", err)
	}
	// The kit's launcher: its arguments (loopback, no persistence, log in
	// root), as a daemon that outlives this process.
	addr, pid, err := testkit.RedisDaemon(ctx, bin, root)
	if err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	return &Server{PID: pid, Port: p, Root: root, Addr: addr}, nil
}

// checkRedis verifies the recorded process is alive and answers PING.
func checkRedis(ctx context.Context, srv *Server) error {
	if !running(srv.PID, "redis-server") {
		return fmt.Errorf("redis-server (pid %d) is not running", srv.PID)
	}
	return testkit.PingRedis(ctx, srv.Addr)
}

func (s *Stack) stopRedis(srv *Server) error {
	err := stopProcess(srv.PID, "redis-server", syscall.SIGTERM, 10*time.Second)
	if err == nil && srv.Root != "" && strings.HasPrefix(filepath.Base(srv.Root), "strata-redis-") {
		os.RemoveAll(srv.Root)
	}
	return err
}

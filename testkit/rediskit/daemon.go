package rediskit

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/AndrewDonelson/strata/testkit"
)

// Daemon starts bin (a redis-server) in dir as a daemon that outlives this
// process — the devstack's server — with the kit's arguments (BaseArgs)
// and a pid file, on a free loopback port (another if the start fails: the
// port may have been taken meanwhile), and waits up to 30 s until it
// answers PING. It returns the server's address and pid; stopping it is
// the caller's.
func Daemon(ctx context.Context, bin, dir string) (addr string, pid int, err error) {
	pidFile := filepath.Join(dir, "redis.pid")
	for attempt := 0; attempt < 3; attempt++ {
		var port int
		if port, err = testkit.FreePort(); err != nil {
			return "", 0, err
		}
		addr = "127.0.0.1:" + strconv.Itoa(port)
		args := append(BaseArgs(port, dir), "--daemonize", "yes", "--pidfile", pidFile)
		if err = testkit.Run(exec.CommandContext(ctx, bin, args...)); err != nil {
			continue
		}
		if pid, err = waitDaemon(ctx, addr, pidFile); err == nil {
			return addr, pid, nil
		}
		if pid > 0 {
			_ = testkit.KillTree(pid, 10*time.Second)
		}
		err = fmt.Errorf("%w\n(log: %s)", err, testkit.Tail(filepath.Join(dir, "redis-"+strconv.Itoa(port)+".log")))
	}
	return "", 0, err
}

// waitDaemon waits until the daemon has written its pid file and answers
// PING, and returns its pid (0 if the file never appeared).
func waitDaemon(ctx context.Context, addr, pidFile string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, pingWait)
	defer cancel()
	pid := 0
	for {
		if b, err := os.ReadFile(pidFile); err == nil {
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		if pid > 0 && syscall.Kill(pid, 0) != nil {
			return 0, fmt.Errorf("rediskit: redis-server (pid %d) exited during start-up", pid)
		}
		if pid > 0 {
			if err := WaitPing(addr); err == nil {
				return pid, nil
			}
		}
		select {
		case <-ctx.Done():
			return pid, fmt.Errorf("rediskit: redis-server on %s not ready within %v (pid file %s: pid %d)", addr, pingWait, pidFile, pid)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

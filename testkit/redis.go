package testkit

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// RedisArgs are the arguments every redis-server of the kit and of the
// devstack gets: port, loopback only, no persistence, log file in dir.
func RedisArgs(port int, dir string) []string {
	return []string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--dir", dir, "--save", "", "--appendonly", "no",
		"--protected-mode", "no",
		"--logfile", filepath.Join(dir, "redis-"+strconv.Itoa(port)+".log"),
	}
}

// redisStartWait bounds the wait for a starting redis-server to answer
// PING: generous, for a loaded machine.
const redisStartWait = 30 * time.Second

// RedisDaemon starts bin (a redis-server) in dir as a daemon that outlives
// this process — the devstack's server — with [RedisArgs] and a pid file,
// on a free loopback port (another if the start fails: the port may have
// been taken meanwhile), and waits up to 30 s until it answers PING. It
// returns the server's address and pid; stopping it is the caller's. It
// lives here rather than in rediskit, and pings with [PingRedis] rather
// than go-redis, so that tools/devstack, which make test builds before
// anything else of the integration phase, does not compile go-redis on
// its own first.
func RedisDaemon(ctx context.Context, bin, dir string) (addr string, pid int, err error) {
	pidFile := filepath.Join(dir, "redis.pid")
	for attempt := 0; attempt < 3; attempt++ {
		var port int
		if port, err = FreePort(); err != nil {
			return "", 0, err
		}
		addr = "127.0.0.1:" + strconv.Itoa(port)
		args := append(RedisArgs(port, dir), "--daemonize", "yes", "--pidfile", pidFile)
		if err = Run(exec.CommandContext(ctx, bin, args...)); err != nil {
			continue
		}
		if pid, err = waitRedisDaemon(ctx, addr, pidFile); err == nil {
			return addr, pid, nil
		}
		if pid > 0 {
			_ = KillTree(pid, 10*time.Second)
		}
		err = fmt.Errorf("%w\n(log: %s)", err, Tail(filepath.Join(dir, "redis-"+strconv.Itoa(port)+".log")))
	}
	return "", 0, err
}

// waitRedisDaemon waits until the daemon has written its pid file and
// answers PING, and returns its pid (0 if the file never appeared).
func waitRedisDaemon(ctx context.Context, addr, pidFile string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, redisStartWait)
	defer cancel()
	pid := 0
	for {
		if b, err := os.ReadFile(pidFile); err == nil {
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		if pid > 0 && !Alive(pid) {
			return 0, fmt.Errorf("testkit: redis-server (pid %d) exited during start-up", pid)
		}
		if pid > 0 && PingRedis(ctx, addr) == nil {
			return pid, nil
		}
		select {
		case <-ctx.Done():
			return pid, fmt.Errorf("testkit: redis-server on %s not ready within %v (pid file %s: pid %d)", addr, redisStartWait, pidFile, pid)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// PingRedis sends an inline PING to the redis-server at addr and returns
// nil when it answers +PONG within 2 s. It needs no client library, and
// suits a server that asks no password, as the kit's and the devstack's do.
func PingRedis(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if reply := strings.TrimSpace(line); reply != "+PONG" {
		return fmt.Errorf("testkit: redis at %s answered %q to PING", addr, reply)
	}
	return nil
}

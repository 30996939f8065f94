package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// The suite starts its own PostgreSQL and Redis so that it may freeze, kill
// and restart them; it never touches the shared devstack. These launchers are
// small on purpose: tools/devstack starts daemons in fresh directories and
// cannot restart one on its data, and its helpers are not exported (the
// structure issue's server-test kit will hold one launcher for all).

// ErrNoServerBinaries means PostgreSQL's or Redis's programs are not installed.
var ErrNoServerBinaries = errors.New("chaos: server binaries not found")

// proc is one server process started in its own process group, so that a
// signal reaches the server and every process it forked.
type proc struct {
	name string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *proc) start(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("chaos: start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	return nil
}

// signal sends sig to the whole process group and to every descendant of
// the server: PostgreSQL's children each call setsid, so they leave the
// group and a signal to it reaches the postmaster alone — a SIGSTOP would
// leave the backends answering, a SIGKILL would leave them attached to the
// shared memory the next postmaster refuses to start on. The group is
// signalled first, so a stopped or killed server forks no child between
// the listing and the signal.
func (p *proc) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return fmt.Errorf("chaos: %s is not running", p.name)
	}
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("chaos: signal %v to %s: %w", sig, p.name, err)
	}
	for _, pid := range descendants(p.cmd.Process.Pid) {
		_ = syscall.Kill(pid, sig) // one may have exited meanwhile
	}
	return nil
}

// descendants lists the processes below root, from /proc (none where there
// is no /proc).
func descendants(root int) []int {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _, ok := procStat(pid); ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	var out []int
	for queue := []int{root}; len(queue) > 0; queue = queue[1:] {
		out = append(out, children[queue[0]]...)
		queue = append(queue, children[queue[0]]...)
	}
	return out
}

// procStat reads a process's parent and state from /proc/pid/stat.
func procStat(pid int) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces and parentheses
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, f[0][0], err == nil
}

// gone reports whether pid has exited (a zombie has: it holds no memory).
func gone(pid int) bool {
	_, state, ok := procStat(pid)
	return !ok || state == 'Z' || state == 'X'
}

// kill SIGKILLs the group and waits until the server and its children are
// gone.
func (p *proc) kill() error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGSTOP) // no more forks, then list what it forked
	kids := descendants(pgid)
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	for _, pid := range kids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	<-done
	deadline := time.Now().Add(30 * time.Second)
	for { // children reparented to init die too
		alive := syscall.Kill(-pgid, 0) == nil
		for _, pid := range kids {
			alive = alive || !gone(pid)
		}
		if !alive {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("chaos: %s: processes of group %d or its children %v survive SIGKILL", p.name, pgid, kids)
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.mu.Lock()
	p.cmd = nil
	p.mu.Unlock()
	return nil
}

// stop sends sig (a graceful stop), waits up to grace, then kills.
func (p *proc) stop(sig syscall.Signal, grace time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGCONT) // a paused server cannot stop
	_ = syscall.Kill(cmd.Process.Pid, sig)
	select {
	case <-done:
	case <-time.After(grace):
	}
	return p.kill()
}

// serverPort picks a free loopback port below the kernel's ephemeral range.
// A server the suite restarts must get its port back, and an ephemeral port
// may meanwhile become the local end of some outgoing connection (the
// proxies open thousands), which would keep the server from listening.
func serverPort() (int, error) {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	if low <= 12000 {
		low = 32768 // an odd range: fall back to the usual one
	}
	for range 200 {
		port := 10000 + rand.IntN(low-10000)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			l.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("chaos: no free loopback port between 10000 and %d", low)
}

// asPostgresUser makes cmd run as the postgres system user when this
// process is root (PostgreSQL refuses to run as root).
func asPostgresUser(cmd *exec.Cmd, cred *syscall.Credential) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
}

// Postgres is a PostgreSQL server the suite owns.
type Postgres struct {
	proc
	bin, root, data string
	port            int
	cred            *syscall.Credential
	log             *os.File
}

// StartPostgres initialises a cluster in a new temporary directory and
// starts it on a free loopback port: fsync off (the machine does not crash),
// synchronous_commit on (a killed server must keep what it acknowledged),
// logical replication on for the change feed.
func StartPostgres(ctx context.Context) (*Postgres, error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp("", "strata-chaos-pg-")
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	p := &Postgres{proc: proc{name: "postgres"}, bin: bin, root: root, data: filepath.Join(root, "data")}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(root)
			return nil, fmt.Errorf("%w: PostgreSQL refuses to run as root and there is no postgres user: %v", ErrNoServerBinaries, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(root, uid, gid); err != nil {
			os.RemoveAll(root)
			return nil, fmt.Errorf("chaos: %w", err)
		}
	}
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", p.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	asPostgresUser(initdb, p.cred)
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(root)
		return nil, fmt.Errorf("chaos: initdb: %w\n%s", err, out)
	}
	if p.port, err = serverPort(); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	if p.log, err = os.Create(filepath.Join(root, "postgres.log")); err != nil {
		os.RemoveAll(root)
		return nil, fmt.Errorf("chaos: %w", err)
	}
	if err := p.Start(ctx); err != nil {
		p.Cleanup()
		return nil, err
	}
	return p, nil
}

func postgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("%w: no postgres under /usr/lib/postgresql/*/bin or on PATH (make stack-up installs it)", ErrNoServerBinaries)
}

// Addr is the server's host:port.
func (p *Postgres) Addr() string { return fmt.Sprintf("127.0.0.1:%d", p.port) }

// DSN connects straight to the server (not through a proxy).
func (p *Postgres) DSN() string { return DSNFor(p.Addr()) }

// DSNFor is the suite's connection string for a server or proxy address.
func DSNFor(addr string) string {
	return "postgres://postgres@" + addr + "/postgres?sslmode=disable&connect_timeout=5"
}

// Start starts the server on its data directory and port (again, after
// Kill) and waits until it answers.
func (p *Postgres) Start(ctx context.Context) error {
	cmd := exec.Command(filepath.Join(p.bin, "postgres"), "-D", p.data, "-p", strconv.Itoa(p.port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+p.root,
		"-c", "fsync=off",
		"-c", "synchronous_commit=on",
		"-c", "full_page_writes=off",
		"-c", "max_connections=300",
		"-c", "wal_level=logical",
		"-c", "max_replication_slots=20",
		"-c", "max_wal_senders=20",
		"-c", "wal_writer_delay=10ms")
	asPostgresUser(cmd, p.cred)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := p.start(cmd); err != nil {
		return err
	}
	err := waitReady(ctx, "postgres", 60*time.Second, func(ctx context.Context) error {
		select {
		case <-p.done:
			return errStopped
		default:
		}
		c, err := pgx.Connect(ctx, p.DSN())
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		return c.Ping(ctx)
	})
	if err != nil {
		return fmt.Errorf("%w\n(log: %s)", err, logTail(filepath.Join(p.root, "postgres.log")))
	}
	return nil
}

// logTail returns the last lines of a server's log, for error messages.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-10):], "\n")
}

var errStopped = errors.New("the process exited")

// Pause freezes the server and every backend (SIGSTOP).
func (p *Postgres) Pause() error { return p.signal(syscall.SIGSTOP) }

// Resume thaws it (SIGCONT).
func (p *Postgres) Resume() error { return p.signal(syscall.SIGCONT) }

// Kill SIGKILLs the postmaster and every backend. It then removes the lock
// files a dead postmaster leaves (they name its pid, which another process
// may have taken by the time the server restarts, and PostgreSQL would then
// refuse to start); crash recovery does not need them.
func (p *Postgres) Kill() error {
	if err := p.kill(); err != nil {
		return err
	}
	for _, f := range []string{filepath.Join(p.data, "postmaster.pid"), filepath.Join(p.root, fmt.Sprintf(".s.PGSQL.%d.lock", p.port))} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("chaos: %w", err)
		}
	}
	return nil
}

// Cleanup stops the server and removes its directory.
func (p *Postgres) Cleanup() {
	_ = p.stop(syscall.SIGINT, 20*time.Second) // fast shutdown
	if p.log != nil {
		p.log.Close()
	}
	os.RemoveAll(p.root)
}

// Redis is a redis-server the suite owns, without persistence: a restart
// empties it, as a cache that lost its memory.
type Redis struct {
	proc
	bin, root string
	port      int
	log       *os.File
}

// StartRedis starts redis-server on a free loopback port.
func StartRedis(ctx context.Context) (*Redis, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("%w: no redis-server on PATH (make stack-up installs it)", ErrNoServerBinaries)
	}
	root, err := os.MkdirTemp("", "strata-chaos-redis-")
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	r := &Redis{proc: proc{name: "redis-server"}, bin: bin, root: root}
	if r.port, err = serverPort(); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	if r.log, err = os.Create(filepath.Join(root, "redis.log")); err != nil {
		os.RemoveAll(root)
		return nil, fmt.Errorf("chaos: %w", err)
	}
	if err := r.Start(ctx); err != nil {
		r.Cleanup()
		return nil, err
	}
	return r, nil
}

// Addr is the server's host:port.
func (r *Redis) Addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }

// Start starts the server on its port (again, after Kill) and waits until it
// answers.
func (r *Redis) Start(ctx context.Context) error {
	cmd := exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.root)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout, cmd.Stderr = r.log, r.log
	if err := r.start(cmd); err != nil {
		return err
	}
	err := waitReady(ctx, "redis-server", 30*time.Second, func(ctx context.Context) error {
		select {
		case <-r.done:
			return errStopped
		default:
		}
		c := r.Client()
		defer c.Close()
		return c.Ping(ctx).Err()
	})
	if err != nil {
		return fmt.Errorf("%w\n(log: %s)", err, logTail(filepath.Join(r.root, "redis.log")))
	}
	return nil
}

// Client is a direct client of the server (not through a proxy).
func (r *Redis) Client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: r.Addr(), MaxRetries: -1, DialTimeout: time.Second,
		ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second, ContextTimeoutEnabled: true})
}

// Pause freezes the server (SIGSTOP).
func (r *Redis) Pause() error { return r.signal(syscall.SIGSTOP) }

// Resume thaws it (SIGCONT).
func (r *Redis) Resume() error { return r.signal(syscall.SIGCONT) }

// Kill SIGKILLs the server.
func (r *Redis) Kill() error { return r.kill() }

// Cleanup stops the server and removes its directory.
func (r *Redis) Cleanup() {
	_ = r.stop(syscall.SIGTERM, 10*time.Second)
	if r.log != nil {
		r.log.Close()
	}
	os.RemoveAll(r.root)
}

// waitReady polls check until it succeeds, the process exits, or limit passes.
func waitReady(ctx context.Context, what string, limit time.Duration, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var last error
	for {
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		last = check(cctx)
		ccancel()
		if last == nil {
			return nil
		}
		if errors.Is(last, errStopped) {
			return fmt.Errorf("chaos: %s exited while starting", what)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("chaos: %s did not answer within %v: %w", what, limit, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

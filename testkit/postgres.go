package testkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EnvPostgresBin, when set, names the directory holding the PostgreSQL
// server binaries (initdb, pg_ctl, pg_basebackup).
const EnvPostgresBin = "STRATA_PG_BIN"

// ErrNoPostgresBinaries means the PostgreSQL server binaries were not found.
var ErrNoPostgresBinaries = errors.New("testkit: PostgreSQL server binaries not found")

// PostgresBinDir returns the directory holding all of names (initdb,
// pg_ctl, ...): $STRATA_PG_BIN, else the newest
// /usr/lib/postgresql/<major>/bin, else the directory of the first name on
// PATH.
func PostgresBinDir(names ...string) (string, error) {
	if len(names) == 0 {
		names = []string{"initdb", "pg_ctl", "postgres"}
	}
	var dirs []string
	if d := os.Getenv(EnvPostgresBin); d != "" {
		dirs = append(dirs, d)
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(found, func(i, j int) bool { return major(found[i]) > major(found[j]) })
	dirs = append(dirs, found...)
	if p, err := exec.LookPath(names[0]); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(real))
		}
	}
	for _, d := range dirs {
		if hasAll(d, names...) {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w: no directory holds %s (set %s, or install the postgresql package: make stack-up does)",
		ErrNoPostgresBinaries, strings.Join(names, ", "), EnvPostgresBin)
}

func major(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func hasAll(dir string, names ...string) bool {
	for _, n := range names {
		if st, err := os.Stat(filepath.Join(dir, n)); err != nil || st.IsDir() {
			return false
		}
	}
	return true
}

// PGCluster is a PostgreSQL data directory of its own, run by pg_ctl on a
// loopback port: the throw-away servers of the tests that stop PostgreSQL,
// the fault suite's server, and the devstack's server. A test may freeze,
// thaw and kill the whole server — the postmaster and every backend — and
// start it again in place, on the same port and data directory.
type PGCluster struct {
	Bin   string // directory of initdb and pg_ctl
	Root  string // holds data/, postgres.log and the Unix socket
	RunAs string // system user the server runs as ("" = current)
	Port  int    // 0 until Start picks a free one
	// Settings are extra server settings, "name=value", passed with -c.
	Settings []string

	mu  sync.Mutex
	pid int // the running postmaster's, 0 when stopped or killed
}

// InitPG creates a cluster in root (which must exist and be empty but for
// what the caller put there): initdb with trust authentication for the
// user postgres, UTF-8, locale C, no fsync.
func InitPG(ctx context.Context, root string) (*PGCluster, error) {
	bin, err := PostgresBinDir("initdb", "pg_ctl", "postgres")
	if err != nil {
		return nil, err
	}
	c := &PGCluster{Bin: bin, Root: root, RunAs: RunAs()}
	if c.RunAs != "" {
		if err := ChownTo(root, c.RunAs); err != nil {
			return nil, err
		}
	}
	if err := Run(Command(ctx, c.RunAs, filepath.Join(bin, "initdb"),
		"-D", c.Data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")); err != nil {
		return nil, err
	}
	return c, nil
}

// Data is the data directory.
func (c *PGCluster) Data() string { return filepath.Join(c.Root, "data") }

// LogFile is the server's log.
func (c *PGCluster) LogFile() string { return filepath.Join(c.Root, "postgres.log") }

// DSN is the connection string for database db as the user postgres.
func (c *PGCluster) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// Start starts the server and waits (pg_ctl -w, up to 60 s) until it
// accepts connections. With Port 0 it picks a free port, and tries another
// if the start fails (the port may have been taken meanwhile); a restart
// keeps the port.
func (c *PGCluster) Start(ctx context.Context) error {
	pick := c.Port == 0
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if pick {
			if c.Port, err = FreePort(); err != nil {
				return err
			}
		}
		opts := []string{
			"-p", strconv.Itoa(c.Port),
			"-c", "listen_addresses=127.0.0.1",
			"-c", "unix_socket_directories=" + c.Root,
			"-c", "fsync=off",
		}
		for _, s := range c.Settings {
			opts = append(opts, "-c", s)
		}
		err = Run(Command(ctx, c.RunAs, filepath.Join(c.Bin, "pg_ctl"),
			"-D", c.Data(), "-l", c.LogFile(), "-w", "-t", "60", "-o", strings.Join(opts, " "), "start"))
		if err == nil {
			var pid int
			if pid, err = c.PID(); err == nil {
				c.mu.Lock()
				c.pid = pid
				c.mu.Unlock()
				return nil
			}
		}
		if !pick {
			break
		}
	}
	return fmt.Errorf("%w\n(log: %s)", err, Tail(c.LogFile()))
}

// Stop stops the server with pg_ctl's mode ("fast" disconnects clients,
// "immediate" aborts) and waits until it has exited. A frozen server is
// thawed first: it could not act on the request.
func (c *PGCluster) Stop(ctx context.Context, mode string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pid != 0 {
		_ = ThawTree(c.pid)
	}
	err := Run(Command(ctx, c.RunAs, filepath.Join(c.Bin, "pg_ctl"), "-D", c.Data(), "-m", mode, "-w", "stop"))
	if err == nil {
		c.pid = 0
	}
	return err
}

// ErrNotRunning is returned by Freeze and Thaw when the server they would
// signal is not running.
var ErrNotRunning = errors.New("testkit: the server is not running")

// Freeze stops the postmaster and every backend with SIGSTOP: connections
// stay open but nothing answers, as with a hung server or a network that
// drops packets. A connection opened before Freeze hangs too.
func (c *PGCluster) Freeze() error { return c.signal(FreezeTree) }

// Thaw resumes a frozen server (SIGCONT to every process of it).
func (c *PGCluster) Thaw() error { return c.signal(ThawTree) }

func (c *PGCluster) signal(send func(root int) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pid == 0 {
		return ErrNotRunning
	}
	return send(c.pid)
}

// Kill kills the server at once — SIGKILL to the postmaster and every
// backend, as a crash would — and waits until every process of it is gone.
// Start then brings it back in place, on the same port and data directory,
// through crash recovery, with every commit it acknowledged. Kill removes
// the lock files a dead postmaster leaves: they name its pid, which
// another process may have taken by the time the server restarts, and
// PostgreSQL would then refuse to start. Killing a stopped server does
// nothing.
func (c *PGCluster) Kill() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pid == 0 {
		return nil
	}
	if err := KillTree(c.pid, 30*time.Second); err != nil {
		return err
	}
	c.pid = 0
	for _, f := range []string{filepath.Join(c.Data(), "postmaster.pid"), filepath.Join(c.Root, fmt.Sprintf(".s.PGSQL.%d.lock", c.Port))} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("testkit: remove the killed server's lock file: %w", err)
		}
	}
	return nil
}

// Running returns the postmaster's pid while the server runs (started and
// neither stopped nor killed since), else 0.
func (c *PGCluster) Running() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pid
}

// PID reads the postmaster's pid from postmaster.pid.
func (c *PGCluster) PID() (int, error) { return PostmasterPID(c.Data()) }

// PostmasterPID reads the postmaster's pid from the first line of
// data/postmaster.pid.
func PostmasterPID(data string) (int, error) {
	b, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("testkit: read postmaster.pid: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return 0, fmt.Errorf("testkit: parse postmaster.pid: %w", err)
	}
	return pid, nil
}

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
// and the devstack's server.
type PGCluster struct {
	Bin   string // directory of initdb and pg_ctl
	Root  string // holds data/, postgres.log and the Unix socket
	RunAs string // system user the server runs as ("" = current)
	Port  int    // 0 until Start picks a free one
	// Settings are extra server settings, "name=value", passed with -c.
	Settings []string
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
			return nil
		}
		if !pick {
			break
		}
	}
	return fmt.Errorf("%w\n(log: %s)", err, Tail(c.LogFile()))
}

// Stop stops the server with pg_ctl's mode ("fast" disconnects clients,
// "immediate" aborts) and waits until it has exited.
func (c *PGCluster) Stop(ctx context.Context, mode string) error {
	return Run(Command(ctx, c.RunAs, filepath.Join(c.Bin, "pg_ctl"), "-D", c.Data(), "-m", mode, "-w", "stop"))
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

package devstack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// pgUser is the system account PostgreSQL runs as when the stack runs as root.
const pgUser = "postgres"

// pgDatabase is the database created for Strata's tests.
const pgDatabase = "strata"

// findPostgres returns the directory holding initdb, pg_ctl, postgres and
// psql, preferring the newest /usr/lib/postgresql/<major>/bin.
func findPostgres() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if hasAll(d, "initdb", "pg_ctl", "postgres", "psql") {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			if d := filepath.Dir(real); hasAll(d, "initdb", "pg_ctl", "postgres") {
				return d, nil
			}
		}
	}
	return "", fmt.Errorf("devstack: no PostgreSQL server binaries (initdb, pg_ctl, postgres) found")
}

func hasAll(dir string, names ...string) bool {
	for _, n := range names {
		if st, err := os.Stat(filepath.Join(dir, n)); err != nil || st.IsDir() {
			return false
		}
	}
	return true
}

// psqlPath prefers the psql next to the server, else the one on PATH.
func psqlPath(bin string) string {
	if hasAll(bin, "psql") {
		return filepath.Join(bin, "psql")
	}
	return "psql"
}

// startPostgres initialises a fresh cluster in a new temporary directory and
// starts it on a free loopback port.
func (s *Stack) startPostgres(ctx context.Context) (*Server, error) {
	bin, err := findPostgres()
	if err != nil {
		if err := s.installer.install(ctx, "postgresql"); err != nil {
			return nil, err
		}
		if bin, err = findPostgres(); err != nil {
			return nil, err
		}
	}
	runAs := ""
	if os.Geteuid() == 0 {
		runAs = pgUser
	}
	root, err := os.MkdirTemp("", "strata-pg-")
	if err != nil {
		return nil, fmt.Errorf("devstack: create postgres directory: %w", err)
	}
	if runAs != "" {
		if err := chownToUser(root, runAs); err != nil {
			os.RemoveAll(root)
			return nil, err
		}
	}
	data := filepath.Join(root, "data")
	if err := run(command(ctx, runAs, filepath.Join(bin, "initdb"),
		"-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(root)
			return nil, err
		}
		opts := strings.Join([]string{
			"-p", strconv.Itoa(port),
			"-c", "listen_addresses=127.0.0.1",
			"-c", "unix_socket_directories=" + root,
			"-c", "fsync=off",
			"-c", "synchronous_commit=off",
			"-c", "full_page_writes=off",
			"-c", "max_connections=300",
		}, " ") + " " + strings.Join(replicationSettings(), " ")
		err = run(command(ctx, runAs, filepath.Join(bin, "pg_ctl"),
			"-D", data, "-l", filepath.Join(root, "postgres.log"), "-w", "-t", "60", "-o", opts, "start"))
		if err != nil {
			if attempt < 2 { // the port may have been taken between the probe and the start
				continue
			}
			os.RemoveAll(root)
			return nil, fmt.Errorf("%w\n(log: %s)", err, tail(filepath.Join(root, "postgres.log")))
		}
		pid, err := postmasterPID(data)
		if err != nil {
			os.RemoveAll(root)
			return nil, err
		}
		srv := &Server{PID: pid, Port: port, Root: root,
			Addr: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", port, pgDatabase)}
		if err := psql(ctx, bin, port, "postgres", "CREATE DATABASE "+pgDatabase); err != nil {
			s.stopPostgres(srv)
			return nil, err
		}
		return srv, nil
	}
}

// Logical replication settings of the stack's server: Strata's change feed
// (Config.ChangeFeed) needs wal_level=logical, and its tests create slots
// and replication sessions of their own, so both limits leave room for
// many at once.
const (
	stackWALLevel         = "logical"
	stackReplicationSlots = 20
	stackWALSenders       = 20
)

func replicationSettings() []string {
	return []string{
		"-c", "wal_level=" + stackWALLevel,
		"-c", "max_replication_slots=" + strconv.Itoa(stackReplicationSlots),
		"-c", "max_wal_senders=" + strconv.Itoa(stackWALSenders),
	}
}

// checkSettingsSQL fails unless the server runs with the replication
// settings above, so that a stack started before they existed (or by hand
// without them) is restarted by Up rather than reused.
var checkSettingsSQL = fmt.Sprintf(`DO $$ BEGIN
IF current_setting('wal_level') <> '%s'
   OR current_setting('max_replication_slots')::int < %d
   OR current_setting('max_wal_senders')::int < %d THEN
  RAISE EXCEPTION 'started without wal_level=%s, max_replication_slots>=%d, max_wal_senders>=%d';
END IF; END $$`, stackWALLevel, stackReplicationSlots, stackWALSenders,
	stackWALLevel, stackReplicationSlots, stackWALSenders)

// checkPostgres runs a query on the stack's database and checks that the
// server has the settings the stack starts it with.
func checkPostgres(ctx context.Context, srv *Server) error {
	if !running(srv.PID, "postgres") {
		return fmt.Errorf("postgres (pid %d) is not running", srv.PID)
	}
	bin, err := findPostgres()
	if err != nil {
		return err
	}
	return psql(ctx, bin, srv.Port, pgDatabase, checkSettingsSQL)
}

func psql(ctx context.Context, bin string, port int, db, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return run(exec.CommandContext(ctx, psqlPath(bin), "-X", "-q", "-v", "ON_ERROR_STOP=1",
		"-h", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "postgres", "-d", db, "-c", sql))
}

// stopPostgres asks the postmaster for a fast shutdown and removes its files.
func (s *Stack) stopPostgres(srv *Server) error {
	err := stopProcess(srv.PID, "postgres", sigFastShutdown, 30*time.Second)
	if err == nil && srv.Root != "" && strings.HasPrefix(filepath.Base(srv.Root), "strata-pg-") {
		os.RemoveAll(srv.Root)
	}
	return err
}

// postmasterPID reads the server's pid from the first line of postmaster.pid.
func postmasterPID(data string) (int, error) {
	b, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("devstack: read postmaster.pid: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return 0, fmt.Errorf("devstack: parse postmaster.pid: %w", err)
	}
	return pid, nil
}

func chownToUser(path, name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("devstack: PostgreSQL refuses to run as root and there is no %q user to run it as (installing the postgresql package creates it): %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("devstack: chown %s to %s: %w", path, name, err)
	}
	return nil
}

// tail returns the last lines of a log file, for error messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

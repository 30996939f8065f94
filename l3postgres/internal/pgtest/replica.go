package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Replica is a streaming replica of the test primary, made with
// pg_basebackup -R and run by pg_ctl on its own loopback port.
type Replica struct {
	DSN     string
	dir     string
	data    string
	pid     int
	stopped bool
}

// StartReplica clones the primary behind primaryDSN into a temporary
// directory, starts it as a hot standby on a free loopback port, waits
// until it answers queries and registers Stop as a cleanup. It skips (or
// fails under STRATA_REQUIRE_SERVERS=1) when the PostgreSQL binaries are
// not installed.
func StartReplica(tb testing.TB, primaryDSN string) *Replica {
	tb.Helper()
	bin := pgBinDir()
	if bin == "" {
		Unavailable(tb, "pg_basebackup and pg_ctl not found (install the postgresql package or set STRATA_PG_BIN)")
	}
	cfg, err := pgx.ParseConfig(primaryDSN)
	if err != nil {
		tb.Fatalf("parse primary DSN: %v", err)
	}
	dir, err := os.MkdirTemp("", "strata-replica-")
	if err != nil {
		tb.Fatal(err)
	}
	r := &Replica{dir: dir, data: filepath.Join(dir, "data")}
	tb.Cleanup(func() {
		r.Stop(tb)
		os.RemoveAll(dir)
	})
	if err := chownToPostgres(dir); err != nil {
		tb.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		tb.Fatal(err)
	}
	run := func(name string, args ...string) {
		tb.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := asPostgres(ctx, filepath.Join(bin, name), args...).CombinedOutput()
		if err != nil {
			logText, _ := os.ReadFile(filepath.Join(dir, "log"))
			tb.Fatalf("%s %s: %v\n%s\nserver log:\n%s", name, strings.Join(args, " "), err, out, logText)
		}
	}
	run("pg_basebackup", "-h", cfg.Host, "-p", strconv.Itoa(int(cfg.Port)), "-U", cfg.User,
		"-D", r.data, "-R", "-X", "stream", "-c", "fast")
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c hot_standby=on -c fsync=off",
		port, dir)
	// A standby refuses to run with lower limits than its primary's.
	for _, setting := range standbyMinimums(tb, primaryDSN) {
		opts += " -c " + setting
	}
	run("pg_ctl", "-D", r.data, "-l", filepath.Join(dir, "log"), "-o", opts, "-w", "-t", "60", "start")
	pid, err := readPid(r.data)
	if err != nil {
		tb.Fatal(err)
	}
	r.pid = pid
	r.DSN = fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", cfg.User, port, cfg.Database)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, r.DSN)
		if err == nil {
			var inRecovery bool
			err = conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery)
			conn.Close(ctx)
			if err == nil && inRecovery {
				return r
			}
		}
		if ctx.Err() != nil {
			tb.Fatalf("replica did not answer: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop stops the replica's postmaster (by the pid it started with) with a
// fast shutdown and waits until it has exited. It is idempotent.
func (r *Replica) Stop(tb testing.TB) {
	tb.Helper()
	if r.stopped || r.pid == 0 {
		return
	}
	r.stopped = true
	if err := syscall.Kill(r.pid, syscall.SIGINT); err != nil && !errors.Is(err, syscall.ESRCH) {
		tb.Errorf("stop replica pid %d: %v", r.pid, err)
		return
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(r.pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		if _, err := os.Stat(filepath.Join(r.data, "postmaster.pid")); os.IsNotExist(err) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Errorf("replica pid %d did not exit", r.pid)
}

// standbyMinimums returns name=value for the primary's settings that a hot
// standby must match or exceed.
func standbyMinimums(tb testing.TB, dsn string) []string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect to primary: %v", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT name, setting FROM pg_settings WHERE name = ANY($1) ORDER BY name`,
		[]string{"max_connections", "max_worker_processes", "max_wal_senders", "max_prepared_transactions", "max_locks_per_transaction"})
	if err != nil {
		tb.Fatalf("read primary settings: %v", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (string, error) {
		var name, value string
		err := row.Scan(&name, &value)
		return name + "=" + value, err
	})
	if err != nil {
		tb.Fatalf("read primary settings: %v", err)
	}
	return out
}

func readPid(data string) (int, error) {
	b, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}

// pgBinDir finds the directory holding pg_ctl and pg_basebackup.
func pgBinDir() string {
	if d := os.Getenv("STRATA_PG_BIN"); d != "" {
		return d
	}
	var dirs []string
	for _, name := range []string{"pg_basebackup", "pg_ctl"} {
		if p, err := exec.LookPath(name); err == nil {
			if real, err := filepath.EvalSymlinks(p); err == nil {
				dirs = append(dirs, filepath.Dir(real))
			}
		}
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	dirs = append(dirs, found...)
	for _, d := range dirs {
		_, errB := os.Stat(filepath.Join(d, "pg_basebackup"))
		_, errC := os.Stat(filepath.Join(d, "pg_ctl"))
		if errB == nil && errC == nil {
			return d
		}
	}
	return ""
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// asPostgres runs a PostgreSQL binary, as the postgres user when running
// as root (the server refuses to run as root).
func asPostgres(ctx context.Context, name string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return exec.CommandContext(ctx, name, args...)
}

func chownToPostgres(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs a postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

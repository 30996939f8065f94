package pgkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/testkit"
)

// Replica is a streaming replica of a primary, made with pg_basebackup -R
// and run by pg_ctl on its own loopback port.
type Replica struct {
	DSN     string
	data    string
	pid     int
	stopped bool
}

// StartReplica clones the primary behind primaryDSN into a temporary
// directory, starts it as a hot standby on a free loopback port, waits
// until it answers queries in recovery, and stops it when tb ends. It
// skips (or fails under STRATA_REQUIRE_SERVERS=1) when the PostgreSQL
// binaries are not installed.
func StartReplica(tb testing.TB, primaryDSN string) *Replica {
	tb.Helper()
	bin, err := testkit.PostgresBinDir("pg_basebackup", "pg_ctl")
	if err != nil {
		testkit.Unavailable(tb, err.Error())
	}
	cfg, err := pgx.ParseConfig(primaryDSN)
	if err != nil {
		tb.Fatalf("parse primary DSN: %v", err)
	}
	dir, err := os.MkdirTemp("", "strata-replica-")
	if err != nil {
		tb.Fatal(err)
	}
	r := &Replica{data: filepath.Join(dir, "data")}
	tb.Cleanup(func() {
		r.Stop(tb)
		_ = os.RemoveAll(dir)
	})
	runAs := testkit.RunAs()
	if runAs != "" {
		if err := testkit.ChownTo(dir, runAs); err != nil {
			tb.Fatal(err)
		}
	}
	port, err := testkit.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	run := func(name string, args ...string) {
		tb.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := testkit.Run(testkit.Command(ctx, runAs, filepath.Join(bin, name), args...)); err != nil {
			tb.Fatalf("%v\nserver log:\n%s", err, testkit.Tail(filepath.Join(dir, "log")))
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
	if r.pid, err = testkit.PostmasterPID(r.data); err != nil {
		tb.Fatal(err)
	}
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

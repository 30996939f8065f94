package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres is a PostgreSQL server of the test's own, which the test may stop
// and start again (the shared devstack server must never be stopped).
type Postgres struct {
	DSN  string
	t    testing.TB
	bin  string
	dir  string
	port int
	as   string // system user to run as ("" = current)
}

// StartPostgres initialises and starts a throwaway PostgreSQL server on a
// free loopback port, and removes it when the test ends. It is gated like
// PostgresDSN.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	PostgresDSN(t)
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return a > b
	})
	if len(dirs) == 0 {
		t.Fatal("no PostgreSQL server binaries under /usr/lib/postgresql (make stack-up installs them)")
	}
	p := &Postgres{t: t, bin: dirs[0]}
	root, err := os.MkdirTemp("", "strata-test-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = root
	t.Cleanup(func() {
		_ = p.run("pg_ctl", "-D", p.data(), "-m", "immediate", "-w", "stop")
		os.RemoveAll(root)
	})
	if os.Geteuid() == 0 { // PostgreSQL refuses to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs a postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(root, uid, gid); err != nil {
			t.Fatal(err)
		}
		p.as = "postgres"
	}
	if err := p.run("initdb", "-D", p.data(), "-U", "postgres", "-A", "trust", "--no-sync"); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	p.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
	p.Start()
	return p
}

func (p *Postgres) data() string { return filepath.Join(p.dir, "data") }

func (p *Postgres) run(name string, args ...string) error {
	bin := filepath.Join(p.bin, name)
	cmd := exec.Command(bin, args...)
	if p.as != "" {
		cmd = exec.Command("runuser", append([]string{"-u", p.as, "--", bin}, args...)...)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %v: %w\n%s", name, args, err, out)
	}
	return nil
}

// Start starts the server (again) and waits until it answers.
func (p *Postgres) Start() {
	p.t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c fsync=off", p.port, p.dir)
	if err := p.run("pg_ctl", "-D", p.data(), "-l", filepath.Join(p.dir, "log"), "-o", opts, "-w", "start"); err != nil {
		p.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, p.DSN)
		if err == nil {
			conn.Close(ctx)
			cancel()
			return
		}
		cancel()
		if time.Now().After(deadline) {
			p.t.Fatalf("postgres on %d did not answer: %v", p.port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the server at once (fast shutdown: clients are disconnected).
func (p *Postgres) Stop() {
	p.t.Helper()
	if err := p.run("pg_ctl", "-D", p.data(), "-m", "fast", "-w", "stop"); err != nil {
		p.t.Fatal(err)
	}
}

package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestPingReportsEachServer: one line per server, ok with its time or
// FAILED with the reason; exit 1 when one fails.
func TestPingReportsEachServer(t *testing.T) {
	t.Parallel()
	dsn, addr := servers(t)
	r := cli(t, stack(dsn, addr), "ping")
	if r.code != exitOK {
		t.Fatalf("ping: exit %d: %s%s", r.code, r.out, r.err)
	}
	if !regexp.MustCompile(`(?m)^redis +`+regexp.QuoteMeta(addr)+`  ok \(.+\)$`).MatchString(r.out) ||
		!regexp.MustCompile(`(?m)^postgresql +\w+@127\.0\.0\.1:\d+/\w+  ok \(.+\)$`).MatchString(r.out) {
		t.Errorf("ping printed:\n%s", r.out)
	}
	if strings.Contains(r.out, "password") {
		t.Errorf("ping shows a password:\n%s", r.out)
	}

	down := closedAddr(t)
	r = cli(t, stack(dsn, addr), "ping", "--redis-addr", down, "--timeout", "3s")
	if r.code != exitFail {
		t.Errorf("ping with Redis down: exit %d, want 1", r.code)
	}
	if !regexp.MustCompile(`(?m)^redis +`+regexp.QuoteMeta(down)+`  FAILED: .*connection refused$`).MatchString(r.out) ||
		!strings.Contains(r.out, "postgresql") || !strings.Contains(r.out, "  ok (") {
		t.Errorf("ping with Redis down printed:\n%s", r.out)
	}
	if strings.Contains(r.err, "pool.go") {
		t.Errorf("go-redis's own log lines reached stderr without --verbose:\n%s", r.err)
	}
}

// TestBuiltCommandReadsTheEnvironment builds the command and runs the
// binary: the servers come from STRATA_POSTGRES_DSN and STRATA_REDIS_ADDR,
// a flag wins over its variable, and the exit status tells the outcome.
// It builds with the -race and -trimpath this test binary was built with
// (make test uses both): the command's dependencies then come from the
// build cache, where a build with other flags compiled all of them (pgx,
// go-redis, strata, the standard library) once more in a configuration no
// other part of make test uses.
func TestBuiltCommandReadsTheEnvironment(t *testing.T) {
	t.Parallel()
	dsn, addr := servers(t)
	bin := filepath.Join(t.TempDir(), "strata")
	build := append(append([]string{"build"}, sameBuildFlags(t)...), "-o", bin, ".")
	if out, err := exec.Command("go", build...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	env := append(os.Environ(), envPostgresDSN+"="+dsn, envRedisAddr+"="+addr)
	cmd := exec.Command(bin, "ping")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "redis       "+addr+"  ok") {
		t.Errorf("strata ping with the environment: %v\n%s", err, out)
	}
	cmd = exec.Command(bin, "ping", "--redis-addr", closedAddr(t), "--timeout", "3s")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitFail || !strings.Contains(string(out), "FAILED") {
		t.Errorf("strata ping --redis-addr <closed> = %v, want exit 1 naming the failure:\n%s", err, out)
	}
	cmd = exec.Command(bin, "inspect")
	cmd.Env = env
	out, err = cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitUsage {
		t.Errorf("strata inspect without arguments = %v, want exit 2:\n%s", err, out)
	}
}

// sameBuildFlags returns the build flags among -race and -trimpath that
// this test binary was built with, from its build information.
func sameBuildFlags(t *testing.T) []string {
	t.Helper()
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("the test binary has no build information")
	}
	var flags []string
	for _, s := range bi.Settings {
		if (s.Key == "-race" || s.Key == "-trimpath") && s.Value == "true" {
			flags = append(flags, s.Key)
		}
	}
	return flags
}

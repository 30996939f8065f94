package testkit_test

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/AndrewDonelson/strata/testkit"
)

// TestResolve is the skip-or-fail contract as a table: the variable wins,
// then the fallback; otherwise a skip that says how to start the servers,
// or under STRATA_REQUIRE_SERVERS=1 an error wrapping ErrNoServer.
func TestResolve(t *testing.T) {
	t.Parallel()
	up := func() (string, error) { return "container:1", nil }
	down := func() (string, error) { return "", errors.New("no engine") }
	tests := []struct {
		name     string
		env      map[string]string
		fallback func() (string, error)
		wantAddr string
		wantSkip bool
		wantErr  bool
		wantText string // in the skip message or the error
	}{
		{"variable wins over the fallback", map[string]string{"X_ADDR": "env:1"}, up, "env:1", false, false, ""},
		{"fallback when the variable is unset", nil, up, "container:1", false, false, ""},
		{"skip when the fallback fails", nil, down, "", true, false, "dockertest could not start one (no engine)"},
		{"skip without a fallback", nil, nil, "", true, false, "no X server: X_ADDR is unset"},
		{"fail when servers are required", map[string]string{testkit.EnvRequireServers: "1"}, down, "", false, true, "STRATA_REQUIRE_SERVERS=1"},
		{"fail without a fallback when required", map[string]string{testkit.EnvRequireServers: "1"}, nil, "", false, true, "X_ADDR is unset"},
		{"required and provided", map[string]string{testkit.EnvRequireServers: "1", "X_ADDR": "env:2"}, down, "env:2", false, false, ""},
		{"only 1 means required", map[string]string{testkit.EnvRequireServers: "true"}, nil, "", true, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := testkit.Source{Name: "X", Env: "X_ADDR", Fallback: tt.fallback, FallbackName: "dockertest"}
			addr, skip, err := testkit.Resolve(src, func(k string) string { return tt.env[k] })
			if addr != tt.wantAddr {
				t.Errorf("addr = %q, want %q", addr, tt.wantAddr)
			}
			if (skip != "") != tt.wantSkip {
				t.Errorf("skip = %q, want a skip: %v", skip, tt.wantSkip)
			}
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, testkit.ErrNoServer)) {
				t.Errorf("err = %v, want an error wrapping ErrNoServer: %v", err, tt.wantErr)
			}
			msg := skip
			if err != nil {
				msg = err.Error()
			}
			if msg != "" && !strings.Contains(msg, "make test") {
				t.Errorf("message %q does not say how to start the servers", msg)
			}
			if !strings.Contains(msg, tt.wantText) {
				t.Errorf("message %q does not contain %q", msg, tt.wantText)
			}
		})
	}
}

func TestSuffixIsHexAndFresh(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		s := testkit.Suffix()
		if len(s) != 12 || strings.Trim(s, "0123456789abcdef") != "" {
			t.Fatalf("Suffix() = %q, want 12 lower-case hex digits", s)
		}
		if seen[s] {
			t.Fatalf("Suffix() repeated %q", s)
		}
		seen[s] = true
	}
}

// TestFreePortsCanBeBound: a port FreePort returns can be bound. Other
// processes of make test bind ports of that range meanwhile (servers on
// ports they got from FreePort, a Redis Cluster node's bus port at its
// port + 10000), so one may take it between FreePort and Listen, as
// FreePort's doc says and as its callers allow by retrying: CI run 44 saw
// it. The test does what they do, and fails when no port of three tries
// could be bound.
func TestFreePortsCanBeBound(t *testing.T) {
	t.Parallel()
	bind := func() error {
		p, err := testkit.FreePort()
		if err != nil {
			return err
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return fmt.Errorf("FreePort() = %d, which cannot be bound: %w", p, err)
		}
		return l.Close()
	}
	var errs []error
	for err := bind(); err != nil; err = bind() {
		if errs = append(errs, err); len(errs) == 3 {
			t.Fatalf("no port FreePort returned could be bound:\n%v", errors.Join(errs...))
		}
	}
	c, err := testkit.FreeClusterPort()
	if err != nil {
		t.Fatal(err)
	}
	if c > 55535 {
		t.Fatalf("FreeClusterPort() = %d, whose bus port is out of range", c)
	}
}

package harness

import (
	"errors"
	"strings"
	"testing"
)

// TestServerChoice checks how the harness chooses a server: the devstack
// variable first, then a dockertest container, else a skip that says how
// to start the stack — or a failure under STRATA_REQUIRE_SERVERS=1. The
// Docker launcher is a stand-in here (no Docker engine is needed).
func TestServerChoice(t *testing.T) {
	t.Parallel()
	dockerUp := func() (string, error) { return "container:1", nil }
	dockerDown := func() (string, error) { return "", errors.New("no engine") }
	tests := []struct {
		name      string
		env       map[string]string
		docker    func() (string, error)
		wantAddr  string
		wantSkip  bool
		wantError bool
	}{
		{"env wins over docker", map[string]string{"X_ADDR": "env:1"}, dockerUp, "env:1", false, false},
		{"docker when env unset", nil, dockerUp, "container:1", false, false},
		{"skip when nothing answers", nil, dockerDown, "", true, false},
		{"skip without docker", nil, nil, "", true, false},
		{"fail when servers are required", map[string]string{EnvRequireServers: "1"}, dockerDown, "", false, true},
		{"required but provided", map[string]string{EnvRequireServers: "1", "X_ADDR": "env:2"}, dockerDown, "env:2", false, false},
		{"required and docker answers", map[string]string{EnvRequireServers: "1"}, dockerUp, "container:1", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr, skip, err := resolve(source("X", "X_ADDR", tt.docker), func(k string) string { return tt.env[k] })
			if addr != tt.wantAddr {
				t.Errorf("addr = %q, want %q", addr, tt.wantAddr)
			}
			if (skip != "") != tt.wantSkip {
				t.Errorf("skip = %q, want skip=%v", skip, tt.wantSkip)
			}
			if skip != "" && !strings.Contains(skip, "make test") {
				t.Errorf("skip message %q does not say how to start the servers", skip)
			}
			if tt.docker != nil && skip != "" && !strings.Contains(skip, "dockertest") {
				t.Errorf("skip message %q does not say dockertest was tried", skip)
			}
			if (err != nil) != tt.wantError || (err != nil && !errors.Is(err, ErrNoServer)) {
				t.Errorf("err = %v, want error=%v wrapping ErrNoServer", err, tt.wantError)
			}
		})
	}
}

// TestDockerAbsentIsAnError: with no Docker engine (as on this machine),
// the launcher reports why instead of hanging or panicking, so the harness
// can skip with the reason.
func TestDockerAbsentIsAnError(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	if _, err := startRedis(); err == nil {
		t.Skip("a Docker engine answers here; this test is for machines without one")
	} else if !strings.Contains(err.Error(), "Docker") {
		t.Errorf("startRedis without Docker: %v, want an error naming Docker", err)
	}
}

package harness

import (
	"errors"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := source{name: "X", envVar: "X_ADDR", docker: tt.docker}
			addr, skip, err := resolve(src, func(k string) string { return tt.env[k] })
			if addr != tt.wantAddr {
				t.Errorf("addr = %q, want %q", addr, tt.wantAddr)
			}
			if (skip != "") != tt.wantSkip {
				t.Errorf("skip = %q, want skip=%v", skip, tt.wantSkip)
			}
			if skip != "" && !strings.Contains(skip, "make test") {
				t.Errorf("skip message %q does not say how to start the servers", skip)
			}
			if (err != nil) != tt.wantError || (err != nil && !errors.Is(err, ErrNoServer)) {
				t.Errorf("err = %v, want error=%v wrapping ErrNoServer", err, tt.wantError)
			}
		})
	}
}

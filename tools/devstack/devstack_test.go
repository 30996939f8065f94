package devstack

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEnvLines(t *testing.T) {
	t.Parallel()
	st := State{
		Postgres: &Server{Addr: "postgres://postgres@127.0.0.1:5/strata?sslmode=disable"},
		Redis:    &Server{Addr: "127.0.0.1:6"},
	}
	tests := []struct {
		name, prefix, want string
	}{
		{"make and sh form", "", "STRATA_POSTGRES_DSN=postgres://postgres@127.0.0.1:5/strata?sslmode=disable\nSTRATA_REDIS_ADDR=127.0.0.1:6\n"},
		{"export form", "export ", "export STRATA_POSTGRES_DSN=postgres://postgres@127.0.0.1:5/strata?sslmode=disable\nexport STRATA_REDIS_ADDR=127.0.0.1:6\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EnvLines(st.Env(), tt.prefix); got != tt.want {
				t.Errorf("EnvLines = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStateRoundTrip(t *testing.T) {
	t.Parallel()
	s, err := New(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := State{Redis: &Server{PID: 42, Port: 7, Root: "/tmp/x", Addr: "127.0.0.1:7"}}
	if err := s.saveState(want); err != nil {
		t.Fatal(err)
	}
	got, err := s.loadState()
	if err != nil {
		t.Fatal(err)
	}
	if got.Postgres != nil || got.Redis == nil || *got.Redis != *want.Redis {
		t.Errorf("loadState = %+v, want %+v", got, want)
	}
	env, err := os.ReadFile(filepath.Join(s.Dir, "env"))
	if err != nil || string(env) != "STRATA_REDIS_ADDR=127.0.0.1:7\n" {
		t.Errorf("env file = %q, %v", env, err)
	}
}

func TestCorruptStateIsAnError(t *testing.T) {
	t.Parallel()
	s, err := New(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.statePath(), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.loadState(); err == nil {
		t.Error("loadState of a corrupt file returned no error")
	}
}

// running must refuse a live pid whose program is not the expected one, so
// Down never signals a process it did not start.
func TestRunningChecksProgramName(t *testing.T) {
	t.Parallel()
	if running(os.Getpid(), "postgres") {
		t.Error("running(own pid, postgres) = true")
	}
	if running(0, "postgres") || running(-1, "redis-server") {
		t.Error("running accepted a non-positive pid")
	}
}

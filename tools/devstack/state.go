package devstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Names of the environment variables the env file defines.
const (
	EnvPostgresDSN = "STRATA_POSTGRES_DSN"
	EnvRedisAddr   = "STRATA_REDIS_ADDR"
)

// Server describes one running server process started by the stack.
type Server struct {
	// PID is the server's main process id.
	PID int `json:"pid"`
	// Port is the loopback TCP port the server listens on.
	Port int `json:"port"`
	// Root is the temporary directory holding the server's data and log.
	Root string `json:"root"`
	// Addr is what clients use to connect: a DSN for PostgreSQL, host:port for Redis.
	Addr string `json:"addr"`
}

// State is what the stack records between calls.
type State struct {
	Postgres *Server `json:"postgres,omitempty"`
	Redis    *Server `json:"redis,omitempty"`
}

// Env returns the environment variables that point clients at the servers.
func (s State) Env() map[string]string {
	env := map[string]string{}
	if s.Postgres != nil {
		env[EnvPostgresDSN] = s.Postgres.Addr
	}
	if s.Redis != nil {
		env[EnvRedisAddr] = s.Redis.Addr
	}
	return env
}

// EnvLines renders env as sorted KEY=value lines, each prefixed by prefix
// (for example "export ").
func EnvLines(env map[string]string, prefix string) string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s%s=%s\n", prefix, k, env[k])
	}
	return b.String()
}

func (s *Stack) statePath() string { return filepath.Join(s.Dir, "state.json") }

// EnvPath is the env file Up writes.
func (s *Stack) EnvPath() string { return filepath.Join(s.Dir, "env") }

func (s *Stack) loadState() (State, error) {
	var st State
	b, err := os.ReadFile(s.statePath())
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("devstack: read state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, fmt.Errorf("devstack: state file %s is corrupt (delete it after stopping any server it lists): %w", s.statePath(), err)
	}
	return st, nil
}

func (s *Stack) saveState(st State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("devstack: encode state: %w", err)
	}
	if err := writeFileAtomic(s.statePath(), b); err != nil {
		return err
	}
	return writeFileAtomic(s.EnvPath(), []byte(EnvLines(st.Env(), "")))
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("devstack: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("devstack: write %s: %w", path, err)
	}
	return nil
}

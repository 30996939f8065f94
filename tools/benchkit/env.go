package benchkit

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Server addresses as the devstack writes them.
const (
	EnvPostgresDSN = "STRATA_POSTGRES_DSN"
	EnvRedisAddr   = "STRATA_REDIS_ADDR"
)

// Servers are the addresses of the local PostgreSQL and Redis.
type Servers struct {
	PostgresDSN string
	RedisAddr   string
}

// FindServers returns the server addresses from the environment or, for
// those not set there, from the first .devstack/env found in dir or one of
// its parents (what `go run ./tools/cmd/devstack up` writes). It fails
// naming how to start the stack when either is missing.
func FindServers(dir string) (Servers, error) {
	s := Servers{PostgresDSN: os.Getenv(EnvPostgresDSN), RedisAddr: os.Getenv(EnvRedisAddr)}
	if s.PostgresDSN == "" || s.RedisAddr == "" {
		for d := dir; ; d = filepath.Dir(d) {
			vars, err := ReadEnvFile(filepath.Join(d, ".devstack", "env"))
			if err == nil {
				if s.PostgresDSN == "" {
					s.PostgresDSN = vars[EnvPostgresDSN]
				}
				if s.RedisAddr == "" {
					s.RedisAddr = vars[EnvRedisAddr]
				}
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if s.PostgresDSN == "" || s.RedisAddr == "" {
		return s, fmt.Errorf("benchkit: %s and %s are not set and no .devstack/env was found; start the local stack with `make stack-up` (or `go run ./tools/cmd/devstack up`)", EnvPostgresDSN, EnvRedisAddr)
	}
	return s, nil
}

// ReadEnvFile parses KEY=VALUE lines (blank lines and # comments skipped,
// optional single or double quotes around the value).
func ReadEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		vars[strings.TrimSpace(k)] = v
	}
	return vars, sc.Err()
}

// RunID returns a short random identifier ("r" and 8 hex digits) that makes
// a run's table names, key prefixes and channels unique.
func RunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "r" + hex.EncodeToString(b[:])
}

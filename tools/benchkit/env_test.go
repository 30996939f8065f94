package benchkit_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/AndrewDonelson/strata/tools/benchkit"
)

func TestReadEnvFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "env")
	content := "# comment\n\nSTRATA_POSTGRES_DSN=postgres://x@127.0.0.1:5/db\nexport STRATA_REDIS_ADDR=\"127.0.0.1:6\"\nbroken line\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	vars, err := benchkit.ReadEnvFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if vars["STRATA_POSTGRES_DSN"] != "postgres://x@127.0.0.1:5/db" || vars["STRATA_REDIS_ADDR"] != "127.0.0.1:6" || len(vars) != 2 {
		t.Errorf("vars = %v", vars)
	}
}

// Not parallel: it sets environment variables.
func TestFindServers(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, ".devstack"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := "STRATA_POSTGRES_DSN=pg-from-file\nSTRATA_REDIS_ADDR=redis-from-file\n"
	if err := os.WriteFile(filepath.Join(root, ".devstack", "env"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}

	t.Setenv(benchkit.EnvPostgresDSN, "")
	t.Setenv(benchkit.EnvRedisAddr, "redis-from-env")
	s, err := benchkit.FindServers(sub)
	if err != nil {
		t.Fatal(err)
	}
	if s.PostgresDSN != "pg-from-file" || s.RedisAddr != "redis-from-env" {
		t.Errorf("servers = %+v: the environment must win, the file fill the gaps", s)
	}

	t.Setenv(benchkit.EnvRedisAddr, "")
	if _, err := benchkit.FindServers(t.TempDir()); err == nil || !strings.Contains(err.Error(), "make stack-up") {
		t.Errorf("without env or file: err = %v, want a hint to start the stack", err)
	}
}

func TestRunID(t *testing.T) {
	t.Parallel()
	a, b := benchkit.RunID(), benchkit.RunID()
	if a == b || len(a) != 9 || !strings.HasPrefix(a, "r") {
		t.Errorf("RunID gave %q and %q", a, b)
	}
}

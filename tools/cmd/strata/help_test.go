package main

import (
	"strings"
	"testing"
)

// TestHelpTeachesEveryCommand: each command's --help explains what it does
// with the terms an operator needs, and shows examples.
func TestHelpTeachesEveryCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv  []string
		wants []string
	}{
		{[]string{"--help"}, []string{"STRATA_POSTGRES_DSN", "STRATA_REDIS_ADDR", "strata:{prefix}:{id}", "Exit status", "migrate", "inspect", "invalidate", "ping", "feed", "Examples:"}},
		{[]string{"migrate", "--help"}, []string{"NNN_description.sql", "_strata_migrations", "advisory lock", "no-transaction", "up", "status"}},
		{[]string{"migrate", "up", "--help"}, []string{"version order", "checksum", "strata migrate up ./migrations"}},
		{[]string{"migrate", "status", "--help"}, []string{"pending", "changed", "missing", "status 1"}},
		{[]string{"inspect", "--help"}, []string{"strata:{prefix}:{ID}", "TTL", "--table", "--key-prefix", "--id-column", "snake_case", "encrypted", "omit_cache", "--json"}},
		{[]string{"invalidate", "--help"}, []string{"Invalidate and InvalidateAll", "search", "--channel", "--redis-only", "Nothing is deleted from PostgreSQL"}},
		{[]string{"ping", "--help"}, []string{"readiness", "Cluster", "status 1"}},
		{[]string{"feed", "status", "--help"}, []string{"pg_replication_slots", "lag", "max_slot_wal_keep_size", "--channel", "--slot"}},
		{[]string{"version", "--help"}, []string{"go install"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.argv, " "), func(t *testing.T) {
			t.Parallel()
			r := cli(t, nil, tt.argv...)
			if r.code != exitOK {
				t.Fatalf("exit %d, stderr %s", r.code, r.err)
			}
			for _, w := range tt.wants {
				if !strings.Contains(r.out, w) {
					t.Errorf("help lacks %q:\n%s", w, r.out)
				}
			}
		})
	}
}

// TestCommandLineMistakesExitTwo: a mistake in the command line or missing
// configuration is exit status 2 with a message and a pointer to --help;
// it never reaches a server.
func TestCommandLineMistakesExitTwo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		argv []string
		want string
	}{
		{"inspect without id", nil, []string{"inspect", "players"}, "accepts 2 arg(s), received 1"},
		{"migrate up without dir", nil, []string{"migrate", "up"}, "accepts 1 arg(s), received 0"},
		{"migrate alone", nil, []string{"migrate"}, "say up or status"},
		{"unknown command", nil, []string{"migrat"}, `unknown command "migrat"`},
		{"unknown flag", nil, []string{"ping", "--redis"}, "unknown flag: --redis"},
		{"ping with no server", nil, []string{"ping"}, "nothing to ping: give --postgres-dsn or --redis-addr"},
		{"migrate without postgres", nil, []string{"migrate", "up", "."}, "no PostgreSQL: give --postgres-dsn or set STRATA_POSTGRES_DSN"},
		{"migrate dir missing", map[string]string{envPostgresDSN: "postgres://x@127.0.0.1:1/x"}, []string{"migrate", "status", "/nonexistent/dir"}, "migrations directory"},
		{"invalidate without redis", nil, []string{"invalidate", "players", "p1"}, "no Redis: give --redis-addr"},
		{"invalidate without postgres", map[string]string{envRedisAddr: "127.0.0.1:1"}, []string{"invalidate", "players", "p1"}, "--redis-only"},
		{"inspect with bad prefix", map[string]string{envRedisAddr: "127.0.0.1:1"}, []string{"inspect", "players", "p1", "--key-prefix", "a:b"}, "holds no ':'"},
		{"feed status bad slot", map[string]string{envPostgresDSN: "postgres://x@127.0.0.1:1/x"}, []string{"feed", "status", "--slot", "Bad-Name"}, "replication slot name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := cli(t, tt.env, tt.argv...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want %d; stdout %q stderr %q", r.code, exitUsage, r.out, r.err)
			}
			if !strings.Contains(r.err, tt.want) || !strings.Contains(r.err, "--help' for usage") {
				t.Errorf("stderr %q: want %q and a pointer to --help", r.err, tt.want)
			}
		})
	}
}

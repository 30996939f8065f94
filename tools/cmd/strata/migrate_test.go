package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/AndrewDonelson/strata/strata"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// statusLines maps each FILE of migrate status to its STATE.
func statusLines(out string) map[string]string {
	got := map[string]string{}
	for _, line := range strings.Split(out, "\n")[1:] {
		if f := strings.Fields(line); len(f) >= 3 {
			got[f[1]] = f[2]
		}
	}
	return got
}

// TestMigrateUpAndStatus runs migrate status and up against a real
// PostgreSQL: pending files, applying them once, a changed file refused,
// a file gone from the directory — and the library's MigrationStatus sees
// what the command applied (same history table, same rules).
func TestMigrateUpAndStatus(t *testing.T) {
	t.Parallel()
	dsn, addr := servers(t)
	dsn, conn, pgs := pgSchema(t, dsn)
	env := stack(dsn, addr)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"001_create_notes.sql": "CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT NOT NULL);",
		"002_seed.sql":         "INSERT INTO notes VALUES ('n1', 'hello');",
		"README.md":            "not a migration",
	})

	r := cli(t, env, "migrate", "status", dir)
	if r.code != exitFail {
		t.Errorf("status with pending files: exit %d, want 1; %s%s", r.code, r.out, r.err)
	}
	if got := statusLines(r.out); got["001_create_notes.sql"] != "pending" || got["002_seed.sql"] != "pending" {
		t.Errorf("status before up:\n%s", r.out)
	}

	r = cli(t, env, "migrate", "up", dir)
	if r.code != exitOK {
		t.Fatalf("up: exit %d: %s%s", r.code, r.out, r.err)
	}
	if !regexp.MustCompile(`(?s)applied 001_create_notes.sql \(.*\)\napplied 002_seed.sql \(.*\)\n2 applied now, 2 in all\n`).MatchString(r.out) {
		t.Errorf("up printed:\n%s", r.out)
	}
	var body string
	if err := conn.QueryRow(ctxT(t), "SELECT body FROM "+pgs+".notes WHERE id = 'n1'").Scan(&body); err != nil || body != "hello" {
		t.Errorf("the migrated table holds %q, %v", body, err)
	}

	r = cli(t, env, "migrate", "up", dir)
	if r.code != exitOK || r.out != "nothing to apply: 2 migrations applied, none pending\n" {
		t.Errorf("second up: exit %d: %q %s", r.code, r.out, r.err)
	}
	r = cli(t, env, "migrate", "status", dir)
	if got := statusLines(r.out); r.code != exitOK || got["001_create_notes.sql"] != "applied" || got["002_seed.sql"] != "applied" {
		t.Errorf("status after up: exit %d:\n%s%s", r.code, r.out, r.err)
	}

	// The library reads the same history.
	ds, err := strata.NewDataStore(strata.Config{PostgresDSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := ds.MigrationStatus(ctxT(t))
	ds.Close()
	if err != nil || len(recs) != 2 || recs[1].Name != "002_seed.sql" {
		t.Errorf("DataStore.MigrationStatus after the command's up = %+v, %v", recs, err)
	}

	// A changed file: status says so, up refuses and applies nothing.
	writeFiles(t, dir, map[string]string{
		"002_seed.sql": "INSERT INTO notes VALUES ('n1', 'changed');",
		"003_more.sql": "INSERT INTO notes VALUES ('n3', 'three');",
	})
	os.Remove(filepath.Join(dir, "001_create_notes.sql"))
	r = cli(t, env, "migrate", "status", dir)
	want := map[string]string{"001_create_notes.sql": "missing", "002_seed.sql": "changed", "003_more.sql": "pending"}
	got := statusLines(r.out)
	for f, st := range want {
		if got[f] != st {
			t.Errorf("status of %s = %q, want %q:\n%s", f, got[f], st, r.out)
		}
	}
	if r.code != exitFail {
		t.Errorf("status with a changed file: exit %d, want 1", r.code)
	}
	r = cli(t, env, "migrate", "up", dir)
	if r.code != exitFail || !strings.Contains(r.err, "002_seed.sql") || !strings.Contains(r.err, "nothing was applied") {
		t.Errorf("up with a changed file: exit %d, stdout %q stderr %q", r.code, r.out, r.err)
	}
	var n int
	if err := conn.QueryRow(ctxT(t), "SELECT count(*) FROM "+pgs+".notes").Scan(&n); err != nil || n != 1 {
		t.Errorf("notes has %d rows (%v) after a refused up, want 1", n, err)
	}
}

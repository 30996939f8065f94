package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/strata"
)

type player struct {
	ID       string `strata:"primary_key"`
	UserName string
	Level    int
	APIKey   string
	Joined   time.Time
}

// playerStore is a DataStore with a players schema of the test's own, on
// its own invalidation channel: the "running instance" the command acts on.
func playerStore(t *testing.T, dsn, addr string) (ds *strata.DataStore, schema, channel string) {
	t.Helper()
	schema, channel = "pl_"+suffix(), "cli:"+suffix()
	ds, err := strata.NewDataStore(strata.Config{PostgresDSN: dsn, RedisAddr: addr, InvalidationChannel: channel})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	if err := ds.Register(strata.Schema{Name: schema, Model: &player{}}); err != nil {
		t.Fatal(err)
	}
	if err := ds.Migrate(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.InvalidateAll(ctxT(t), schema) })
	return ds, schema, channel
}

// fieldRow finds the side-by-side line of a column.
func fieldRow(t *testing.T, out, column string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == column {
			return line
		}
	}
	t.Errorf("no line for %s in:\n%s", column, out)
	return ""
}

// TestInspectShowsKeyTTLBesideRowAndInvalidateRepairsIt: inspect shows the
// Redis key with its TTL and the row side by side, marks a field changed
// behind the library's back, and invalidate deletes the key and makes a
// running instance drop its in-process copy, so it reads the new row.
func TestInspectShowsKeyTTLBesideRowAndInvalidateRepairsIt(t *testing.T) {
	t.Parallel()
	dsn, addr := servers(t)
	dsn, conn, pgs := pgSchema(t, dsn)
	ds, schema, channel := playerStore(t, dsn, addr)
	env := stack(dsn, addr)
	ctx := ctxT(t)
	joined := time.Date(2026, 11, 27, 10, 30, 0, 123456000, time.UTC)
	if err := ds.Set(ctx, schema, "p1", &player{ID: "p1", UserName: "ada", Level: 3, APIKey: "k1", Joined: joined}); err != nil {
		t.Fatal(err)
	}
	if err := ds.WarmCache(ctx, schema, 0); err != nil {
		t.Fatal(err)
	}
	var r result
	eventually(t, 5*time.Second, "the record reached Redis", func() bool {
		r = cli(t, env, "inspect", schema, "p1")
		return strings.Contains(r.out, " TTL ")
	})
	if r.code != exitOK {
		t.Fatalf("inspect: exit %d: %s", r.code, r.err)
	}
	t.Logf("strata inspect %s p1:\n%s", schema, r.out)
	if !regexp.MustCompile(`redis +strata:` + schema + `:p1  TTL \d+m[\d.]+s  msgpack, \d+ bytes`).MatchString(r.out) {
		t.Errorf("inspect's Redis line:\n%s", r.out)
	}
	if !strings.Contains(r.out, "postgresql  table "+schema+`  id = "p1"  row`) {
		t.Errorf("inspect's PostgreSQL line:\n%s", r.out)
	}
	// The row version is shown on the row's line, not as a field the cache
	// lacks: no model holds it.
	if !regexp.MustCompile(`id = "p1"  row, version \d+\n`).MatchString(r.out) || strings.Contains(r.out, "strata_ver") {
		t.Errorf("inspect shows the row version as a field or not at all:\n%s", r.out)
	}
	for col, val := range map[string]string{"user_name": `"ada"`, "level": "3", "api_key": `"k1"`, "id": `"p1"`} {
		if f := strings.Fields(fieldRow(t, r.out, col)); len(f) != 3 || f[1] != val || f[2] != val {
			t.Errorf("line of %s = %q, want %s in both tiers", col, f, val)
		}
	}
	if strings.Contains(r.out, "≠") {
		t.Errorf("a fresh cache entry shows a difference:\n%s", r.out)
	}

	r = cli(t, env, "inspect", schema, "p1", "--json")
	var js struct {
		Redis struct {
			Key   string         `json:"key"`
			TTLms int64          `json:"ttl_ms"`
			Value map[string]any `json:"value"`
		} `json:"redis"`
		Postgres struct {
			Row map[string]any `json:"row"`
		} `json:"postgresql"`
	}
	if err := json.Unmarshal([]byte(r.out), &js); err != nil {
		t.Fatalf("inspect --json: %v\n%s", err, r.out)
	}
	if js.Redis.Key != "strata:"+schema+":p1" || js.Redis.TTLms <= 0 || js.Redis.TTLms > int64(33*time.Minute/time.Millisecond) ||
		js.Redis.Value["UserName"] != "ada" || js.Postgres.Row["level"] != float64(3) {
		t.Errorf("inspect --json = %+v", js)
	}

	// A change behind the library's back: the cache is stale, inspect says so.
	if _, err := conn.Exec(ctx, "UPDATE "+pgx.Identifier{pgs, schema}.Sanitize()+" SET level = 99 WHERE id = 'p1'"); err != nil {
		t.Fatal(err)
	}
	r = cli(t, env, "inspect", schema, "p1")
	t.Logf("after an UPDATE behind the library's back:\n%s", r.out)
	if line := fieldRow(t, r.out, "level"); !strings.Contains(line, "3") || !strings.Contains(line, "99") || !strings.HasSuffix(strings.TrimSpace(line), "≠") {
		t.Errorf("level line after the UPDATE: %q", line)
	}
	if !strings.Contains(r.out, "strata invalidate repairs it") {
		t.Errorf("inspect does not explain the difference:\n%s", r.out)
	}
	if p, err := strata.GetTyped[player](ctx, ds, schema, "p1"); err != nil || p.Level != 3 {
		t.Fatalf("before invalidate the instance reads level %d, %v; want the cached 3", p.Level, err)
	}

	r = cli(t, env, "--channel", channel, "invalidate", schema, "p1")
	if r.code != exitOK || !strings.Contains(r.out, "invalidated "+schema+" p1: key strata:"+schema+":p1 deleted") {
		t.Fatalf("invalidate: exit %d: %q %s", r.code, r.out, r.err)
	}
	if r = cli(t, env, "inspect", schema, "p1"); !strings.Contains(r.out, "strata:"+schema+":p1  not cached") {
		t.Errorf("after invalidate:\n%s", r.out)
	}
	eventually(t, 5*time.Second, "the running instance reads the new level", func() bool {
		p, err := strata.GetTyped[player](ctx, ds, schema, "p1")
		return err == nil && p.Level == 99
	})
}

// TestInvalidateWholeSchema: without an id, every key of the schema goes
// and every instance drops its copies.
func TestInvalidateWholeSchema(t *testing.T) {
	t.Parallel()
	dsn, addr := servers(t)
	dsn, conn, pgs := pgSchema(t, dsn)
	ds, schema, channel := playerStore(t, dsn, addr)
	env := stack(dsn, addr)
	ctx := ctxT(t)
	ids := []string{"a", "b", "c"}
	for _, id := range ids {
		if err := ds.Set(ctx, schema, id, &player{ID: id, Level: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := strata.GetTyped[player](ctx, ds, schema, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := ds.WarmCache(ctx, schema, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "UPDATE "+pgx.Identifier{pgs, schema}.Sanitize()+" SET level = 7"); err != nil {
		t.Fatal(err)
	}
	r := cli(t, env, "invalidate", schema, "--channel", channel)
	if r.code != exitOK || !strings.Contains(r.out, "invalidated every "+schema+" record: keys strata:"+schema+":* deleted") {
		t.Fatalf("invalidate %s: exit %d: %q %s", schema, r.code, r.out, r.err)
	}
	for _, id := range ids {
		if r := cli(t, env, "inspect", schema, id); !strings.Contains(r.out, "not cached") {
			t.Errorf("%s after invalidating the schema:\n%s", id, r.out)
		}
	}
	eventually(t, 5*time.Second, "the running instance reads level 7 everywhere", func() bool {
		for _, id := range ids {
			if p, err := strata.GetTyped[player](ctx, ds, schema, id); err != nil || p.Level != 7 {
				return false
			}
		}
		return true
	})
}

// TestInvalidateRedisOnlyKeepsTheKeys: for a schema whose truth is in
// Redis, --redis-only tells the instances and leaves the key alone.
func TestInvalidateRedisOnlyKeepsTheKeys(t *testing.T) {
	t.Parallel()
	_, addr := servers(t)
	schema, channel := "sess_"+suffix(), "cli:"+suffix()
	ds, err := strata.NewDataStore(strata.Config{RedisAddr: addr, InvalidationChannel: channel})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	if err := ds.Register(strata.Schema{Name: schema, Model: &player{}, L3: strata.PostgresPolicy{Disabled: true}}); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if err := ds.Set(ctx, schema, "s1", &player{ID: "s1", UserName: "ada"}); err != nil {
		t.Fatal(err)
	}
	defer ds.Delete(ctx, schema, "s1")
	env := map[string]string{envRedisAddr: addr}
	r := cli(t, env, "invalidate", schema, "s1", "--redis-only", "--channel", channel)
	if r.code != exitOK || !strings.Contains(r.out, "Redis key kept") {
		t.Fatalf("invalidate --redis-only: exit %d: %q %s", r.code, r.out, r.err)
	}
	if r := cli(t, env, "inspect", schema, "s1"); !strings.Contains(r.out, "strata:"+schema+":s1  ") || strings.Contains(r.out, "not cached") {
		t.Errorf("the Redis-only record after invalidate --redis-only:\n%s", r.out)
	}
	if p, err := strata.GetTyped[player](ctx, ds, schema, "s1"); err != nil || p.UserName != "ada" {
		t.Errorf("the record after invalidate --redis-only: %+v, %v", p, err)
	}
}

// TestSnakeCaseMatchesTheLibrary: inspect pairs cached fields with columns
// by the library's naming rule; the columns Migrate creates prove the two
// agree.
func TestSnakeCaseMatchesTheLibrary(t *testing.T) {
	t.Parallel()
	dsn, _ := servers(t)
	dsn, conn, pgs := pgSchema(t, dsn)
	type names struct {
		ID             string `strata:"primary_key"`
		UserID         string
		APIKey         string
		HTTPServer2    string
		Level2Up       int
		XMLHttpRequest string
		CreatedAt      time.Time
		A              bool
	}
	ds, err := strata.NewDataStore(strata.Config{PostgresDSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	if err := ds.Register(strata.Schema{Name: "names", Model: &names{}}); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	rows, _ := conn.Query(ctx, "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'names'", pgs)
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, goName := range []string{"ID", "UserID", "APIKey", "HTTPServer2", "Level2Up", "XMLHttpRequest", "CreatedAt", "A"} {
		found := false
		for _, c := range cols {
			found = found || c == snakeCase(goName)
		}
		if !found {
			t.Errorf("snakeCase(%q) = %q, but the library's columns are %v", goName, snakeCase(goName), cols)
		}
	}
}

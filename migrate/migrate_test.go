package migrate_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/AndrewDonelson/strata/migrate"
	"github.com/AndrewDonelson/strata/migrate/internal/pgtest"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

var quiet = &migrate.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func newMigrator(t *testing.T, pool *pgxpool.Pool) *migrate.Migrator {
	t.Helper()
	m, err := migrate.New(pool, quiet)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// setup returns a pool confined to a fresh schema, a Migrator on it and a
// context for the test.
func setup(t *testing.T) (*pgxpool.Pool, *migrate.Migrator, context.Context) {
	t.Helper()
	pool, _ := pgtest.SchemaPool(t, 4)
	return pool, newMigrator(t, pool), testCtx(t)
}

// strs runs a query returning one text column.
func strs(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) []string {
	t.Helper()
	rows, err := pool.Query(testCtx(t), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// columns returns "name type [not null]" for each column of table, in order.
func columns(t *testing.T, pool *pgxpool.Pool, table string) []string {
	return strs(t, pool, `SELECT attname || ' ' || format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' not null' ELSE '' END
		FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, table)
}

func indexes(t *testing.T, pool *pgxpool.Pool, table string) []string {
	return strs(t, pool, `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1 ORDER BY 1`, table)
}

func TestMigrateCreatesAddsAndIsIdempotent(t *testing.T) {
	t.Parallel()
	pool, m, ctx := setup(t)

	first := migrate.Table{Name: "players", Columns: playersTable.Columns[:2]}
	stmts, err := m.Migrate(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if len(stmts) != 2 {
		t.Fatalf("first run executed %q", stmts)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO players (id, username) VALUES ('p1', 'ann')`); err != nil {
		t.Fatal(err)
	}

	// The model grows: new columns and an index are added, the row stays.
	stmts, err = m.Migrate(ctx, playersTable)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`ALTER TABLE "players" ADD COLUMN IF NOT EXISTS "email" TEXT`,
		`ALTER TABLE "players" ADD COLUMN IF NOT EXISTS "level" BIGINT NOT NULL DEFAULT 1`,
		`ALTER TABLE "players" ADD COLUMN IF NOT EXISTS "created_at" TIMESTAMPTZ NOT NULL DEFAULT now()`,
		`CREATE INDEX IF NOT EXISTS "players_email_idx" ON "players" ("email")`,
	}
	if d := cmp.Diff(want, stmts); d != "" {
		t.Fatalf("second run (-want +got):\n%s", d)
	}
	wantCols := []string{"id text not null", "username text not null", "email text", "level bigint not null", "created_at timestamp with time zone not null"}
	if d := cmp.Diff(wantCols, columns(t, pool, "players")); d != "" {
		t.Fatalf("columns (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"players_email_idx", "players_pkey", "players_username_key"}, indexes(t, pool, "players")); d != "" {
		t.Fatalf("indexes (-want +got):\n%s", d)
	}
	var level int64
	if err := pool.QueryRow(ctx, `SELECT level FROM players WHERE id = 'p1'`).Scan(&level); err != nil || level != 1 {
		t.Fatalf("existing row: level %d, %v", level, err)
	}

	// Nothing left to do: no statement at all. Independent evidence: the
	// run completes while another transaction holds ROW EXCLUSIVE on the
	// table, which any ALTER TABLE or CREATE INDEX (even IF NOT EXISTS,
	// even a no-op) would have to wait for.
	blocker, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Rollback(ctx) //nolint:errcheck
	if _, err := blocker.Exec(ctx, "LOCK TABLE players IN ROW EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	stmts, err = m.Migrate(short, playersTable)
	if err != nil || len(stmts) != 0 {
		t.Fatalf("idempotent run executed %q, %v", stmts, err)
	}
	if err := blocker.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if plan, err := m.Plan(ctx, playersTable); err != nil || len(plan) != 0 {
		t.Fatalf("Plan = %q, %v", plan, err)
	}
	// The unique index is enforced.
	_, err = pool.Exec(ctx, `INSERT INTO players (id, username) VALUES ('p2', 'ann')`)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		t.Fatalf("unique username: got %v", err)
	}
}

func TestMigrateTypeAliasesAreNotDrift(t *testing.T) {
	t.Parallel()
	pool, m, ctx := setup(t)
	if _, err := pool.Exec(ctx, `CREATE TABLE typed (
		id bigint PRIMARY KEY, a timestamp with time zone NOT NULL, b character varying(20) NOT NULL,
		c numeric(10,2) NOT NULL, d text[] NOT NULL, e double precision NOT NULL, f jsonb, g integer NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	tbl := migrate.Table{Name: "typed", Columns: []migrate.Column{
		{Name: "id", Type: "int8", PrimaryKey: true},
		{Name: "a", Type: "TIMESTAMPTZ"},
		{Name: "b", Type: "VARCHAR(20)"},
		{Name: "c", Type: "NUMERIC(10, 2)"},
		{Name: "d", Type: "TEXT[]"},
		{Name: "e", Type: "float8"},
		{Name: "f", Type: "JSONB", Nullable: true},
		{Name: "g", Type: "SERIAL"},
	}}
	if stmts, err := m.Migrate(ctx, tbl); err != nil || len(stmts) != 0 {
		t.Fatalf("aliases: executed %q, %v", stmts, err)
	}
	tbl.Columns[2].Type = "VARCHAR(30)"
	_, err := m.Migrate(ctx, tbl)
	var drift *migrate.DriftError
	if !errors.As(err, &drift) || drift.Found != "character varying(20)" || drift.Wanted != "character varying(30)" {
		t.Fatalf("varchar length drift: got %v", err)
	}
	tbl.Columns[2].Type = "no_such_type"
	if _, err := m.Migrate(ctx, tbl); !errors.Is(err, migrate.ErrInvalidTable) || !strings.Contains(err.Error(), "no_such_type") {
		t.Fatalf("unknown type: got %v", err)
	}
}

func TestMigrateDrift(t *testing.T) {
	t.Parallel()
	pool, schema := pgtest.SchemaPool(t, 4)
	m, ctx := newMigrator(t, pool), testCtx(t)
	if _, err := pool.Exec(ctx, `CREATE TABLE players (id text PRIMARY KEY, username text, level integer NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	tbl := migrate.Table{Schema: schema, Name: "players", Columns: []migrate.Column{
		{Name: "id", Type: "TEXT", PrimaryKey: true},
		{Name: "username", Type: "TEXT"},
		{Name: "level", Type: "BIGINT"},
		{Name: "score", Type: "BIGINT", Default: "0"},
	}}
	_, err := m.Migrate(ctx, tbl)
	if !errors.Is(err, migrate.ErrDrift) {
		t.Fatalf("got %v, want ErrDrift", err)
	}
	for _, want := range []string{
		"table " + schema + ".players column username: nullability drifted: found NULL, wanted NOT NULL",
		"table " + schema + ".players column level: type drifted: found integer, wanted bigint",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// Nothing was executed: the new column was not added either.
	if cols := columns(t, pool, "players"); len(cols) != 3 {
		t.Fatalf("drift run changed the table: %q", cols)
	}
}

func TestMigratePartitioned(t *testing.T) {
	t.Parallel()
	pool, m, ctx := setup(t)
	tbl := migrate.Table{
		Name: "events",
		Columns: []migrate.Column{
			{Name: "id", Type: "TEXT", PrimaryKey: true},
			{Name: "region", Type: "TEXT"},
			{Name: "payload", Type: "JSONB", Nullable: true},
		},
		Indexes:     []migrate.Index{{Columns: []string{"region", "id"}, Unique: true, Name: "events_by_region"}},
		PartitionBy: "region",
	}
	stmts, err := m.Migrate(ctx, tbl)
	if err != nil {
		t.Fatal(err)
	}
	if len(stmts) != 1+migrate.DefaultPartitions+1 {
		t.Fatalf("executed %q", stmts)
	}
	for i := range 40 {
		if _, err := pool.Exec(ctx, `INSERT INTO events (id, region) VALUES ($1, $2)`, fmt.Sprint("e", i), fmt.Sprint("r", i%7)); err != nil {
			t.Fatal(err)
		}
	}
	var parts int
	if err := pool.QueryRow(ctx, `SELECT count(DISTINCT tableoid) FROM events`).Scan(&parts); err != nil || parts < 2 {
		t.Fatalf("rows spread over %d partitions, %v", parts, err)
	}
	tbl.Columns = append(tbl.Columns, migrate.Column{Name: "seen", Type: "BOOLEAN", Default: "false"})
	stmts, err = m.Migrate(ctx, tbl)
	if err != nil || len(stmts) != 1 || !strings.HasPrefix(stmts[0], `ALTER TABLE "events" ADD COLUMN`) {
		t.Fatalf("add column to partitioned table: %q, %v", stmts, err)
	}
	if stmts, err := m.Migrate(ctx, tbl); err != nil || len(stmts) != 0 {
		t.Fatalf("idempotent: %q, %v", stmts, err)
	}
	// An existing plain table is not repartitioned: that is drift.
	if _, err := pool.Exec(ctx, `CREATE TABLE plain (id text PRIMARY KEY, region text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	plain := migrate.Table{Name: "plain", Columns: tbl.Columns[:2], PartitionBy: "region"}
	if _, err := m.Migrate(ctx, plain); !errors.Is(err, migrate.ErrDrift) || !strings.Contains(err.Error(), "not partitioned") {
		t.Fatalf("repartition: got %v", err)
	}
}

// logTableFiles returns n files that each record themselves in the table
// applied_log, so that a test can count how often each ran.
func logTableFiles(n int) fstest.MapFS {
	fsys := fstest.MapFS{
		"001_log.sql": {Data: []byte("CREATE TABLE applied_log (file TEXT NOT NULL);\nINSERT INTO applied_log VALUES ('001');\n")},
	}
	for i := 2; i <= n; i++ {
		name := fmt.Sprintf("%03d_step.sql", i)
		fsys[name] = &fstest.MapFile{Data: []byte(fmt.Sprintf(
			"CREATE TABLE t%03d (id INT);\nINSERT INTO applied_log VALUES ('%03d'); -- a comment; with a semicolon\n", i, i))}
	}
	return fsys
}

func TestMigrateFS(t *testing.T) {
	t.Parallel()
	pool, m, ctx := setup(t)

	status, err := m.Status(ctx)
	if err != nil || len(status) != 0 {
		t.Fatalf("Status before anything: %v, %v", status, err)
	}
	fsys := logTableFiles(3)
	applied, err := m.MigrateFS(ctx, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 3 {
		t.Fatalf("applied %v", applied)
	}
	status, err = m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := migrate.ReadFiles(fsys)
	for i, r := range status {
		if r.Version != files[i].Version || r.Name != files[i].Name || r.Checksum != files[i].Checksum ||
			time.Since(r.AppliedAt) > time.Minute || r.AppliedAt.IsZero() {
			t.Errorf("status[%d] = %+v", i, r)
		}
	}
	if d := cmp.Diff(applied, status, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
		t.Errorf("Status vs applied (-applied +status):\n%s", d)
	}

	// Second run: nothing to apply.
	if again, err := m.MigrateFS(ctx, fsys); err != nil || len(again) != 0 {
		t.Fatalf("second run applied %v, %v", again, err)
	}
	// A new file is applied alone.
	fsys["004_more.sql"] = &fstest.MapFile{Data: []byte("INSERT INTO applied_log VALUES ('004')")}
	if more, err := m.MigrateFS(ctx, fsys); err != nil || len(more) != 1 || more[0].Name != "004_more.sql" {
		t.Fatalf("new file: %v, %v", more, err)
	}
	// An applied file that changed is refused, and nothing else runs.
	fsys["002_step.sql"] = &fstest.MapFile{Data: []byte("SELECT 'edited'")}
	fsys["005_after.sql"] = &fstest.MapFile{Data: []byte("INSERT INTO applied_log VALUES ('005')")}
	_, err = m.MigrateFS(ctx, fsys)
	var sumErr *migrate.ChecksumError
	if !errors.As(err, &sumErr) || sumErr.File != "002_step.sql" || !errors.Is(err, migrate.ErrChecksum) {
		t.Fatalf("changed file: got %v", err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM applied_log`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("applied_log rows = %d, %v", n, err)
	}
	// A malformed name is an error, not a skip.
	bad := fstest.MapFS{"001_log.sql": fsys["001_log.sql"], "2-oops.sql": {Data: []byte("SELECT 1")}}
	if _, err := m.MigrateFS(ctx, bad); !errors.Is(err, migrate.ErrBadFileName) {
		t.Fatalf("malformed name: got %v", err)
	}
}

func TestMigrateFromDir(t *testing.T) {
	t.Parallel()
	pool, m, ctx := setup(t)
	applied, err := m.MigrateFrom(ctx, "testdata/migrations")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range applied {
		names = append(names, r.Name)
	}
	if d := cmp.Diff([]string{"001_create_accounts.sql", "002_index_concurrently.sql"}, names); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"accounts_email_idx", "accounts_pkey"}, indexes(t, pool, "accounts")); d != "" {
		t.Fatalf("indexes (-want +got):\n%s", d)
	}
}

func TestMigrateFSFailureInTheMiddle(t *testing.T) {
	t.Parallel()
	pool, m, ctx := setup(t)
	fsys := fstest.MapFS{
		"001_ok.sql":    {Data: []byte("CREATE TABLE one (id INT)")},
		"002_ok.sql":    {Data: []byte("CREATE TABLE two (id INT)")},
		"003_bad.sql":   {Data: []byte("CREATE TABLE three (id INT);\nINSERT INTO three VALUES ('not a number');")},
		"004_later.sql": {Data: []byte("CREATE TABLE four (id INT)")},
	}
	applied, err := m.MigrateFS(ctx, fsys)
	var partial *migrate.PartialError
	if !errors.As(err, &partial) {
		t.Fatalf("got %v, want *PartialError", err)
	}
	if partial.Failed != "003_bad.sql" || len(partial.Applied) != 2 || len(applied) != 2 {
		t.Fatalf("partial = %+v, applied = %v", partial, applied)
	}
	if !strings.Contains(err.Error(), "003_bad.sql failed; applied before it in this run: 001_ok.sql, 002_ok.sql") {
		t.Errorf("message: %v", err)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "22P02" {
		t.Errorf("cause not reachable: %v", err)
	}
	// The failed file's transaction was rolled back; later files did not run.
	var three, four bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('three') IS NOT NULL, to_regclass('four') IS NOT NULL`).Scan(&three, &four); err != nil || three || four {
		t.Fatalf("three=%v four=%v err=%v", three, four, err)
	}
	status, err := m.Status(ctx)
	if err != nil || len(status) != 2 {
		t.Fatalf("status after failure: %v, %v", status, err)
	}
	// Fixed, the rest applies.
	fsys["003_bad.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE three (id INT)")}
	if rest, err := m.MigrateFS(ctx, fsys); err != nil || len(rest) != 2 {
		t.Fatalf("after fix: %v, %v", rest, err)
	}
}

// TestConcurrentMigratorsExactlyOnce starts 8 migrators, each with its own
// pool as separate processes would have, on the same database at once.
func TestConcurrentMigratorsExactlyOnce(t *testing.T) {
	t.Parallel()
	pool, schema := pgtest.SchemaPool(t, 2)
	ctx := testCtx(t)
	const migrators, files = 8, 13
	fsys := logTableFiles(files - 1)
	// Waiting migrators must not deadlock with CREATE INDEX CONCURRENTLY
	// run by the lock holder (they poll instead of blocking).
	fsys["013_concurrently.sql"] = &fstest.MapFile{Data: []byte(migrate.NoTransactionDirective + `
CREATE INDEX CONCURRENTLY IF NOT EXISTS applied_log_file_idx ON applied_log (file);
INSERT INTO applied_log VALUES ('013');
`)}
	tables := []migrate.Table{playersTable, {Name: "scores", Columns: []migrate.Column{
		{Name: "id", Type: "TEXT", PrimaryKey: true}, {Name: "score", Type: "BIGINT", Default: "0"}}}}

	var wg sync.WaitGroup
	type result struct {
		applied int
		stmts   int
		err     error
	}
	results := make([]result, migrators)
	start := make(chan struct{})
	for i := range migrators {
		m := newMigrator(t, pgtest.PoolOn(t, schema, 1))
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			stmts, err := m.Migrate(ctx, tables...)
			if err != nil {
				results[i].err = err
				return
			}
			applied, err := m.MigrateFS(ctx, fsys)
			results[i] = result{applied: len(applied), stmts: len(stmts), err: err}
		}()
	}
	close(start)
	wg.Wait()
	totalApplied, totalStmts := 0, 0
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("migrator %d: %v", i, r.err)
		}
		totalApplied += r.applied
		totalStmts += r.stmts
	}
	if totalApplied != files {
		t.Errorf("files applied %d times in total, want %d", totalApplied, files)
	}
	// players: table + unique index + email index; scores: table.
	if totalStmts != 4 {
		t.Errorf("%d DDL statements executed in total, want 4 (each once)", totalStmts)
	}
	rows, err := pool.Query(ctx, `SELECT file, count(*) FROM applied_log GROUP BY file ORDER BY file`)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	var file string
	var c int
	if _, err := pgx.ForEachRow(rows, []any{&file, &c}, func() error { counts[file] = c; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(counts) != files {
		t.Errorf("%d distinct files ran, want %d", len(counts), files)
	}
	for f, c := range counts {
		if c != 1 {
			t.Errorf("file %s ran %d times", f, c)
		}
	}
	status, err := newMigrator(t, pool).Status(ctx)
	if err != nil || len(status) != files {
		t.Fatalf("history has %d rows, %v", len(status), err)
	}
	t.Logf("%d migrators: %d files applied once each, %d DDL statements executed in total", migrators, totalApplied, totalStmts)
}

func TestMigrateCreatesSchemaAndOpen(t *testing.T) {
	t.Parallel()
	pool, _, ctx := setup(t)
	name := "strata_mig_" + pgtest.Suffix()
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE")
	})
	m, err := migrate.Open(ctx, pgtest.DSN(t), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tbl := migrate.Table{Schema: name, Name: "things", Columns: []migrate.Column{{Name: "id", Type: "TEXT", PrimaryKey: true}}}
	stmts, err := m.Migrate(ctx, tbl)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`CREATE SCHEMA IF NOT EXISTS "` + name + `"`,
		`CREATE TABLE IF NOT EXISTS "` + name + `"."things" ("id" TEXT NOT NULL, PRIMARY KEY ("id"))`,
	}
	if d := cmp.Diff(want, stmts); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
	if stmts, err := m.Migrate(ctx, tbl); err != nil || len(stmts) != 0 {
		t.Fatalf("second run: %q, %v", stmts, err)
	}
}

func TestLockWaitHonoursContext(t *testing.T) {
	t.Parallel()
	pool, _, ctx := setup(t)
	lockID := int64(0x5354524154410000) + time.Now().UnixNano()%0xffff
	holder, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_lock($1)", lockID); err != nil {
		t.Fatal(err)
	}
	m, err := migrate.New(pool, &migrate.Options{LockID: lockID, Logger: quiet.Logger})
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := m.Migrate(short, playersTable); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting on a held lock: got %v, want context.DeadlineExceeded", err)
	}
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_unlock($1)", lockID); err != nil {
		t.Fatal(err)
	}
	holder.Release()
	if stmts, err := m.Migrate(ctx, playersTable); err != nil || len(stmts) == 0 {
		t.Fatalf("after release: %q, %v", stmts, err)
	}
}

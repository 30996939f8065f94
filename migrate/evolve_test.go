package migrate_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/AndrewDonelson/strata/migrate"
	"github.com/AndrewDonelson/strata/migrate/internal/pgtest"
	"github.com/google/go-cmp/cmp"
)

// TestMigrateAddsNotNullColumnsToPopulatedTable: a new NOT NULL column
// without a Default used to be ADD COLUMN … NOT NULL, which PostgreSQL
// refuses on a table with rows. Existing rows now get the type's zero
// value, and the column ends up NOT NULL without a DEFAULT, as described.
func TestMigrateAddsNotNullColumnsToPopulatedTable(t *testing.T) {
	t.Parallel()
	pool, m, ctx := setup(t)
	v1 := migrate.Table{Name: "items", Columns: []migrate.Column{{Name: "id", Type: "TEXT", PrimaryKey: true}, {Name: "name", Type: "TEXT"}}}
	if _, err := m.Migrate(ctx, v1); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO items VALUES ('a', 'ann'), ('b', 'bob')`); err != nil {
		t.Fatal(err)
	}
	v2 := v1
	v2.Columns = append(v2.Columns[:2:2],
		migrate.Column{Name: "note", Type: "TEXT"},
		migrate.Column{Name: "code", Type: "VARCHAR(8)"},
		migrate.Column{Name: "score", Type: "BIGINT"},
		migrate.Column{Name: "ratio", Type: "DOUBLE PRECISION"},
		migrate.Column{Name: "price", Type: "NUMERIC(10,2)"},
		migrate.Column{Name: "active", Type: "BOOLEAN"},
		migrate.Column{Name: "born", Type: "TIMESTAMPTZ"},
		migrate.Column{Name: "day", Type: "DATE"},
		migrate.Column{Name: "blob", Type: "BYTEA"},
		migrate.Column{Name: "meta", Type: "JSONB"},
		migrate.Column{Name: "tags", Type: "TEXT[]"},
		migrate.Column{Name: "ref", Type: "UUID"},
		migrate.Column{Name: "level", Type: "BIGINT", Default: "1"},
	)
	if _, err := m.Migrate(ctx, v2); err != nil {
		t.Fatalf("Migrate adding NOT NULL columns to a populated table: %v", err)
	}
	var got []string
	rows, err := pool.Query(ctx, `SELECT concat_ws('|', id, name, note, code, score, ratio, price, active, born AT TIME ZONE 'UTC', day, length(blob),
		meta::text, cardinality(tags), ref, level) FROM items ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	want := []string{
		"a|ann|||0|0|0.00|f|0001-01-01 00:00:00|0001-01-01|0|null|0|00000000-0000-0000-0000-000000000000|1",
		"b|bob|||0|0|0.00|f|0001-01-01 00:00:00|0001-01-01|0|null|0|00000000-0000-0000-0000-000000000000|1",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("existing rows (-want +got):\n%s", d)
	}
	// As described: NOT NULL, and no DEFAULT left behind but level's.
	defaults := strs(t, pool, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'items' AND column_default IS NOT NULL`)
	if d := cmp.Diff([]string{"level"}, defaults); d != "" {
		t.Errorf("columns with a DEFAULT (-want +got):\n%s", d)
	}
	nullable := strs(t, pool, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'items' AND is_nullable = 'YES'`)
	if len(nullable) != 0 {
		t.Errorf("nullable columns: %v, want none", nullable)
	}
	if stmts, err := m.Migrate(ctx, v2); err != nil || len(stmts) != 0 {
		t.Fatalf("second Migrate = %q, %v; want nothing to do", stmts, err)
	}

	// A type with no known zero: refused on a table with rows, saying what
	// to do; fine on an empty one.
	v3 := v2
	v3.Columns = append(v2.Columns[:len(v2.Columns):len(v2.Columns)], migrate.Column{Name: "addr", Type: "INET"})
	_, err = m.Migrate(ctx, v3)
	if !errors.Is(err, migrate.ErrInvalidTable) || !strings.Contains(err.Error(), "give the column a Default, make it Nullable") {
		t.Fatalf("Migrate adding a NOT NULL inet column to a populated table: %v, want ErrInvalidTable with the fix", err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM items`); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(ctx, v3); err != nil {
		t.Fatalf("Migrate adding a NOT NULL inet column to an empty table: %v", err)
	}
}

// TestMigrateRelaxesRemovedNotNullColumns: a column no longer described
// that is NOT NULL without a default made every insert fail while Migrate
// said nothing. Migrate now drops its NOT NULL (keeping its data) and logs
// a warning; a removed key column is reported.
func TestMigrateRelaxesRemovedNotNullColumns(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.SchemaPool(t, 4)
	logs := &lockedBuffer{}
	m, err := migrate.New(pool, &migrate.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	if _, err := pool.Exec(ctx, `CREATE TABLE users (id text PRIMARY KEY, name text NOT NULL, legacy text NOT NULL,
		kept text NOT NULL DEFAULT 'x', old_opt text, serial_no bigint GENERATED ALWAYS AS IDENTITY);
		INSERT INTO users (id, name, legacy) VALUES ('a', 'ann', 'keep me')`); err != nil {
		t.Fatal(err)
	}
	now := migrate.Table{Name: "users", Columns: []migrate.Column{{Name: "id", Type: "TEXT", PrimaryKey: true}, {Name: "name", Type: "TEXT"}}}
	stmts, err := m.Migrate(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{`ALTER TABLE "users" ALTER COLUMN "legacy" DROP NOT NULL`}, stmts); d != "" {
		t.Fatalf("statements (-want +got):\n%s", d)
	}
	if !strings.Contains(logs.String(), "legacy") || !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("no warning about legacy was logged: %s", logs)
	}
	// Writes that leave the column out work, and its data is still there.
	if _, err := pool.Exec(ctx, `INSERT INTO users (id, name) VALUES ('b', 'bob')`); err != nil {
		t.Fatalf("insert without the removed column: %v", err)
	}
	if got := strs(t, pool, `SELECT coalesce(legacy, '<null>') FROM users ORDER BY id`); !cmp.Equal(got, []string{"keep me", "<null>"}) {
		t.Fatalf("legacy = %v", got)
	}
	if stmts, err := m.Migrate(ctx, now); err != nil || len(stmts) != 0 {
		t.Fatalf("second Migrate = %q, %v; want nothing to do", stmts, err)
	}

	// A removed primary-key column cannot be relaxed: reported, with the fix.
	if _, err := pool.Exec(ctx, `CREATE TABLE memberships (id text, tenant text, PRIMARY KEY (id, tenant))`); err != nil {
		t.Fatal(err)
	}
	_, err = m.Migrate(ctx, migrate.Table{Name: "memberships", Columns: []migrate.Column{{Name: "id", Type: "TEXT", PrimaryKey: true}}})
	if !errors.Is(err, migrate.ErrInvalidTable) || !strings.Contains(err.Error(), `"tenant"`) || !strings.Contains(err.Error(), "SQL migration") {
		t.Fatalf("removed key column: %v, want ErrInvalidTable naming it and the fix", err)
	}
}

// lockedBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

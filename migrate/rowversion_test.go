package migrate_test

import (
	"testing"

	"github.com/AndrewDonelson/strata/migrate"
)

// TestRowVersionTrigger: Migrate adds the row version column to a table
// that has rows (they get 0) and a trigger that gives every INSERT and
// UPDATE — plain SQL, an upsert, one that writes the column itself — a new,
// higher version; a second Migrate has nothing to do.
func TestRowVersionTrigger(t *testing.T) {
	t.Parallel()
	pool, m, ctx := setup(t)
	v1 := migrate.Table{Name: "vers", Columns: []migrate.Column{{Name: "id", Type: "TEXT", PrimaryKey: true}, {Name: "n", Type: "BIGINT"}}}
	if _, err := m.Migrate(ctx, v1); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO vers VALUES ('old', 1)`); err != nil {
		t.Fatal(err)
	}
	v2 := v1
	v2.RowVersion = "strata_ver"
	if _, err := m.Migrate(ctx, v2); err != nil {
		t.Fatal(err)
	}
	ver := func(id string) int64 {
		t.Helper()
		var v int64
		if err := pool.QueryRow(ctx, `SELECT strata_ver FROM vers WHERE id = $1`, id).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := ver("old"); v != 0 {
		t.Errorf("a row from before the column has version %d, want 0", v)
	}
	var last int64
	for i, stmt := range []string{
		`INSERT INTO vers (id, n) VALUES ('a', 1)`,
		`UPDATE vers SET n = 2 WHERE id = 'a'`,
		`UPDATE vers SET strata_ver = 1 WHERE id = 'a'`, // written by hand: replaced
		`INSERT INTO vers (id, n) VALUES ('a', 3) ON CONFLICT (id) DO UPDATE SET n = excluded.n`,
		`DELETE FROM vers WHERE id = 'a'; INSERT INTO vers (id, n, strata_ver) VALUES ('a', 4, 0)`,
	} {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		v := ver("a")
		if v <= last {
			t.Errorf("step %d (%s): version %d, not above the previous %d", i, stmt, v, last)
		}
		last = v
	}
	if plan, err := m.Plan(ctx, v2); err != nil || len(plan) != 0 {
		t.Errorf("Plan after Migrate = %q, %v; want nothing", plan, err)
	}
	dup := v2
	dup.Columns = append(dup.Columns[:2:2], migrate.Column{Name: "strata_ver", Type: "BIGINT"})
	if _, err := m.Plan(ctx, dup); err == nil {
		t.Error("a RowVersion that is also a column was accepted")
	}
}

// TestRowVersionTwoDescriptionsOfOneTable: two descriptions of one new
// table in a single Migrate (two strata schemas sharing a table) install
// the row version trigger once instead of failing on the second.
func TestRowVersionTwoDescriptionsOfOneTable(t *testing.T) {
	t.Parallel()
	pool, m, ctx := setup(t)
	tb := migrate.Table{Name: "shared", RowVersion: "strata_ver",
		Columns: []migrate.Column{{Name: "id", Type: "TEXT", PrimaryKey: true}, {Name: "n", Type: "BIGINT"}}}
	if _, err := m.Migrate(ctx, tb, tb); err != nil {
		t.Fatalf("Migrate of one table described twice: %v", err)
	}
	var triggers int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_trigger WHERE tgrelid = 'shared'::regclass AND tgname = 'strata_ver_bump'`).Scan(&triggers); err != nil {
		t.Fatal(err)
	}
	if triggers != 1 {
		t.Errorf("%d row version triggers on the table, want 1", triggers)
	}
}

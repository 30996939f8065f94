package strata_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

func TestMigrateFromAndStatus(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	ctx := ctxT(t)
	// A schema of the test's own, so the history table is the test's too.
	pgSchema := "mig_" + testenv.Suffix()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{pgSchema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{pgSchema}.Sanitize()+" CASCADE")

	dir := t.TempDir()
	files := map[string]string{
		"001_create_notes.sql": "CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT NOT NULL);",
		"002_seed.sql":         "INSERT INTO notes VALUES ('n1', 'hello');",
	}
	for name, sql := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := strata.NewDataStore(strata.Config{PostgresDSN: dsn + "&search_path=" + pgSchema})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	if err := ds.MigrateFrom(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if err := ds.MigrateFrom(ctx, dir); err != nil {
		t.Fatalf("second MigrateFrom: %v", err)
	}
	recs, err := ds.MigrationStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Name != "001_create_notes.sql" || recs[1].Version != 2 || recs[0].Checksum == "" || recs[0].AppliedAt.IsZero() {
		t.Errorf("MigrationStatus = %+v", recs)
	}
	var body string
	if err := conn.QueryRow(ctx, "SELECT body FROM "+pgx.Identifier{pgSchema, "notes"}.Sanitize()+" WHERE id = 'n1'").Scan(&body); err != nil || body != "hello" {
		t.Errorf("migrated table: %q, %v", body, err)
	}

	mem, _ := strata.NewDataStore(strata.Config{})
	defer mem.Close()
	if err := mem.Migrate(ctx); !errors.Is(err, strata.ErrL3Unavailable) {
		t.Errorf("Migrate without PostgreSQL: %v", err)
	}
	if _, err := mem.MigrationStatus(ctx); !errors.Is(err, strata.ErrL3Unavailable) {
		t.Errorf("MigrationStatus without PostgreSQL: %v", err)
	}
}

package migrate_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"testing/fstest"

	"github.com/AndrewDonelson/strata/migrate"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Unnamed indexes get deterministic names.
func ExampleIndexName() {
	fmt.Println(migrate.IndexName("players", []string{"region", "level"}, false))
	fmt.Println(migrate.IndexName("players", []string{"email"}, true))
	// Output:
	// players_region_level_idx
	// players_email_key
}

// File names are checked before anything runs.
func ExampleReadFiles() {
	files, err := migrate.ReadFiles(fstest.MapFS{
		"002_add_scores.sql": {Data: []byte("ALTER TABLE players ADD COLUMN score BIGINT NOT NULL DEFAULT 0")},
		"001_players.sql":    {Data: []byte("CREATE TABLE players (id TEXT PRIMARY KEY)")},
		"notes.txt":          {Data: []byte("ignored")},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range files {
		fmt.Println(f.Version, f.Name)
	}
	_, err = migrate.ReadFiles(fstest.MapFS{"players.sql": {}})
	fmt.Println(err)
	// Output:
	// 1 001_players.sql
	// 2 002_add_scores.sql
	// migrate: bad migration file name: "players.sql" is not NNN_description.sql
}

func ExampleMigrator_Migrate() {
	dsn := os.Getenv("STRATA_POSTGRES_DSN")
	if dsn == "" {
		return // needs a server: run `make test` or `go run ./tools/cmd/devstack up`
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	m, err := migrate.New(pool, nil)
	if err != nil {
		log.Fatal(err)
	}
	executed, err := m.Migrate(ctx, migrate.Table{
		Name: "example_players",
		Columns: []migrate.Column{
			{Name: "id", Type: "TEXT", PrimaryKey: true},
			{Name: "username", Type: "TEXT", Unique: true},
			{Name: "level", Type: "BIGINT", Default: "1"},
		},
	})
	if err != nil {
		log.Fatal(err) // a *DriftError names table, column, found and wanted
	}
	fmt.Println(len(executed), "statements") // 0 once the table matches
}

func ExampleMigrator_MigrateFS() {
	dsn := os.Getenv("STRATA_POSTGRES_DSN")
	if dsn == "" {
		return // needs a server
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	m, err := migrate.New(pool, nil)
	if err != nil {
		log.Fatal(err)
	}
	// With //go:embed migrations/*.sql, pass the embed.FS (sub-directory
	// taken with fs.Sub) instead.
	applied, err := m.MigrateFS(ctx, os.DirFS("migrations"))
	if err != nil {
		log.Fatal(err) // *PartialError says what was applied before the failure
	}
	for _, r := range applied {
		fmt.Println(r.Name, r.Checksum[:12])
	}
	status, _ := m.Status(ctx)
	fmt.Println(len(status), "applied in total")
}

package l3postgres_test

import (
	"errors"
	"testing"

	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
)

// offlineDB returns a DB on a pool that never connects: enough for
// everything that does not reach the server.
func offlineDB(t *testing.T) *l3postgres.DB {
	t.Helper()
	pool := offlinePool(t, "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	db, err := l3postgres.New(pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// offlinePool returns a pool for dsn that opens no connection by itself.
func offlinePool(t *testing.T, dsn string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MinConns = 0
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

var players = l3postgres.TableDef{
	Schema:     "game",
	Name:       "players",
	Columns:    append(l3postgres.Columns("id", "name", "level"), l3postgres.Column{Name: "created_at", InsertOnly: true}),
	PrimaryKey: "id",
}

func TestTableValidation(t *testing.T) {
	t.Parallel()
	db := offlineDB(t)
	long := string(make([]byte, 64))
	tests := []struct {
		name string
		def  l3postgres.TableDef
		ok   bool
	}{
		{"valid", players, true},
		{"no name", l3postgres.TableDef{Columns: l3postgres.Columns("id"), PrimaryKey: "id"}, false},
		{"no columns", l3postgres.TableDef{Name: "t", PrimaryKey: "id"}, false},
		{"pk not a column", l3postgres.TableDef{Name: "t", Columns: l3postgres.Columns("a"), PrimaryKey: "id"}, false},
		{"duplicate column", l3postgres.TableDef{Name: "t", Columns: l3postgres.Columns("id", "id"), PrimaryKey: "id"}, false},
		{"empty column", l3postgres.TableDef{Name: "t", Columns: l3postgres.Columns("id", ""), PrimaryKey: "id"}, false},
		{"name too long", l3postgres.TableDef{Name: "t" + long[:63], Columns: l3postgres.Columns("id"), PrimaryKey: "id"}, false},
		{"nul in name", l3postgres.TableDef{Name: "t\x00", Columns: l3postgres.Columns("id"), PrimaryKey: "id"}, false},
		{"partition not a column", l3postgres.TableDef{Name: "t", Columns: l3postgres.Columns("id"), PrimaryKey: "id", PartitionBy: "x"}, false},
		{"odd but quotable names", l3postgres.TableDef{Name: `we"ird; DROP`, Columns: l3postgres.Columns("id", "Mixed Case"), PrimaryKey: "id"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.Table(tt.def)
			if tt.ok && err != nil {
				t.Fatalf("Table: %v", err)
			}
			if !tt.ok && !errors.Is(err, l3postgres.ErrInvalidTable) {
				t.Fatalf("Table: got %v, want ErrInvalidTable", err)
			}
		})
	}
}

func TestStatements(t *testing.T) {
	t.Parallel()
	db := offlineDB(t)
	tbl, err := db.Table(players)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"upsert":  `INSERT INTO "game"."players" ("id", "name", "level", "created_at") VALUES ($1, $2, $3, $4) ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name", "level" = EXCLUDED."level"`,
		"getByID": `SELECT "id", "name", "level", "created_at" FROM "game"."players" WHERE "id" = $1`,
		"getMany": `SELECT "id", "name", "level", "created_at" FROM "game"."players" WHERE "id" = ANY($1)`,
		"exists":  `SELECT EXISTS (SELECT 1 FROM "game"."players" WHERE "id" = $1)`,
		"delete":  `DELETE FROM "game"."players" WHERE "id" = $1`,
		"move":    "", // not partitioned
	}
	got := tbl.Statements()
	delete(got, "merge")
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("statements (-want +got):\n%s", d)
	}

	weird, err := db.Table(l3postgres.TableDef{Name: `a"b`, Columns: l3postgres.Columns("id", `c"d`), PrimaryKey: "id"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := weird.Statements()["getByID"], `SELECT "id", "c""d" FROM "a""b" WHERE "id" = $1`; got != want {
		t.Fatalf("quoting: got %s, want %s", got, want)
	}
	onlyKey, err := db.Table(l3postgres.TableDef{Name: "k", Columns: l3postgres.Columns("id"), PrimaryKey: "id"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := onlyKey.Statements()["upsert"], `INSERT INTO "k" ("id") VALUES ($1) ON CONFLICT ("id") DO NOTHING`; got != want {
		t.Fatalf("key-only upsert: got %s, want %s", got, want)
	}
	part, err := db.Table(l3postgres.TableDef{Name: "p", Columns: append(l3postgres.Columns("id", "region", "v"), l3postgres.Column{Name: "at", InsertOnly: true}),
		PrimaryKey: "id", PartitionBy: "region"})
	if err != nil {
		t.Fatal(err)
	}
	wantPart := map[string]string{
		"upsert": `INSERT INTO "p" ("id", "region", "v", "at") VALUES ($1, $2, $3, $4) ON CONFLICT ("id", "region") DO UPDATE SET "v" = EXCLUDED."v"`,
		"move":   `UPDATE "p" SET "region" = $2 WHERE "id" = $1 AND "region" IS DISTINCT FROM $2`,
	}
	for name, w := range wantPart {
		if got := part.Statements()[name]; got != w {
			t.Fatalf("partitioned %s:\n got %s\nwant %s", name, got, w)
		}
	}
}

func TestBuildQuery(t *testing.T) {
	t.Parallel()
	db := offlineDB(t)
	tbl, err := db.Table(players)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		q       l3postgres.Query
		sql     string
		args    []any
		wantErr error
	}{
		{name: "all", sql: `SELECT "id", "name", "level", "created_at" FROM "game"."players"`},
		{
			name: "full",
			q: l3postgres.Query{
				Where: "level > $1", Args: []any{3},
				OrderBy: []l3postgres.Order{{Column: "level", Desc: true}, {Column: "id"}},
				Limit:   10, Offset: 20, Columns: []string{"id", "level"},
			},
			sql:  `SELECT "id", "level" FROM "game"."players" WHERE level > $1 ORDER BY "level" DESC, "id" LIMIT $2 OFFSET $3`,
			args: []any{3, 10, 20},
		},
		{name: "offset only", q: l3postgres.Query{Offset: 5}, sql: `SELECT "id", "name", "level", "created_at" FROM "game"."players" OFFSET $1`, args: []any{5}},
		{name: "unknown projection", q: l3postgres.Query{Columns: []string{"password"}}, wantErr: l3postgres.ErrUnknownColumn},
		{name: "injection in order by", q: l3postgres.Query{OrderBy: []l3postgres.Order{{Column: "id; DROP TABLE x"}}}, wantErr: l3postgres.ErrUnknownColumn},
		{name: "semicolon in where", q: l3postgres.Query{Where: "true; DROP TABLE x"}, wantErr: l3postgres.ErrInvalidQuery},
		{name: "negative limit", q: l3postgres.Query{Limit: -1}, wantErr: l3postgres.ErrInvalidQuery},
		{name: "empty projection", q: l3postgres.Query{Columns: []string{}}, wantErr: l3postgres.ErrInvalidQuery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sql, args, err := tbl.BuildQuery(tt.q)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sql != tt.sql {
				t.Errorf("sql:\n got %s\nwant %s", sql, tt.sql)
			}
			if d := cmp.Diff(tt.args, args); d != "" {
				t.Errorf("args (-want +got):\n%s", d)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	pool := offlinePool(t, "postgres://nobody@127.0.0.1:1/none?default_query_exec_mode=simple_protocol")
	if _, err := l3postgres.New(pool, nil); !errors.Is(err, l3postgres.ErrInvalidOptions) {
		t.Fatalf("simple protocol pool: got %v, want ErrInvalidOptions", err)
	}
	if _, err := l3postgres.New(nil, nil); !errors.Is(err, l3postgres.ErrInvalidOptions) {
		t.Fatalf("nil pool: got %v, want ErrInvalidOptions", err)
	}
	bad := []l3postgres.Options{
		{MinConns: 30},
		{MaxConns: -1},
		{MaxConnLifetime: -1},
		{ReplicaDSN: "postgres://x@127.0.0.1:1/x", Replica: pool},
	}
	for _, o := range bad {
		if _, err := l3postgres.Open(t.Context(), "postgres://nobody@127.0.0.1:1/none", &o); !errors.Is(err, l3postgres.ErrInvalidOptions) {
			t.Errorf("Open(%+v): got %v, want ErrInvalidOptions", o, err)
		}
	}
	if _, err := l3postgres.Open(t.Context(), "postgres://nobody@127.0.0.1:1/none?default_query_exec_mode=simple_protocol", nil); !errors.Is(err, l3postgres.ErrInvalidOptions) {
		t.Errorf("Open simple protocol: got %v, want ErrInvalidOptions", err)
	}

	db, err := l3postgres.Open(t.Context(), "postgres://nobody@127.0.0.1:1/none", &l3postgres.Options{MinConns: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := db.Pool().Config()
	if got.MaxConns != 20 || got.MinConns != 2 || got.MaxConnLifetime != l3postgres.DefaultMaxConnLifetime || got.MaxConnIdleTime != l3postgres.DefaultMaxConnIdleTime {
		t.Fatalf("defaults not applied: %d %d %v %v", got.MaxConns, got.MinConns, got.MaxConnLifetime, got.MaxConnIdleTime)
	}
}

package migrate_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/AndrewDonelson/strata/migrate"
	"github.com/google/go-cmp/cmp"
)

func TestReadFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		want    []string
		noTx    []bool
		wantErr error
	}{
		{
			name: "ordered by number, not by name",
			fsys: fstest.MapFS{
				"10_ten.sql":      {Data: []byte("SELECT 10")},
				"002_two.sql":     {Data: []byte("SELECT 2")},
				"001_one.sql":     {Data: []byte("-- strata:no-transaction\nCREATE INDEX CONCURRENTLY x ON y (z)")},
				"README.md":       {Data: []byte("not a migration")},
				"sub/003_sub.sql": {Data: []byte("ignored: not at the root")},
			},
			want: []string{"001_one.sql", "002_two.sql", "10_ten.sql"},
			noTx: []bool{true, false, false},
		},
		{name: "no number", fsys: fstest.MapFS{"init.sql": {}}, wantErr: migrate.ErrBadFileName},
		{name: "no description", fsys: fstest.MapFS{"001.sql": {}}, wantErr: migrate.ErrBadFileName},
		{name: "space in name", fsys: fstest.MapFS{"001_add users.sql": {}}, wantErr: migrate.ErrBadFileName},
		{name: "upper-case suffix", fsys: fstest.MapFS{"001_x.SQL": {}}, wantErr: migrate.ErrBadFileName},
		{name: "duplicate number", fsys: fstest.MapFS{"1_a.sql": {}, "001_b.sql": {}}, wantErr: migrate.ErrBadFileName},
		{name: "empty directory", fsys: fstest.MapFS{}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := migrate.ReadFiles(tt.fsys)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			var noTx []bool
			for _, f := range files {
				names = append(names, f.Name)
				noTx = append(noTx, f.NoTx)
				if len(f.Checksum) != 64 {
					t.Errorf("%s: checksum %q", f.Name, f.Checksum)
				}
			}
			if d := cmp.Diff(tt.want, names); d != "" {
				t.Errorf("order (-want +got):\n%s", d)
			}
			if tt.noTx != nil {
				if d := cmp.Diff(tt.noTx, noTx); d != "" {
					t.Errorf("NoTx (-want +got):\n%s", d)
				}
			}
		})
	}
}

func TestSplitStatements(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"one", "SELECT 1", []string{"SELECT 1"}},
		{"two", "SELECT 1; SELECT 2;", []string{"SELECT 1", "SELECT 2"}},
		{"quoted semicolon", "INSERT INTO t VALUES ('a;b'); SELECT 'it''s;'", []string{"INSERT INTO t VALUES ('a;b')", "SELECT 'it''s;'"}},
		{"identifier", `CREATE TABLE "a;b" (x int); SELECT 1`, []string{`CREATE TABLE "a;b" (x int)`, "SELECT 1"}},
		{"comments", "-- a; b\nSELECT 1; /* c; d */ SELECT 2", []string{"-- a; b\nSELECT 1", "/* c; d */ SELECT 2"}},
		{"dollar quoted", "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END $body$ LANGUAGE plpgsql; SELECT 1",
			[]string{"CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END $body$ LANGUAGE plpgsql", "SELECT 1"}},
		{"anonymous dollar", "DO $$ BEGIN PERFORM 1; END $$; SELECT $1", []string{"DO $$ BEGIN PERFORM 1; END $$", "SELECT $1"}},
		{"directive only", "-- strata:no-transaction\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, migrate.SplitStatements(tt.in)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestSplitTypmod(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		base string
		mods []string
	}{
		{"TEXT", "TEXT", nil},
		{"double   precision", "double precision", nil},
		{"numeric(10, 2)", "numeric", []string{"10", "2"}},
		{"timestamp(3) with time zone", "timestamp with time zone", []string{"3"}},
		{"varchar(20)[]", "varchar[]", []string{"20"}},
	}
	for _, tt := range tests {
		base, mods := migrate.SplitTypmod(tt.in)
		if base != tt.base || !cmp.Equal(mods, tt.mods) {
			t.Errorf("SplitTypmod(%q) = %q, %q; want %q, %q", tt.in, base, mods, tt.base, tt.mods)
		}
	}
}

func TestIndexName(t *testing.T) {
	t.Parallel()
	if got := migrate.IndexName("players", []string{"region", "level"}, false); got != "players_region_level_idx" {
		t.Errorf("got %s", got)
	}
	if got := migrate.IndexName("players", []string{"email"}, true); got != "players_email_key" {
		t.Errorf("got %s", got)
	}
	long := strings.Repeat("c", 40)
	a := migrate.IndexName("t", []string{long, long + "1"}, false)
	b := migrate.IndexName("t", []string{long, long + "2"}, false)
	if len(a) != 63 || len(b) != 63 || a == b || a != migrate.IndexName("t", []string{long, long + "1"}, false) {
		t.Errorf("long names: %q (%d) %q (%d)", a, len(a), b, len(b))
	}
}

var playersTable = migrate.Table{
	Name: "players",
	Columns: []migrate.Column{
		{Name: "id", Type: "TEXT", PrimaryKey: true},
		{Name: "username", Type: "TEXT", Unique: true},
		{Name: "email", Type: "TEXT", Nullable: true},
		{Name: "level", Type: "BIGINT", Default: "1"},
		{Name: "created_at", Type: "TIMESTAMPTZ", Default: "now()"},
	},
	Indexes: []migrate.Index{{Columns: []string{"email"}}},
}

func TestPlanOffline(t *testing.T) {
	t.Parallel()
	got, err := migrate.PlanOffline(playersTable, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`CREATE TABLE IF NOT EXISTS "players" ("id" TEXT NOT NULL, "username" TEXT NOT NULL, "email" TEXT, "level" BIGINT NOT NULL DEFAULT 1, "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY ("id"))`,
		`CREATE UNIQUE INDEX IF NOT EXISTS "players_username_key" ON "players" ("username")`,
		`CREATE INDEX IF NOT EXISTS "players_email_idx" ON "players" ("email")`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("new table (-want +got):\n%s", d)
	}

	existing := map[string]migrate.ColumnState{
		"id":       {Type: "TEXT", NotNull: true},
		"username": {Type: "TEXT", NotNull: true},
	}
	got, err = migrate.PlanOffline(playersTable, existing, []string{"players_username_key"})
	if err != nil {
		t.Fatal(err)
	}
	want = []string{
		`ALTER TABLE "players" ADD COLUMN IF NOT EXISTS "email" TEXT`,
		`ALTER TABLE "players" ADD COLUMN IF NOT EXISTS "level" BIGINT NOT NULL DEFAULT 1`,
		`ALTER TABLE "players" ADD COLUMN IF NOT EXISTS "created_at" TIMESTAMPTZ NOT NULL DEFAULT now()`,
		`CREATE INDEX IF NOT EXISTS "players_email_idx" ON "players" ("email")`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("added columns (-want +got):\n%s", d)
	}

	existing["username"] = migrate.ColumnState{Type: "VARCHAR", NotNull: false}
	_, err = migrate.PlanOffline(playersTable, existing, nil)
	var drift *migrate.DriftError
	if !errors.Is(err, migrate.ErrDrift) || !errors.As(err, &drift) {
		t.Fatalf("drift: got %v", err)
	}
	for _, part := range []string{"players", "username", "found VARCHAR", "wanted TEXT", "found NULL, wanted NOT NULL"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("drift message %q lacks %q", err, part)
		}
	}

	part := migrate.Table{
		Schema:      "s",
		Name:        "events",
		Columns:     []migrate.Column{{Name: "id", Type: "TEXT", PrimaryKey: true}, {Name: "region", Type: "TEXT"}},
		PartitionBy: "region",
		Partitions:  2,
	}
	got, err = migrate.PlanOffline(part, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want = []string{
		`CREATE TABLE IF NOT EXISTS "s"."events" ("id" TEXT NOT NULL, "region" TEXT NOT NULL, PRIMARY KEY ("id", "region")) PARTITION BY HASH ("region")`,
		`CREATE TABLE IF NOT EXISTS "s"."events_p0" PARTITION OF "s"."events" FOR VALUES WITH (MODULUS 2, REMAINDER 0)`,
		`CREATE TABLE IF NOT EXISTS "s"."events_p1" PARTITION OF "s"."events" FOR VALUES WITH (MODULUS 2, REMAINDER 1)`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("partitioned (-want +got):\n%s", d)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	pk := migrate.Column{Name: "id", Type: "TEXT", PrimaryKey: true}
	tests := []struct {
		name string
		tbl  migrate.Table
	}{
		{"no name", migrate.Table{Columns: []migrate.Column{pk}}},
		{"no columns", migrate.Table{Name: "t"}},
		{"no primary key", migrate.Table{Name: "t", Columns: []migrate.Column{{Name: "a", Type: "TEXT"}}}},
		{"duplicate column", migrate.Table{Name: "t", Columns: []migrate.Column{pk, pk}}},
		{"injected type", migrate.Table{Name: "t", Columns: []migrate.Column{pk, {Name: "a", Type: "TEXT); DROP TABLE x; --"}}}},
		{"empty type", migrate.Table{Name: "t", Columns: []migrate.Column{pk, {Name: "a"}}}},
		{"semicolon default", migrate.Table{Name: "t", Columns: []migrate.Column{pk, {Name: "a", Type: "TEXT", Default: "'x'; DROP TABLE t"}}}},
		{"index on unknown column", migrate.Table{Name: "t", Columns: []migrate.Column{pk}, Indexes: []migrate.Index{{Columns: []string{"nope"}}}}},
		{"empty index", migrate.Table{Name: "t", Columns: []migrate.Column{pk}, Indexes: []migrate.Index{{}}}},
		{"partition column unknown", migrate.Table{Name: "t", Columns: []migrate.Column{pk}, PartitionBy: "region"}},
		{"unique without partition column", migrate.Table{Name: "t", PartitionBy: "id",
			Columns: []migrate.Column{pk, {Name: "email", Type: "TEXT", Unique: true}}}},
		{"unique index without partition column", migrate.Table{Name: "t", PartitionBy: "id",
			Columns: []migrate.Column{pk, {Name: "email", Type: "TEXT"}}, Indexes: []migrate.Index{{Columns: []string{"email"}, Unique: true}}}},
		{"negative partitions", migrate.Table{Name: "t", Columns: []migrate.Column{pk}, PartitionBy: "id", Partitions: -1}},
		{"name too long", migrate.Table{Name: strings.Repeat("x", 64), Columns: []migrate.Column{pk}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := migrate.PlanOffline(tt.tbl, nil, nil); !errors.Is(err, migrate.ErrInvalidTable) {
				t.Fatalf("got %v, want ErrInvalidTable", err)
			}
		})
	}
	ok := migrate.Table{Name: "t", Columns: []migrate.Column{pk,
		{Name: "a", Type: "numeric(10, 2)"}, {Name: "b", Type: "timestamp(3) with time zone"},
		{Name: "c", Type: "varchar(20)[]"}, {Name: "d", Type: "double precision"}, {Name: "e", Type: "public.citext", Nullable: true}}}
	if _, err := migrate.PlanOffline(ok, nil, nil); err != nil {
		t.Fatalf("valid types refused: %v", err)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	if _, err := migrate.New(nil, nil); err == nil {
		t.Fatal("nil pool accepted")
	}
	if migrate.DefaultLockID != 6004514643731623245 || string([]byte{0x53, 0x54, 0x52, 0x41, 0x54, 0x41, 0x2D, 0x4D}) != "STRATA-M" {
		t.Fatalf("DefaultLockID changed: %d", migrate.DefaultLockID)
	}
}

// TestPlanAddsOpaqueColumnOnlyWithoutZeroFill: a NOT NULL column whose
// stored form is opaque (ciphertext) is never filled with its type's zero
// value, which would make every existing row unreadable; a plain column of
// the same type is.
func TestPlanAddsOpaqueColumnOnlyWithoutZeroFill(t *testing.T) {
	t.Parallel()
	existing := map[string]migrate.ColumnState{"id": {Type: "TEXT", NotNull: true}}
	tests := []struct {
		name    string
		col     migrate.Column
		want    []string
		wantErr string
	}{
		{
			name: "plain NOT NULL is zero-filled",
			col:  migrate.Column{Name: "note", Type: "TEXT"},
			want: []string{
				`ALTER TABLE "t" ADD COLUMN IF NOT EXISTS "note" TEXT NOT NULL DEFAULT ''`,
				`ALTER TABLE "t" ALTER COLUMN "note" DROP DEFAULT`,
			},
		},
		{
			name:    "opaque NOT NULL is refused on a populated table",
			col:     migrate.Column{Name: "secret", Type: "TEXT", Opaque: true},
			wantErr: "opaque",
		},
		{
			name: "opaque nullable is added",
			col:  migrate.Column{Name: "secret", Type: "TEXT", Opaque: true, Nullable: true},
			want: []string{`ALTER TABLE "t" ADD COLUMN IF NOT EXISTS "secret" TEXT`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tbl := migrate.Table{Name: "t", Columns: []migrate.Column{{Name: "id", Type: "TEXT", PrimaryKey: true}, tt.col}}
			got, err := migrate.PlanOffline(tbl, existing, nil)
			if tt.wantErr != "" {
				if !errors.Is(err, migrate.ErrInvalidTable) || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "Nullable") {
					t.Fatalf("err = %v, want ErrInvalidTable mentioning %q and the way out", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Fatalf("plan (-want +got):\n%s", d)
			}
		})
	}
}

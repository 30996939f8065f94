package l3postgres_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/jackc/pgx/v5"
)

// TestVersionColumnIsReturnedAndRead: with TableDef.Version, an upsert
// returns the version its write committed (after the InsertOnly columns)
// in the same statement, and GetByID and GetMany read it after the
// columns; Query does not.
func TestVersionColumnIsReturnedAndRead(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	q := pgx.Identifier{f.schema, "players"}.Sanitize()
	if _, err := f.pool.Exec(ctx, fmt.Sprintf(`ALTER TABLE %s ADD COLUMN ver bigint NOT NULL DEFAULT 0;
		CREATE SEQUENCE %s; CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.ver := nextval('%s'); RETURN NEW; END $$;
		CREATE TRIGGER bump BEFORE INSERT OR UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION %s()`,
		q, pgx.Identifier{f.schema, "ver_seq"}.Sanitize(), pgx.Identifier{f.schema, "bump"}.Sanitize(),
		pgx.Identifier{f.schema, "ver_seq"}.Sanitize(), q, pgx.Identifier{f.schema, "bump"}.Sanitize())); err != nil {
		t.Fatal(err)
	}
	def := players
	def.Schema, def.Version = f.schema, "ver"
	tbl, err := f.db.Table(def)
	if err != nil {
		t.Fatal(err)
	}
	p := player{ID: "p1", Name: "ann", Level: 1, CreatedAt: t0}
	var created [2]int64
	for i := range created {
		var at any
		if err := tbl.UpsertReturning(ctx, p.values(), &at, &created[i]); err != nil {
			t.Fatal(err)
		}
	}
	if created[0] == 0 || created[1] <= created[0] {
		t.Errorf("versions returned by two upserts = %v, want increasing and not 0", created)
	}
	var got player
	var ver int64
	if err := tbl.GetByID(ctx, "p1", append(got.dest(), &ver)...); err != nil || ver != created[1] {
		t.Errorf("GetByID version = %d (%v), want %d", ver, err, created[1])
	}
	if err := tbl.GetByID(ctx, "p1", got.dest()...); !errors.Is(err, l3postgres.ErrInvalidQuery) {
		t.Errorf("GetByID without a destination for the version = %v, want ErrInvalidQuery", err)
	}
	rows, err := tbl.GetMany(ctx, []string{"p1"})
	if err != nil {
		t.Fatal(err)
	}
	if cols := rows.Columns(); cols[len(cols)-1] != "ver" {
		t.Errorf("GetMany columns = %v, want the version last", cols)
	}
	rows.Close()
	rows, err = tbl.Query(ctx, l3postgres.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if cols := rows.Columns(); len(cols) != len(def.Columns) {
		t.Errorf("Query columns = %v, want the table's columns only", cols)
	}
	rows.Close()
	bad := def
	bad.Version = "name"
	if _, err := f.db.Table(bad); !errors.Is(err, l3postgres.ErrInvalidTable) {
		t.Errorf("a Version that is also a column = %v, want ErrInvalidTable", err)
	}
}

package migrate

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// The row version (Table.RowVersion) is one sequence per PostgreSQL schema,
// <col>_seq, one trigger function per schema, <col>_bump(), and a trigger
// <col>_bump on each table: BEFORE INSERT OR UPDATE, FOR EACH ROW. A BEFORE
// UPDATE row trigger runs once the row is locked (an INSERT … ON CONFLICT
// DO UPDATE runs it on the conflicting row, after waiting for its lock), so
// of two writes of one row the one that commits later draws the later
// number: versions of a row increase in commit order. Versions never
// repeat, a row deleted and inserted again included. The sequence is not
// cached per session (CACHE 1), so numbers are drawn in time order.

// rowVersionDDL returns the statements that install t's row version
// trigger; schema is the table's PostgreSQL schema, resolved.
func rowVersionDDL(t Table, schema string) []string {
	col := t.RowVersion
	seq := pgx.Identifier{schema, col + "_seq"}.Sanitize()
	fn := pgx.Identifier{schema, col + "_bump"}.Sanitize()
	// The sequence name is a literal resolved when the function runs, so
	// it is schema-qualified: any search_path finds it.
	return []string{
		"CREATE SEQUENCE IF NOT EXISTS " + seq + " AS bigint CACHE 1",
		"CREATE OR REPLACE FUNCTION " + fn + "() RETURNS trigger LANGUAGE plpgsql AS $strata$ BEGIN NEW." +
			pgx.Identifier{col}.Sanitize() + " := nextval(" + quoteLiteral(seq) + "); RETURN NEW; END $strata$",
		// Dropped first, so that two descriptions of one table in a
		// single Migrate (two schemas sharing a table) install it once.
		"DROP TRIGGER IF EXISTS " + pgx.Identifier{col + "_bump"}.Sanitize() + " ON " + t.ident().Sanitize(),
		"CREATE TRIGGER " + pgx.Identifier{col + "_bump"}.Sanitize() + " BEFORE INSERT OR UPDATE ON " + t.ident().Sanitize() +
			" FOR EACH ROW EXECUTE FUNCTION " + fn + "()",
	}
}

// quoteLiteral returns s as a SQL string literal.
func quoteLiteral(s string) string {
	out := make([]byte, 0, len(s)+2)
	out = append(out, '\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}

// readRowVersion reports whether t's row version trigger exists and the
// schema the table is in (resolved from the search_path when t.Schema is
// "").
func readRowVersion(ctx context.Context, q queryer, t Table, exists bool) (bool, string, error) {
	schema := t.Schema
	if schema == "" {
		if err := q.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			return false, "", err
		}
	}
	if !exists {
		return false, schema, nil
	}
	var found bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = $2)`,
		t.ident().Sanitize(), t.RowVersion+"_bump").Scan(&found)
	return found, schema, err
}

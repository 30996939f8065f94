package strata_test

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// TestEncryptedColumnTamperedToEmptyFailsToDecrypt: an empty plaintext is
// sealed like any other, so ” in an encrypted column is never a value
// Strata wrote; a row whose column was set to ” behind Strata's back fails
// to read with ErrDecodeFailed instead of reading as "".
func TestEncryptedColumnTamperedToEmptyFailsToDecrypt(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	table := pgx.Identifier{tt.schema}.Sanitize()
	for _, a := range []*Account{{ID: "empty", Username: "e"}, {ID: "full", Username: "f", APIKey: "secret"}, {ID: "kept", Username: "k"}} {
		if err := tt.ds.Set(ctx, tt.schema, a.ID, a); err != nil {
			t.Fatal(err)
		}
	}
	var stored string
	if err := tt.pg.QueryRow(ctx, "SELECT api_key FROM "+table+" WHERE id = 'empty'").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored == "" {
		t.Fatal("an empty api_key is stored as '', not sealed")
	}
	if _, err := tt.pg.Exec(ctx, "UPDATE "+table+" SET api_key = '' WHERE id IN ('empty', 'full')"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"empty", "full", "kept"} {
		if err := tt.ds.Invalidate(ctx, tt.schema, id); err != nil { // read L3 from here on
			t.Fatal(err)
		}
	}
	for _, id := range []string{"empty", "full"} {
		got, err := strata.GetTyped[Account](ctx, tt.ds, tt.schema, id)
		if !errors.Is(err, strata.ErrDecodeFailed) {
			t.Errorf("Get of %q with api_key tampered to '' = %+v, %v; want ErrDecodeFailed", id, got, err)
		}
	}
	var rows []Account
	if err := tt.ds.Search(ctx, tt.schema, nil, &rows); !errors.Is(err, strata.ErrDecodeFailed) {
		t.Errorf("Search over tampered rows = %d rows, %v; want ErrDecodeFailed", len(rows), err)
	}
	if got, err := strata.GetTyped[Account](ctx, tt.ds, tt.schema, "kept"); err != nil || got.APIKey != "" {
		t.Errorf("Get of an untouched empty api_key = %+v, %v; want \"\"", got, err)
	}
}

type SealedNote struct {
	ID     string `strata:"primary_key"`
	Secret string `strata:"encrypted,nullable"`
}

// TestEncryptedNullableColumnNullReadsEmpty: NULL in a nullable encrypted
// column (what rows get when the field is added to a table that has rows)
// reads as "", while ” is still refused.
func TestEncryptedNullableColumnNullReadsEmpty(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	dsn := testenv.PostgresDSN(t)
	name := "vault_" + testenv.Suffix()
	pg := pgTable(t, dsn, name)
	ds := openStore(t, strata.Config{PostgresDSN: dsn, EncryptionKey: testKey}, strata.Schema{Name: name, Model: &SealedNote{}})
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"null", "blank"} {
		if err := ds.Set(ctx, name, id, &SealedNote{ID: id, Secret: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	table := pgx.Identifier{name}.Sanitize()
	if _, err := pg.Exec(ctx, "UPDATE "+table+" SET secret = CASE id WHEN 'null' THEN NULL ELSE '' END"); err != nil {
		t.Fatal(err)
	}
	if got, err := strata.GetTyped[SealedNote](ctx, ds, name, "null"); err != nil || got.Secret != "" {
		t.Errorf("Get with secret NULL = %+v, %v; want \"\"", got, err)
	}
	if got, err := strata.GetTyped[SealedNote](ctx, ds, name, "blank"); !errors.Is(err, strata.ErrDecodeFailed) {
		t.Errorf("Get with secret '' = %+v, %v; want ErrDecodeFailed", got, err)
	}
}

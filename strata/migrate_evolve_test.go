package strata_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

type ItemV1 struct {
	ID   string `strata:"primary_key"`
	Name string
}

type ItemMeta struct {
	Color string
	Size  int
}

// ItemV2 adds non-pointer fields without default: tags, and one with.
type ItemV2 struct {
	ID     string `strata:"primary_key"`
	Name   string
	Score  int
	Active bool
	Born   time.Time
	Meta   ItemMeta
	Label  string `strata:"default:new"`
}

// ItemV3 removes Name.
type ItemV3 struct {
	ID     string `strata:"primary_key"`
	Score  int
	Active bool
	Born   time.Time
	Meta   ItemMeta
	Label  string `strata:"default:new"`
}

// TestMigrateEvolvesPopulatedTable: adding non-pointer fields to a model
// whose table has rows used to make Migrate fail (ADD COLUMN … NOT NULL
// without a default); removing a field left a NOT NULL column that made
// every later Set fail while Migrate said nothing. Both now work: old rows
// read the new fields' zero values (or their default:), and Sets after the
// removal succeed.
func TestMigrateEvolvesPopulatedTable(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	ctx := ctxT(t)
	name := "evolve_" + testenv.Suffix()
	pgTable(t, dsn, name)
	cfg := strata.Config{PostgresDSN: dsn}

	v1 := openStore(t, cfg, strata.Schema{Name: name, Model: &ItemV1{}})
	if err := v1.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := v1.Set(ctx, name, "a", &ItemV1{ID: "a", Name: "ann"}); err != nil {
		t.Fatal(err)
	}

	v2 := openStore(t, cfg, strata.Schema{Name: name, Model: &ItemV2{}})
	if err := v2.Migrate(ctx); err != nil {
		t.Fatalf("Migrate adding fields to a table with rows: %v", err)
	}
	got, err := strata.GetTyped[ItemV2](ctx, v2, name, "a")
	if err != nil {
		t.Fatal(err)
	}
	if want := (ItemV2{ID: "a", Name: "ann", Label: "new"}); got != want || !got.Born.IsZero() {
		t.Fatalf("old row read through the new model = %+v, want %+v (zero values, the default: tag's value)", got, want)
	}
	born := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := v2.Set(ctx, name, "b", &ItemV2{ID: "b", Name: "bob", Score: 7, Active: true, Born: born, Meta: ItemMeta{"red", 2}}); err != nil {
		t.Fatal(err)
	}

	v3 := openStore(t, cfg, strata.Schema{Name: name, Model: &ItemV3{}})
	if err := v3.Migrate(ctx); err != nil {
		t.Fatalf("Migrate after removing a field: %v", err)
	}
	if err := v3.Set(ctx, name, "c", &ItemV3{ID: "c", Score: 3}); err != nil {
		t.Fatalf("Set after removing a field: %v", err)
	}
	for id, want := range map[string]ItemV3{
		"a": {ID: "a", Label: "new"},
		"b": {ID: "b", Score: 7, Active: true, Born: born, Meta: ItemMeta{"red", 2}, Label: "new"},
		"c": {ID: "c", Score: 3, Label: "new"},
	} {
		got, err := strata.GetTyped[ItemV3](ctx, v3, name, id)
		if err != nil || got.ID != want.ID || got.Score != want.Score || got.Active != want.Active || !got.Born.Equal(want.Born) ||
			got.Meta != want.Meta || got.Label != want.Label {
			t.Errorf("Get %s = %+v, %v; want %+v", id, got, err, want)
		}
	}
}

// ItemSealed adds an encrypted field to ItemV1, NOT NULL; ItemSealedNullable
// adds it nullable.
type ItemSealed struct {
	ID     string `strata:"primary_key"`
	Name   string
	Secret string `strata:"encrypted"`
}

type ItemSealedNullable struct {
	ID     string `strata:"primary_key"`
	Name   string
	Secret string `strata:"encrypted,nullable"`
}

// TestMigrateAddsEncryptedFieldOnlyWhenRowsStayReadable: filling a new
// NOT NULL encrypted column of a populated table with ” (the zero-fill of
// other new columns) would make every existing row unreadable, since ” is
// never a ciphertext. Migrate refuses it, naming the way out, and adds the
// field once it is nullable; the old row then reads Secret as "".
func TestMigrateAddsEncryptedFieldOnlyWhenRowsStayReadable(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	ctx := ctxT(t)
	name := "evolve_sealed_" + testenv.Suffix()
	pgTable(t, dsn, name)
	cfg := strata.Config{PostgresDSN: dsn, EncryptionKey: testKey}

	v1 := openStore(t, cfg, strata.Schema{Name: name, Model: &ItemV1{}})
	if err := v1.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := v1.Set(ctx, name, "a", &ItemV1{ID: "a", Name: "ann"}); err != nil {
		t.Fatal(err)
	}

	sealed := openStore(t, cfg, strata.Schema{Name: name, Model: &ItemSealed{}})
	err := sealed.Migrate(ctx)
	if !errors.Is(err, strata.ErrInvalidModel) || !strings.Contains(err.Error(), "Nullable") {
		t.Fatalf("Migrate adding a NOT NULL encrypted field to a table with rows = %v, want ErrInvalidModel naming the way out", err)
	}

	nullable := openStore(t, cfg, strata.Schema{Name: name, Model: &ItemSealedNullable{}})
	if err := nullable.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := strata.GetTyped[ItemSealedNullable](ctx, nullable, name, "a")
	if err != nil || got != (ItemSealedNullable{ID: "a", Name: "ann"}) {
		t.Fatalf("old row after adding a nullable encrypted field = %+v, %v", got, err)
	}
	if err := nullable.Set(ctx, name, "b", &ItemSealedNullable{ID: "b", Name: "bob", Secret: "s"}); err != nil {
		t.Fatal(err)
	}
	if got, err := strata.GetTyped[ItemSealedNullable](ctx, nullable, name, "b"); err != nil || got.Secret != "s" {
		t.Fatalf("new row = %+v, %v", got, err)
	}
}

package strata_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

type Shipment struct {
	ID        string `strata:"primary_key"`
	Region    string
	Qty       int
	CreatedAt time.Time `strata:"auto_now_add"`
}

// TestPartitionBySetChangingPartitionKeepsOneRow: a Set (or SetMany, or a
// Tx) that changes the partition column used to insert a second row with
// the same id; now the row moves, Get returns the new value, and the first
// write's auto_now_add time is kept.
func TestPartitionBySetChangingPartitionKeepsOneRow(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	ctx := ctxT(t)
	name := "ship_" + testenv.Suffix()
	pg := pgTable(t, dsn, name)
	ds := openStore(t, strata.Config{PostgresDSN: dsn}, strata.Schema{Name: name, Model: &Shipment{}, L3: strata.PostgresPolicy{PartitionBy: "region"}})
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	first := &Shipment{ID: "s1", Region: "eu", Qty: 1}
	if err := ds.Set(ctx, name, "s1", first); err != nil {
		t.Fatal(err)
	}
	check := func(step, region string, qty int) {
		t.Helper()
		var n int
		if err := pg.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{name}.Sanitize()+" WHERE id = $1", "s1").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%s: %d rows with id s1, want 1", step, n)
		}
		got, err := strata.GetTyped[Shipment](ctx, ds, name, "s1")
		if err != nil {
			t.Fatalf("%s: Get: %v", step, err)
		}
		if got.Region != region || got.Qty != qty || !got.CreatedAt.Equal(first.CreatedAt) {
			t.Errorf("%s: Get = %+v, want region %s, qty %d, created %v", step, got, region, qty, first.CreatedAt)
		}
	}
	check("first Set", "eu", 1)
	for i, r := range []string{"us", "ap", "sa", "eu"} {
		if err := ds.Set(ctx, name, "s1", &Shipment{ID: "s1", Region: r, Qty: 10 + i}); err != nil {
			t.Fatal(err)
		}
		check("Set to "+r, r, 10+i)
	}
	if err := ds.SetMany(ctx, name, map[string]any{"s1": &Shipment{ID: "s1", Region: "af", Qty: 20}}); err != nil {
		t.Fatal(err)
	}
	check("SetMany to af", "af", 20)
	if err := ds.Tx(ctx).Set(name, "s1", &Shipment{ID: "s1", Region: "me", Qty: 30}).Commit(); err != nil {
		t.Fatal(err)
	}
	check("Tx to me", "me", 30)
}

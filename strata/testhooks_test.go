package strata_test

import (
	"sync/atomic"
	"testing"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// TestTestHooksArePerDataStore: a test switch set on one DataStore is not
// seen by another (they were package globals, read by every store's read
// path, so parallel tests could reach each other's stores).
func TestTestHooksArePerDataStore(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	ctx := ctxT(t)
	name := "hooks_" + testenv.Suffix()
	schema := strata.Schema{Name: name, Model: &Score{}}
	a := openStore(t, strata.Config{PostgresDSN: dsn}, schema)
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	pgTable(t, dsn, name)
	b := openStore(t, strata.Config{PostgresDSN: dsn}, schema)
	if err := a.Set(ctx, name, "k", &Score{ID: "k", Value: 1}); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	a.SetTestHookAfterL3Read(func(string, string) { calls.Add(1) })
	if _, err := strata.GetTyped[Score](ctx, b, name, "k"); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("B's L3 read ran A's hook %d times", n)
	}
	a.DropL1(name, "k")
	if _, err := strata.GetTyped[Score](ctx, a, name, "k"); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("A's L3 read ran its hook %d times, want 1", n)
	}
}

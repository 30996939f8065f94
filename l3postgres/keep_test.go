package l3postgres_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/AndrewDonelson/strata/l3postgres"
)

// TestUpsertKeep: a Keep value is inserted into a new row and leaves an
// existing row's column as it is, on both upserts and in one batch that
// mixes rows keeping different columns.
func TestUpsertKeep(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	get := func(id string) player {
		t.Helper()
		var p player
		if err := f.tbl.GetByID(ctx, id, p.dest()...); err != nil {
			t.Fatal(err)
		}
		return p
	}

	// Insert: the Keep value is written.
	if err := f.tbl.Upsert(ctx, "k1", l3postgres.Keep{Value: "first"}, int64(1), t0); err != nil {
		t.Fatal(err)
	}
	if p := get("k1"); p.Name != "first" {
		t.Fatalf("inserted name = %q, want the Keep value", p.Name)
	}
	// Update: the kept column stays, the others change.
	if err := f.tbl.Upsert(ctx, "k1", l3postgres.Keep{Value: ""}, int64(2), t0); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(player{"k1", "first", 2, t0}, get("k1"), cmpTime); d != "" {
		t.Fatalf("after a Keep update (-want +got):\n%s", d)
	}
	// Everything kept: the row is untouched and the statement still works.
	if err := f.tbl.Upsert(ctx, "k1", l3postgres.Keep{Value: "x"}, l3postgres.Keep{Value: int64(9)}, t0); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(player{"k1", "first", 2, t0}, get("k1"), cmpTime); d != "" {
		t.Fatalf("after an all-Keep update (-want +got):\n%s", d)
	}

	// A batch: rows keeping name, keeping level, keeping nothing, and new.
	seed(t, f.tbl, 3) // p000..p002, names name000.., levels 0..2
	rows := [][]any{
		{"p000", l3postgres.Keep{Value: "ignored0"}, int64(10), t0},
		{"p001", "renamed1", l3postgres.Keep{Value: int64(99)}, t0},
		{"p002", "renamed2", int64(12), t0},
		{"n1", l3postgres.Keep{Value: "new1"}, l3postgres.Keep{Value: int64(7)}, t0},
	}
	n, err := f.tbl.UpsertMany(ctx, rows)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("UpsertMany wrote %d rows, want 4", n)
	}
	want := map[string]player{
		"p000": {"p000", "name000", 10, t0},
		"p001": {"p001", "renamed1", 1, t0},
		"p002": {"p002", "renamed2", 12, t0},
		"n1":   {"n1", "new1", 7, t0},
	}
	got := map[string]player{}
	for id := range want {
		got[id] = get(id)
	}
	if d := cmp.Diff(want, got, cmpTime); d != "" {
		t.Errorf("after the mixed batch (-want +got):\n%s", d)
	}
	// The caller's rows are not changed.
	if _, ok := rows[0][1].(l3postgres.Keep); !ok {
		t.Error("UpsertMany replaced the caller's Keep value")
	}
}

// TestUpsertReturningInsertOnly: the returning upserts report what the
// InsertOnly column holds after the write: the first insert's value.
func TestUpsertReturningInsertOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	later := t0.Add(time.Hour)

	var created time.Time
	if err := f.tbl.UpsertReturning(ctx, []any{"r1", "r1", int64(1), t0}, &created); err != nil {
		t.Fatal(err)
	}
	if !created.Equal(t0) {
		t.Errorf("new row: created_at %v, want %v", created, t0)
	}
	if err := f.tbl.UpsertReturning(ctx, []any{"r1", "r1", int64(2), later}, &created); err != nil {
		t.Fatal(err)
	}
	if !created.Equal(t0) {
		t.Errorf("existing row: created_at %v, want the first insert's %v", created, t0)
	}
	// Every updatable column kept: the existing row is still reported.
	if err := f.tbl.UpsertReturning(ctx, []any{"r1", l3postgres.Keep{Value: "x"}, l3postgres.Keep{Value: int64(3)}, later}, &created); err != nil {
		t.Fatal(err)
	}
	if !created.Equal(t0) {
		t.Errorf("all-Keep update: created_at %v, want %v", created, t0)
	}
	if err := f.tbl.UpsertReturning(ctx, []any{"r1", "r1", int64(2), later}); !errors.Is(err, l3postgres.ErrInvalidQuery) {
		t.Errorf("missing destination: %v, want ErrInvalidQuery", err)
	}

	// A batch: two existing rows (one kept name), one new, one repeated key.
	rows := [][]any{
		{"r1", l3postgres.Keep{Value: "r1"}, int64(5), later},
		{"r2", "r2", int64(1), later},
		{"r2", "r2", int64(2), later},
		{"r3", "r3", int64(1), later},
	}
	if err := f.tbl.Upsert(ctx, "r3", "r3", int64(0), t0); err != nil {
		t.Fatal(err)
	}
	got := map[string]time.Time{}
	n, err := f.tbl.UpsertManyReturning(ctx, rows, func(scan func(dest ...any) error) error {
		var id string
		var c time.Time
		if err := scan(&id, &c); err != nil {
			return err
		}
		got[id] = c
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{"r1": t0, "r2": later, "r3": t0}
	if d := cmp.Diff(want, got, cmpTime); d != "" || n != 3 {
		t.Errorf("UpsertManyReturning wrote %d rows (want 3), returned (-want +got):\n%s", n, d)
	}
	if _, err := f.tbl.UpsertManyReturning(ctx, rows, nil); !errors.Is(err, l3postgres.ErrInvalidQuery) {
		t.Errorf("nil function: %v, want ErrInvalidQuery", err)
	}
}

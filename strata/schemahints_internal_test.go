package strata

import (
	"context"
	"errors"
	"strings"
	"testing"
)

type hintRow struct {
	ID string `strata:"primary_key"`
	N  int
}

// TestSchemaHintsNeverResolveAnotherName: a hint slot is found by the
// address of a name's bytes, so names that share a slot (here: every name,
// as one slot is forced) or a name at a new address must still resolve to
// their own schema or miss, never to another; and a hinted name is
// ErrUnavailable once the store is closed.
func TestSchemaHintsNeverResolveAnotherName(t *testing.T) {
	ctx := context.Background()
	ds, err := NewDataStore(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	for _, name := range []string{"alpha", "bravo", "alpha2"} {
		if err := ds.Register(Schema{Name: name, Model: &hintRow{}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 { // the first resolve fills the slot, the next ones use it
		for _, name := range []string{"alpha", "bravo", "alpha2", strings.Clone("alpha"), "alpha" + "2"[:i%2]} {
			st, err := ds.schema(name)
			if err != nil {
				t.Fatalf("schema(%q): %v", name, err)
			}
			if st.Name != name {
				t.Fatalf("schema(%q) resolved to %q", name, st.Name)
			}
		}
	}

	var h schemaHints // one slot holding "alpha": other names must miss
	alpha, _ := ds.schema("alpha")
	h.remember("alpha", alpha)
	if got := h.lookup("alpha"); got != alpha {
		t.Fatalf("lookup(alpha) = %v after remember", got)
	}
	for _, other := range []string{"bravo", "alpha2", "alph", ""} {
		s := &h.slot[schemaHintOf(other)]
		s.Store(&schemaHint{name: "alpha", st: alpha}) // as if other's slot held alpha
		if got := h.lookup(other); got != nil {
			t.Errorf("lookup(%q) = schema %q from a shared slot; want a miss", other, got.Name)
		}
	}

	if err := ds.Set(ctx, "alpha", "a", &hintRow{ID: "a", N: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := GetTyped[hintRow](ctx, ds, "alpha", "a"); err != nil {
		t.Fatal(err)
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := GetTyped[hintRow](ctx, ds, "alpha", "a"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("GetTyped of a hinted schema after Close: %v; want ErrUnavailable", err)
	}
	if _, err := ds.schema("alpha"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("schema(alpha) after Close: %v; want ErrUnavailable", err)
	}
}

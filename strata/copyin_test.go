package strata_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/AndrewDonelson/strata/strata"
)

type cycNode struct {
	ID     string `strata:"primary_key"`
	Next   *cycNode
	Parent *cycNode `strata:"-"` // never stored: may point anywhere
}

type cycTree struct {
	ID   string `strata:"primary_key"`
	Kids []cycTree
}

type cycMap map[string]cycMap

type cycDoc struct {
	ID   string `strata:"primary_key"`
	Tree cycMap
	Doc  map[string]any
}

// TestSetRefusesReferenceCycle: a value whose stored fields contain a
// reference cycle is refused with ErrInvalidModel naming the field path,
// instead of overflowing the stack (which kills the process).
func TestSetRefusesReferenceCycle(t *testing.T) {
	t.Parallel()
	ds, err := strata.NewDataStore(strata.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	for _, s := range []strata.Schema{{Name: "node", Model: &cycNode{}}, {Name: "tree", Model: &cycTree{}}, {Name: "doc", Model: &cycDoc{}}} {
		if err := ds.Register(s); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, schema string
		value        func() any
		want         string // in the error message
	}{
		{"pointer to itself", "node", func() any {
			n := &cycNode{ID: "a"}
			n.Next = n
			return n
		}, "Next refers back to the value itself"},
		{"two-node pointer loop", "node", func() any {
			a, b := &cycNode{ID: "a"}, &cycNode{ID: "b"}
			a.Next, b.Next = b, a
			return a
		}, "Next.Next refers back to the value itself"},
		{"loop below the value, passed by value", "node", func() any {
			a, b := &cycNode{ID: "x"}, &cycNode{ID: "y"}
			a.Next, b.Next = b, a
			return cycNode{ID: "a", Next: a}
		}, "Next.Next.Next refers back to Next"},
		{"slice containing itself", "tree", func() any {
			tr := &cycTree{ID: "a", Kids: make([]cycTree, 1)}
			tr.Kids[0].Kids = tr.Kids
			return tr
		}, "Kids[0].Kids refers back to Kids"},
		{"map containing itself", "doc", func() any {
			m := cycMap{}
			m["self"] = m
			return &cycDoc{ID: "a", Tree: m}
		}, `Tree["self"] refers back to Tree`},
		{"map[string]any containing itself", "doc", func() any {
			m := map[string]any{"n": 1.0}
			m["self"] = []any{m}
			return &cycDoc{ID: "a", Doc: m}
		}, `Doc["self"][0] refers back to Doc`},
		{"too deep", "node", func() any {
			n := &cycNode{ID: "a"}
			for range 20_000 {
				n = &cycNode{ID: "a", Next: n}
			}
			return n
		}, "nests more than 10000 references deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxT(t) // each case its own deadline: deep values are slow under -race on a loaded machine
			err := ds.Set(ctx, tt.schema, "a", tt.value())
			if !errors.Is(err, strata.ErrInvalidModel) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Set error = %v, want ErrInvalidModel saying %q", err, tt.want)
			}
			if err := ds.SetMany(ctx, tt.schema, map[string]any{"a": tt.value()}); !errors.Is(err, strata.ErrInvalidModel) {
				t.Fatalf("SetMany error = %v, want ErrInvalidModel", err)
			}
		})
	}
}

// TestSetKeepsDeepAndSharedValues: values that are deep, or share memory
// without a cycle, are stored as before; a cycle in a field Strata does not
// store is ignored.
func TestSetKeepsDeepAndSharedValues(t *testing.T) {
	t.Parallel()
	// Each call its own deadline, as in TestSetRefusesReferenceCycle: a
	// 2,001-node value is slow under -race on a loaded machine (one 10 s
	// deadline for the whole test ran out at load 27).
	ctx := func() context.Context { return ctxT(t) }
	ds := openStore(t, strata.Config{}, strata.Schema{Name: "node", Model: &cycNode{}})
	if err := ds.Register(strata.Schema{Name: "tree", Model: &cycTree{}}); err != nil {
		t.Fatal(err)
	}

	deep := &cycNode{ID: "deep"}
	for range 2_000 { // far beyond the shallow budget, far below the limit
		deep = &cycNode{ID: "deep", Next: deep}
	}
	deep.Parent = deep // a cycle in a strata:"-" field
	if err := ds.Set(ctx(), "node", "deep", deep); err != nil {
		t.Fatalf("Set of a 2,001-node list: %v", err)
	}
	var got cycNode
	if err := ds.Get(ctx(), "node", "deep", &got); err != nil {
		t.Fatal(err)
	}
	want := *deep
	want.Parent = nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the list read back differs from the list written (-want +got):\n%s", diff)
	}

	shared := []cycTree{{ID: "leaf"}}
	tr := &cycTree{ID: "shared", Kids: []cycTree{{ID: "l", Kids: shared}, {ID: "r", Kids: shared}}}
	if err := ds.Set(ctx(), "tree", "shared", tr); err != nil {
		t.Fatalf("Set of a tree sharing a subtree: %v", err)
	}
}

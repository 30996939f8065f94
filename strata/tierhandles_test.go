package strata_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// tierHandles are the DataStore's and a schema's tier handles and the
// flags that say which tiers a schema has (issue 12): only the truth
// (truth*.go), coherence (coherence*.go, outage.go) and lifecycle
// (lifecycle*.go) files may use them; every other file asks the schema's
// truth or coherence.
var tierHandles = map[string]bool{"l2": true, "bus": true, "l3": true, "l3v": true, "wb": true, "l1Truth": true, "useL1": true}

func tierHandleHome(file string) bool {
	return strings.HasPrefix(file, "truth") || strings.HasPrefix(file, "coherence") ||
		strings.HasPrefix(file, "lifecycle") || file == "outage.go"
}

// TestTierHandlesOnlyInTruthCoherenceLifecycle fails for a non-test file
// of package strata, outside those homes, that selects a tier handle of a
// DataStore or schemaState (a selector on an identifier or field named ds
// or st).
func TestTierHandlesOnlyInTruthCoherenceLifecycle(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") || tierHandleHome(file) {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok || !tierHandles[sel.Sel.Name] || !ownerNamed(sel.X) {
				return true
			}
			t.Errorf("%s: uses the tier handle .%s; ask the schema's truth or coherence instead", fset.Position(sel.Pos()), sel.Sel.Name)
			return true
		})
	}
}

// ownerNamed reports whether x is ds or st, or a field of that name.
func ownerNamed(x ast.Expr) bool {
	var name string
	switch x := x.(type) {
	case *ast.Ident:
		name = x.Name
	case *ast.SelectorExpr:
		name = x.Sel.Name
	}
	return name == "ds" || name == "st"
}

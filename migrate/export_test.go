package migrate

import "context"

// SplitStatements exposes the script splitter to the external tests.
var SplitStatements = splitStatements

// SplitTypmod exposes the type-modifier splitter to the external tests.
var SplitTypmod = splitTypmod

// baseTypes resolves a type to its name without modifiers, standing in for the
// server in offline tests.
type baseTypes struct{}

func (baseTypes) resolve(_ context.Context, typ string) (string, error) {
	base, _ := splitTypmod(typ)
	return base, nil
}

// hasRows says every existing table has rows.
func (baseTypes) hasRows(context.Context, Table) (bool, error) { return true, nil }

// ColumnState is a catalog column for PlanOffline.
type ColumnState struct {
	Type    string
	NotNull bool
}

// PlanOffline plans t against a catalog described by hand (nil columns
// means the table does not exist), resolving a type to its name without modifiers.
func PlanOffline(t Table, columns map[string]ColumnState, indexes []string) ([]string, error) {
	v, err := t.validate()
	if err != nil {
		return nil, err
	}
	st := tableState{exists: columns != nil, columns: map[string]columnState{}, indexes: map[string]bool{}}
	for n, c := range columns {
		st.columns[n] = columnState{typ: c.Type, notNull: c.NotNull}
	}
	for _, ix := range indexes {
		st.indexes[ix] = true
	}
	stmts, _, err := planTable(context.Background(), v, st, baseTypes{})
	return stmts, err
}

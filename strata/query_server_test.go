package strata_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

type Ranked struct {
	ID    string `strata:"primary_key"`
	Level int
}

// TestSearchPlaceholderWithoutArgumentIsRefused is the query that used to
// return wrong rows: $2 had no argument and took the LIMIT's value, so
// "level > 1 AND level < 3" ran instead of failing.
func TestSearchPlaceholderWithoutArgumentIsRefused(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	ctx := ctxT(t)
	name := "ranked_" + testenv.Suffix()
	pgTable(t, dsn, name)
	ds := openStore(t, strata.Config{PostgresDSN: dsn}, strata.Schema{Name: name, Model: &Ranked{}})
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		id := fmt.Sprintf("r%02d", i)
		if err := ds.Set(ctx, name, id, &Ranked{ID: id, Level: i % 10}); err != nil {
			t.Fatal(err)
		}
	}

	q := strata.Q().Where("level > $1 AND level < $2", 1).Limit(3).Build()
	rows, err := strata.SearchTyped[Ranked](ctx, ds, name, &q)
	if err == nil {
		t.Fatalf("Search with $2 but one argument returned %d rows and no error: %+v", len(rows), rows)
	}
	if !errors.Is(err, strata.ErrInvalidQuery) || !errors.Is(err, l3postgres.ErrInvalidQuery) {
		t.Fatalf("Search with $2 but one argument: %v, want strata.ErrInvalidQuery and l3postgres.ErrInvalidQuery", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "$2") || !strings.Contains(msg, "1 argument") {
		t.Errorf("the error does not name both counts: %v", err)
	}
	if _, err := ds.Count(ctx, name, &q); !errors.Is(err, strata.ErrInvalidQuery) {
		t.Errorf("Count with $2 but one argument: %v, want ErrInvalidQuery", err)
	}
	var list []Ranked
	if err := ds.SearchCached(ctx, name, &q, &list); !errors.Is(err, strata.ErrInvalidQuery) {
		t.Errorf("SearchCached with $2 but one argument: %v, want ErrInvalidQuery", err)
	}
	qm := strata.Q().Where("level > ? AND level < ?", 1, 5).Build()
	if _, err := strata.SearchTyped[Ranked](ctx, ds, name, &qm); !errors.Is(err, strata.ErrInvalidQuery) || !strings.Contains(err.Error(), "Strata uses $1") {
		t.Errorf("Search with ? placeholders: %v, want ErrInvalidQuery saying Strata uses $1 placeholders", err)
	}
	// A $n inside a string literal is not a placeholder.
	ql := strata.Q().Where("level > $1 AND id <> '$2'", 7).Build()
	if rows, err := strata.SearchTyped[Ranked](ctx, ds, name, &ql); err != nil || len(rows) != 4 {
		t.Errorf("Search with '$2' in a literal = %d rows, %v; want 4", len(rows), err)
	}
	ok := strata.Q().Where("level > $1 AND level < $2", 1, 3).Limit(100).Build()
	if rows, err := strata.SearchTyped[Ranked](ctx, ds, name, &ok); err != nil || len(rows) != 2 {
		t.Errorf("Search with both arguments = %d rows, %v; want 2", len(rows), err)
	}
}

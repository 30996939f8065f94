package strata

import (
	"fmt"

	"github.com/AndrewDonelson/strata/l3postgres"
)

// Query selects rows of one schema for Search, SearchTyped, SearchCached and
// Count. Build one with Q(). It is a value: copy it rather than share a
// *Query between goroutines. A nil *Query means every row, up to
// DefaultQueryLimit.
type Query struct {
	// Where is a SQL condition with $1, $2, ... placeholders for Args. It is
	// written by the program, never from user input: values belong in Args.
	Where string
	// Args are the values of Where's placeholders, sent as query parameters.
	// The highest $n in Where (outside string literals, quoted identifiers,
	// comments and dollar-quoted strings) must be len(Args), or the call
	// fails with ErrInvalidQuery before anything is sent.
	Args []any
	// OrderBy is a column name of the schema (checked against it).
	OrderBy string
	// Desc sorts OrderBy descending.
	Desc bool
	// Limit caps the rows returned. 0 means DefaultQueryLimit for Search;
	// Count ignores it.
	Limit int
	// Offset skips rows.
	Offset int
	// Fields restricts the columns read (projection); the primary key is
	// always read. Empty means every column.
	Fields []string
	// ForceL3 reads PostgreSQL and neither reads nor fills L1 and L2.
	ForceL3 bool
	// ForceL2 makes SearchCached skip its result-set cache lookup (the
	// result is still stored), for callers that need a fresh read.
	ForceL2 bool
}

// QueryBuilder assembles a Query fluently; see Q.
type QueryBuilder struct {
	q Query
}

// Q starts a query: strata.Q().Where("level > $1", 10).OrderBy("score").Desc().Limit(25).Build().
func Q() *QueryBuilder { return &QueryBuilder{} }

// Where sets the condition and its arguments.
func (b *QueryBuilder) Where(cond string, args ...any) *QueryBuilder {
	b.q.Where, b.q.Args = cond, append([]any(nil), args...)
	return b
}

// OrderBy sorts by a column of the schema, ascending unless Desc follows.
func (b *QueryBuilder) OrderBy(column string) *QueryBuilder { b.q.OrderBy = column; return b }

// Desc sorts descending.
func (b *QueryBuilder) Desc() *QueryBuilder { b.q.Desc = true; return b }

// Limit caps the number of rows.
func (b *QueryBuilder) Limit(n int) *QueryBuilder { b.q.Limit = n; return b }

// Offset skips n rows.
func (b *QueryBuilder) Offset(n int) *QueryBuilder { b.q.Offset = n; return b }

// Fields restricts the columns read.
func (b *QueryBuilder) Fields(columns ...string) *QueryBuilder {
	b.q.Fields = append([]string(nil), columns...)
	return b
}

// ForceL3 bypasses L1 and L2 for this query.
func (b *QueryBuilder) ForceL3() *QueryBuilder { b.q.ForceL3 = true; return b }

// ForceL2 makes SearchCached refresh its cached result set.
func (b *QueryBuilder) ForceL2() *QueryBuilder { b.q.ForceL2 = true; return b }

// Build returns the Query. The builder can be reused; the Query does not
// share its slices with it.
func (b *QueryBuilder) Build() Query {
	q := b.q
	q.Args = append([]any(nil), q.Args...)
	q.Fields = append([]string(nil), q.Fields...)
	return q
}

// checkWhere refuses, before any round trip, a Where whose highest $n
// placeholder (outside literals, quoted identifiers and comments) is not
// len(Args): a placeholder without its argument would otherwise take the
// value of the LIMIT that follows the arguments.
func (q *Query) checkWhere(schema string) error {
	highest, question, err := l3postgres.Placeholders(q.Where)
	if err != nil {
		return translate(ErrInvalidQuery, err, fmt.Sprintf("schema %q: %s", schema, explain(err)))
	}
	if highest == len(q.Args) {
		return nil
	}
	msg := fmt.Sprintf("schema %q: Where %q has placeholders up to $%d but %d argument(s) were given", schema, q.Where, highest, len(q.Args))
	if highest == 0 {
		msg = fmt.Sprintf("schema %q: Where %q has no $n placeholder but %d argument(s) were given", schema, q.Where, len(q.Args))
	}
	if question {
		msg += "; Strata uses $1, $2, … placeholders, not ?"
	}
	return fmt.Errorf("%w: %s", ErrInvalidQuery, msg)
}

// check validates q for Search and SearchCached.
func (q *Query) check(schema string) error {
	if q.Limit < 0 || q.Offset < 0 {
		return fmt.Errorf("%w: schema %q: Limit and Offset must not be negative", ErrInvalidQuery, schema)
	}
	return q.checkWhere(schema)
}

package strata

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

// countingL3 is a real PostgreSQL table that counts the reads it is asked
// for and can hold them: GetMany and GetByID wait for their gate while it
// is set, after announcing themselves on entered.
type countingL3 struct {
	l3Table
	mu      sync.Mutex
	byID    int
	many    [][]string // the ids of each GetMany
	gate    chan struct{}
	entered chan string
}

func (c *countingL3) hold() (gate chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gate = make(chan struct{})
	return c.gate
}

func (c *countingL3) wait(ctx context.Context, what string) {
	c.mu.Lock()
	gate := c.gate
	c.mu.Unlock()
	if gate == nil {
		return
	}
	c.entered <- what
	select {
	case <-gate:
	case <-ctx.Done():
	}
}

func (c *countingL3) GetByID(ctx context.Context, id any, dest ...any) error {
	c.mu.Lock()
	c.byID++
	c.mu.Unlock()
	c.wait(ctx, "GetByID "+id.(string))
	return c.l3Table.GetByID(ctx, id, dest...)
}

func (c *countingL3) GetMany(ctx context.Context, ids any) (*l3postgres.Rows, error) {
	want := slices.Clone(ids.([]string))
	slices.Sort(want)
	c.mu.Lock()
	c.many = append(c.many, want)
	c.mu.Unlock()
	c.wait(ctx, "GetMany")
	return c.l3Table.GetMany(ctx, ids)
}

func (c *countingL3) reads() (byID int, many [][]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byID, slices.Clone(c.many)
}

func (c *countingL3) waitEntered(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-c.entered:
		if got != want {
			t.Fatalf("PostgreSQL was asked for %s, want %s", got, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("PostgreSQL was not asked for %s within 30 s", want)
	}
}

// A cold GetMany of N ids is one PostgreSQL query through L1's bulk
// single-flight loader — not one goroutine (and one L1 flight) per missing
// id — and it shares loads with concurrent Gets both ways: a Get of one of
// its ids waits for the bulk query, and a GetMany leaves out of its query
// an id whose Get is already reading it.
func TestColdGetManyIsOneBulkLoad(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := "bulk_" + testenv.Suffix()
	schema := Schema{Name: name, Model: &acct{}}
	writer, err := NewDataStore(Config{PostgresDSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	if err := writer.Register(schema); err != nil {
		t.Fatal(err)
	}
	if err := writer.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 400
	ids := make([]string, n)
	want := map[string]acct{}
	for i := range ids {
		ids[i] = fmt.Sprintf("a%03d", i)
		want[ids[i]] = acct{ID: ids[i], Name: "n" + ids[i], N: int64(i)}
		if err := writer.Set(ctx, name, ids[i], &acct{ID: ids[i], Name: "n" + ids[i], N: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}

	ds, err := NewDataStore(Config{PostgresDSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	tbl := &countingL3{entered: make(chan string, 4)}
	ds.test.l3 = func(st *schemaState) l3Table {
		real, err := ds.l3.Table(st.tableDef())
		if err != nil {
			t.Fatal(err)
		}
		tbl.l3Table = pgTable{Table: real, primary: ds.l3}
		return tbl
	}
	if err := ds.Register(schema); err != nil {
		t.Fatal(err)
	}

	a, b := ids[:n/2], ids[n/2:]
	type result struct {
		got map[string]acct
		err error
	}
	subset := func(ids []string) map[string]acct {
		m := map[string]acct{}
		for _, id := range ids {
			m[id] = want[id]
		}
		return m
	}

	// 1. A cold GetMany of a[1:] while PostgreSQL holds its query, and a
	// Get of a[1] meanwhile.
	gate := tbl.hold()
	base := runtime.NumGoroutine()
	many := make(chan result, 1)
	go func() {
		got, err := GetManyTyped[acct](ctx, ds, name, a[1:])
		many <- result{got, err}
	}()
	tbl.waitEntered(t, "GetMany")
	single := make(chan error, 1)
	go func() {
		got, err := GetTyped[acct](ctx, ds, name, a[1])
		if err == nil && got != want[a[1]] {
			err = fmt.Errorf("Get(%s) = %+v, want %+v", a[1], got, want[a[1]])
		}
		single <- err
	}()
	select {
	case err := <-single:
		t.Errorf("a Get of an id the held GetMany is loading returned before it (err %v): it did not share the bulk load", err)
	case <-time.After(200 * time.Millisecond):
	}
	// Both calls are waiting for the held query by now (the Get's own
	// goroutine is one of the extra ones).
	if extra := runtime.NumGoroutine() - base; extra > len(a)/4 {
		t.Errorf("a cold GetMany of %d ids runs %d goroutines, want a handful (one bulk load)", len(a)-1, extra)
	}
	close(gate)
	r := <-many
	if r.err != nil {
		t.Fatal(r.err)
	}
	if diff := cmp.Diff(subset(a[1:]), r.got); diff != "" {
		t.Errorf("GetMany (-want +got):\n%s", diff)
	}
	if err := <-single; err != nil {
		t.Error(err)
	}
	byID, queries := tbl.reads()
	if byID != 0 || len(queries) != 1 {
		t.Errorf("a cold GetMany of %d ids and a Get of one of them made %d GetByID and %d GetMany queries, want 0 and 1", len(a)-1, byID, len(queries))
	}

	// 2. A Get of b[0] is reading it when a GetMany of b begins: the
	// GetMany's one query leaves b[0] out, and it waits for the Get.
	gate = tbl.hold()
	go func() {
		_, err := GetTyped[acct](ctx, ds, name, b[0])
		single <- err
	}()
	tbl.waitEntered(t, "GetByID "+b[0])
	go func() {
		got, err := GetManyTyped[acct](ctx, ds, name, b)
		many <- result{got, err}
	}()
	tbl.waitEntered(t, "GetMany")
	close(gate)
	if err := <-single; err != nil {
		t.Fatal(err)
	}
	if r := <-many; r.err != nil || cmp.Diff(subset(b), r.got) != "" {
		t.Errorf("GetMany of b: %v (-want +got):\n%s", r.err, cmp.Diff(subset(b), r.got))
	}
	byID, queries = tbl.reads()
	if byID != 1 || len(queries) != 2 {
		t.Fatalf("after a Get of b[0] and a GetMany of b: %d GetByID and %d GetMany queries in all, want 1 and 2", byID, len(queries))
	}
	if diff := cmp.Diff(b[1:], queries[1]); diff != "" {
		t.Errorf("the GetMany of b queried (-want +got):\n%s", diff)
	}
}

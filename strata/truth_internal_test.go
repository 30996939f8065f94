package strata

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/google/go-cmp/cmp"
)

// Pattern 2 of the spec's "Testing without a database": a failing table
// behind the DataStore (ds.test.l3, see testhooks.go) drives the L3 error paths of
// Get, Set, Delete, Search and Tx without a server.

type acct struct {
	ID   string `strata:"primary_key"`
	Name string
	N    int64
}

// fakeL3 is an in-memory table whose calls fail with err while it is set.
// With block set, a call waits for its context instead (a PostgreSQL that
// hangs) and returns the context's error, as pgx does.
type fakeL3 struct {
	mu    sync.Mutex
	err   error
	block bool
	rows  map[string][]any // id -> column values as Upsert got them
	calls int
}

func (f *fakeL3) fail(ctx context.Context) error {
	f.mu.Lock()
	f.calls++
	err, block := f.err, f.block
	f.mu.Unlock()
	if block {
		<-ctx.Done()
		return fmt.Errorf("%w: %w", l3postgres.ErrUnavailable, ctx.Err())
	}
	return err
}

func (f *fakeL3) set(err error, block bool) {
	f.mu.Lock()
	f.err, f.block = err, block
	f.mu.Unlock()
}

func (f *fakeL3) GetByID(ctx context.Context, id any, dest ...any) error {
	if err := f.fail(ctx); err != nil {
		return err
	}
	f.mu.Lock()
	vals, ok := f.rows[id.(string)]
	f.mu.Unlock()
	if !ok {
		return l3postgres.ErrNotFound
	}
	for i, d := range dest {
		v := vals[i]
		if k, ok := v.(l3postgres.Keep); ok {
			v = k.Value
		}
		reflect.ValueOf(d).Elem().Set(reflect.ValueOf(v))
	}
	return nil
}

func (f *fakeL3) GetMany(ctx context.Context, _ any) (*l3postgres.Rows, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return nil, errors.New("fakeL3: GetMany is not faked")
}

func (f *fakeL3) Exists(ctx context.Context, id any) (bool, error) {
	if err := f.fail(ctx); err != nil {
		return false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.rows[id.(string)]
	return ok, nil
}

func (f *fakeL3) Count(ctx context.Context, _ string, _ ...any) (int64, error) {
	if err := f.fail(ctx); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return int64(len(f.rows)), nil
}

func (f *fakeL3) Query(ctx context.Context, _ l3postgres.Query) (*l3postgres.Rows, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return nil, errors.New("fakeL3: Query is not faked")
}

func (f *fakeL3) UpsertReturning(ctx context.Context, values []any, _ ...any) error {
	if err := f.fail(ctx); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows[values[0].(string)] = values
	return nil
}

func (f *fakeL3) UpsertGrouped(ctx context.Context, values []any, dest ...any) error {
	return f.UpsertReturning(ctx, values, dest...)
}

func (f *fakeL3) UpsertMany(ctx context.Context, rows [][]any) (int64, error) {
	for _, r := range rows {
		if err := f.UpsertReturning(ctx, r); err != nil {
			return 0, err
		}
	}
	return int64(len(rows)), nil
}

func (f *fakeL3) UpsertManyReturning(ctx context.Context, rows [][]any, _ func(scan func(dest ...any) error) error) (int64, error) {
	return f.UpsertMany(ctx, rows)
}

func (f *fakeL3) DeleteByID(ctx context.Context, id any) (bool, error) {
	if err := f.fail(ctx); err != nil {
		return false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.rows[id.(string)]
	delete(f.rows, id.(string))
	return ok, nil
}

func (f *fakeL3) inTx(ctx context.Context, fn func(bind func(l3Table) l3Table) error) error {
	if err := f.fail(ctx); err != nil {
		return err
	}
	return fn(func(t l3Table) l3Table { return t })
}

// newFakeL3Store is a DataStore without servers whose "acct" schema has
// fake as its PostgreSQL table.
func newFakeL3Store(t *testing.T, fake *fakeL3) *DataStore {
	t.Helper()
	ds, err := NewDataStore(Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	ds.test.l3 = func(*schemaState) l3Table { return fake }
	if err := ds.Register(Schema{Name: "acct", Model: &acct{}}); err != nil {
		t.Fatal(err)
	}
	return ds
}

// Every operation reports the L3 failure with the right sentinel, and
// returns by its deadline when PostgreSQL hangs.
func TestL3ErrorPathsWithoutServer(t *testing.T) {
	t.Parallel()
	unavailable := fmt.Errorf("%w: dial tcp 127.0.0.1:5432: connection refused", l3postgres.ErrUnavailable)
	conflict := fmt.Errorf("%w: duplicate key value violates unique constraint \"acct_name_key\"", l3postgres.ErrConflict)
	ops := []struct {
		name string
		run  func(ctx context.Context, ds *DataStore) error
	}{
		{"Get", func(ctx context.Context, ds *DataStore) error {
			_, err := GetTyped[acct](ctx, ds, "acct", "a")
			return err
		}},
		{"Set", func(ctx context.Context, ds *DataStore) error {
			return ds.Set(ctx, "acct", "a", &acct{ID: "a", Name: "new"})
		}},
		{"Delete", func(ctx context.Context, ds *DataStore) error { return ds.Delete(ctx, "acct", "a") }},
		{"Search", func(ctx context.Context, ds *DataStore) error {
			var out []acct
			return ds.Search(ctx, "acct", nil, &out)
		}},
		{"Tx", func(ctx context.Context, ds *DataStore) error {
			return ds.Tx(ctx).Set("acct", "a", &acct{ID: "a", Name: "new"}).Delete("acct", "b").Commit()
		}},
	}
	faults := []struct {
		name  string
		err   error
		block bool
		want  map[string][]error // per operation; "" is the default
	}{
		{"unavailable", unavailable, false, map[string][]error{
			"":   {ErrL3Unavailable},
			"Tx": {ErrTxFailed, ErrL3Unavailable},
		}},
		{"conflict", conflict, false, map[string][]error{
			"":   {ErrConflict},
			"Tx": {ErrTxFailed, ErrConflict},
		}},
		{"timeout", nil, true, map[string][]error{
			"":   {context.DeadlineExceeded},
			"Tx": {ErrTxTimeout},
		}},
	}
	for _, fl := range faults {
		for _, op := range ops {
			t.Run(fl.name+"/"+op.name, func(t *testing.T) {
				t.Parallel()
				fake := &fakeL3{rows: map[string][]any{}}
				ds := newFakeL3Store(t, fake)
				fake.set(fl.err, fl.block)
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				defer cancel()
				start := time.Now()
				err := op.run(ctx, ds)
				took := time.Since(start)
				want, ok := fl.want[op.name]
				if !ok {
					want = fl.want[""]
				}
				for _, w := range want {
					if !errors.Is(err, w) {
						t.Errorf("%s with L3 %s: %v, want an error wrapping %v", op.name, fl.name, err, w)
					}
				}
				if took > 5*time.Second {
					t.Errorf("%s took %v with a 300 ms deadline", op.name, took)
				}
				fake.mu.Lock()
				calls := fake.calls
				fake.mu.Unlock()
				if calls == 0 {
					t.Errorf("%s never reached the table", op.name)
				}
			})
		}
	}
}

// A write that fails after PostgreSQL may have applied it (issue 11 item
// 7) drops the cached value, so the next read sees what the table holds.
func TestSetOutcomeUnknownInvalidatesWithoutServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake := &fakeL3{rows: map[string][]any{}}
	ds := newFakeL3Store(t, fake)
	if err := ds.Set(ctx, "acct", "a", &acct{ID: "a", Name: "v1"}); err != nil {
		t.Fatal(err)
	}
	if got, err := GetTyped[acct](ctx, ds, "acct", "a"); err != nil || got.Name != "v1" {
		t.Fatalf("first read = %+v, %v", got, err) // L1 now holds v1
	}
	// The table applies v2, then the call reports the outcome as unknown.
	fake.mu.Lock()
	fake.rows["a"] = []any{"a", "v2", int64(0)}
	fake.mu.Unlock()
	fake.set(&l3postgres.OutcomeUnknownError{Err: errors.New("connection reset during COMMIT")}, false)
	if err := ds.Set(ctx, "acct", "a", &acct{ID: "a", Name: "v2"}); err == nil {
		t.Fatal("Set reported success for a write whose outcome is unknown")
	}
	fake.set(nil, false)
	got, err := GetTyped[acct](ctx, ds, "acct", "a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(acct{ID: "a", Name: "v2"}, got); diff != "" {
		t.Errorf("read after an ambiguous write (-want +got):\n%s", diff)
	}
}

// A read that fails at L3 caches nothing: the next read, once PostgreSQL
// answers, returns the table's row.
func TestGetAfterL3FailureCachesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake := &fakeL3{rows: map[string][]any{"a": {"a", "v1", int64(7)}}}
	ds := newFakeL3Store(t, fake)
	fake.set(fmt.Errorf("%w: refused", l3postgres.ErrUnavailable), false)
	if _, err := GetTyped[acct](ctx, ds, "acct", "a"); !errors.Is(err, ErrL3Unavailable) {
		t.Fatalf("Get with L3 down: %v", err)
	}
	fake.set(nil, false)
	got, err := GetTyped[acct](ctx, ds, "acct", "a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(acct{ID: "a", Name: "v1", N: 7}, got); diff != "" {
		t.Errorf("read after recovery (-want +got):\n%s", diff)
	}
}

// While a write whose outcome is unknown is unsettled (its backend may
// still commit it), reads of its id go to PostgreSQL and cache nothing:
// when the write lands, the next Get and GetMany see it at once rather
// than an old row cached meanwhile until the doubt settles.
func TestReadsDuringAnUnsettledAmbiguousWriteCacheNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake := &fakeL3{rows: map[string][]any{}}
	ds := newFakeL3Store(t, fake)
	if err := ds.Set(ctx, "acct", "a", &acct{ID: "a", Name: "v1"}); err != nil {
		t.Fatal(err)
	}
	// The server holds the write (frozen) and the call gives up; backend
	// 4242 has not ended, so the doubt stays unsettled.
	fake.set(&l3postgres.OutcomeUnknownError{Err: errors.New("deadline exceeded during COMMIT"), Backend: 4242}, false)
	if err := ds.Set(ctx, "acct", "a", &acct{ID: "a", Name: "v2"}); !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("Set of a held write = %v, want ErrOutcomeUnknown", err)
	}
	fake.set(nil, false)
	read := func() (acct, acct) {
		t.Helper()
		one, err := GetTyped[acct](ctx, ds, "acct", "a")
		if err != nil {
			t.Fatal(err)
		}
		many, err := GetManyTyped[acct](ctx, ds, "acct", []string{"a"})
		if err != nil {
			t.Fatal(err)
		}
		return one, many["a"]
	}
	if one, many := read(); one.Name != "v1" || many.Name != "v1" {
		t.Fatalf("before the held write lands: Get %q, GetMany %q; want v1", one.Name, many.Name)
	}
	fake.mu.Lock()
	fake.rows["a"] = []any{"a", "v2", int64(0)} // the held COMMIT runs
	fake.mu.Unlock()
	one, many := read()
	if diff := cmp.Diff([]string{"v2", "v2"}, []string{one.Name, many.Name}); diff != "" {
		t.Errorf("Get, GetMany once the write landed (-want +got):\n%s", diff)
	}
}

package l3postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/AndrewDonelson/strata/l3postgres/internal/pgtest"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

type player struct {
	ID        string
	Name      string
	Level     int64
	CreatedAt time.Time
}

func (p *player) values() []any { return []any{p.ID, p.Name, p.Level, p.CreatedAt} }
func (p *player) dest() []any   { return []any{&p.ID, &p.Name, &p.Level, &p.CreatedAt} }

// fixture is a DB and a players table in a throw-away schema.
type fixture struct {
	pool   *pgxpool.Pool
	db     *l3postgres.DB
	schema string
	tbl    *l3postgres.Table
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool := pgtest.Pool(t)
	schema := pgtest.Schema(t, pool)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	create := fmt.Sprintf(`CREATE TABLE %s (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		level BIGINT NOT NULL DEFAULT 1,
		created_at TIMESTAMPTZ NOT NULL)`, pgx.Identifier{schema, "players"}.Sanitize())
	if _, err := pool.Exec(ctx, create); err != nil {
		t.Fatal(err)
	}
	db, err := l3postgres.New(pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	def := players
	def.Schema = schema
	tbl, err := db.Table(def)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{pool: pool, db: db, schema: schema, tbl: tbl}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestCRUD(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)

	p := player{ID: "p1", Name: "ann", Level: 3, CreatedAt: t0}
	if err := f.tbl.Upsert(ctx, p.values()...); err != nil {
		t.Fatal(err)
	}
	var got player
	if err := f.tbl.GetByID(ctx, "p1", got.dest()...); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(p, got, cmpTime); d != "" {
		t.Fatalf("GetByID (-want +got):\n%s", d)
	}

	// An update keeps the InsertOnly column.
	upd := player{ID: "p1", Name: "ann", Level: 4, CreatedAt: t0.Add(time.Hour)}
	if err := f.tbl.Upsert(ctx, upd.values()...); err != nil {
		t.Fatal(err)
	}
	if err := f.tbl.GetByID(ctx, "p1", got.dest()...); err != nil {
		t.Fatal(err)
	}
	if got.Level != 4 || !got.CreatedAt.Equal(t0) {
		t.Fatalf("after update: %+v (created_at must stay %v)", got, t0)
	}

	if err := f.tbl.GetByID(ctx, "nope", got.dest()...); !errors.Is(err, l3postgres.ErrNotFound) || !errors.Is(err, pgx.ErrNoRows) {
		t.Fatalf("missing row: got %v, want ErrNotFound wrapping pgx.ErrNoRows", err)
	}
	if err := f.tbl.GetByID(ctx, "p1", &got.ID); !errors.Is(err, l3postgres.ErrInvalidQuery) {
		t.Fatalf("short dest: got %v", err)
	}
	if err := f.tbl.Upsert(ctx, "p9"); !errors.Is(err, l3postgres.ErrInvalidQuery) {
		t.Fatalf("short values: got %v", err)
	}

	ok, err := f.tbl.Exists(ctx, "p1")
	if err != nil || !ok {
		t.Fatalf("Exists(p1) = %v, %v", ok, err)
	}
	ok, err = f.tbl.Exists(ctx, "nope")
	if err != nil || ok {
		t.Fatalf("Exists(nope) = %v, %v", ok, err)
	}

	// A constraint violation keeps the server error reachable.
	dup := player{ID: "p2", Name: "ann", Level: 1, CreatedAt: t0}
	err = f.tbl.Upsert(ctx, dup.values()...)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		t.Fatalf("unique violation: got %v", err)
	}
	if errors.Is(err, l3postgres.ErrUnavailable) {
		t.Fatal("a constraint violation is not ErrUnavailable")
	}

	deleted, err := f.tbl.DeleteByID(ctx, "p1")
	if err != nil || !deleted {
		t.Fatalf("DeleteByID(p1) = %v, %v", deleted, err)
	}
	deleted, err = f.tbl.DeleteByID(ctx, "p1")
	if err != nil || deleted {
		t.Fatalf("second DeleteByID(p1) = %v, %v", deleted, err)
	}
}

var cmpTime = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

func seed(t *testing.T, tbl *l3postgres.Table, n int) []player {
	t.Helper()
	ps := make([]player, n)
	rows := make([][]any, n)
	for i := range ps {
		ps[i] = player{ID: fmt.Sprintf("p%03d", i), Name: fmt.Sprintf("name%03d", i), Level: int64(i % 10), CreatedAt: t0}
		rows[i] = ps[i].values()
	}
	if _, err := tbl.UpsertMany(testCtx(t), rows); err != nil {
		t.Fatal(err)
	}
	return ps
}

// collect drains rows, turning each into a T with scan.
func collect[T any](t *testing.T, rows *l3postgres.Rows, err error, scan func(*l3postgres.Rows) (T, error)) []T {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func scanPlayer(rows *l3postgres.Rows) (player, error) {
	var p player
	err := rows.Scan(p.dest()...)
	return p, err
}

func TestQueryAndCount(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	ps := seed(t, f.tbl, 50)

	n, err := f.tbl.Count(ctx, "")
	if err != nil || n != 50 {
		t.Fatalf("Count() = %d, %v", n, err)
	}
	n, err = f.tbl.Count(ctx, "level >= $1", 5)
	if err != nil || n != 25 {
		t.Fatalf("Count(level >= 5) = %d, %v", n, err)
	}

	rows, err := f.tbl.Query(ctx, l3postgres.Query{
		Where: "level = $1", Args: []any{7},
		OrderBy: []l3postgres.Order{{Column: "id", Desc: true}},
		Limit:   3, Offset: 1,
	})
	got := collect(t, rows, err, scanPlayer)
	want := []player{ps[37], ps[27], ps[17]}
	if d := cmp.Diff(want, got, cmpTime); d != "" {
		t.Fatalf("Query (-want +got):\n%s", d)
	}

	rows, err = f.tbl.Query(ctx, l3postgres.Query{Columns: []string{"level", "id"}, Where: "id = $1", Args: []any{"p042"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"level", "id"}, rows.Columns()); d != "" {
		t.Fatalf("Columns (-want +got):\n%s", d)
	}
	type proj struct {
		Level int64
		ID    string
	}
	projected, err := pgx.CollectRows(rows.Raw(), pgx.RowToStructByPos[proj])
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]proj{{Level: 2, ID: "p042"}}, projected); d != "" {
		t.Fatalf("projection (-want +got):\n%s", d)
	}

	if _, err := f.tbl.Query(ctx, l3postgres.Query{OrderBy: []l3postgres.Order{{Column: "nope"}}}); !errors.Is(err, l3postgres.ErrUnknownColumn) {
		t.Fatalf("unknown order column: got %v", err)
	}

	rows, err = f.tbl.GetMany(ctx, []string{"p001", "p002", "missing"})
	many := collect(t, rows, err, scanPlayer)
	slices.SortFunc(many, func(a, b player) int { return strings.Compare(a.ID, b.ID) })
	if d := cmp.Diff([]player{ps[1], ps[2]}, many, cmpTime); d != "" {
		t.Fatalf("GetMany (-want +got):\n%s", d)
	}
}

func TestUpsertMany(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	ps := seed(t, f.tbl, 1000)

	// Updates, inserts and a key repeated within one call (the last wins).
	rows := [][]any{
		{"p000", "zed", int64(99), t0.Add(time.Hour)},
		{"new1", "new-one", int64(1), t0},
		{"p000", "zed2", int64(100), t0.Add(time.Hour)},
	}
	n, err := f.tbl.UpsertMany(ctx, rows)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("UpsertMany affected %d rows, want 2", n)
	}
	var got player
	if err := f.tbl.GetByID(ctx, "p000", got.dest()...); err != nil {
		t.Fatal(err)
	}
	want := player{ID: "p000", Name: "zed2", Level: 100, CreatedAt: ps[0].CreatedAt}
	if d := cmp.Diff(want, got, cmpTime); d != "" {
		t.Fatalf("p000 (-want +got):\n%s", d)
	}
	if c, err := f.tbl.Count(ctx, ""); err != nil || c != 1001 {
		t.Fatalf("Count = %d, %v", c, err)
	}
	if _, err := f.tbl.UpsertMany(ctx, [][]any{{"x"}}); !errors.Is(err, l3postgres.ErrInvalidQuery) {
		t.Fatalf("short row: got %v", err)
	}
	if n, err := f.tbl.UpsertMany(ctx, nil); n != 0 || err != nil {
		t.Fatalf("empty: %d, %v", n, err)
	}

	// A failing batch changes nothing.
	_, err = f.tbl.UpsertMany(ctx, [][]any{{"a1", "same", int64(1), t0}, {"a2", "same", int64(1), t0}})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		t.Fatalf("duplicate name in batch: got %v", err)
	}
	if ok, _ := f.tbl.Exists(ctx, "a1"); ok {
		t.Fatal("a failed batch left a row behind")
	}
}

func TestConcurrentUpsertsConcurrentSafe(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	// Names differ per writer: a non-arbiter unique index (name) can
	// raise 23505 between concurrent speculative inserts of equal values.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				id := fmt.Sprintf("k%02d", i)
				if err := f.tbl.Upsert(ctx, id, fmt.Sprint(id, "-", w), int64(w), t0); err != nil {
					errs <- err
					return
				}
			}
			rows := make([][]any, 20)
			for i := range rows {
				id := fmt.Sprintf("m%02d", i)
				rows[i] = []any{id, fmt.Sprint(id, "-", w), int64(w), t0}
			}
			if _, err := f.tbl.UpsertMany(ctx, rows); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n, err := f.tbl.Count(ctx, ""); err != nil || n != 40 {
		t.Fatalf("Count = %d, %v", n, err)
	}
}

func TestTx(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	if _, err := f.pool.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (id TEXT PRIMARY KEY, score BIGINT NOT NULL)",
		pgx.Identifier{f.schema, "scores"}.Sanitize())); err != nil {
		t.Fatal(err)
	}
	scores, err := f.db.Table(l3postgres.TableDef{Schema: f.schema, Name: "scores", Columns: l3postgres.Columns("id", "score"), PrimaryKey: "id"})
	if err != nil {
		t.Fatal(err)
	}

	// Commit: both tables written atomically, reads inside see the writes.
	err = f.db.InTx(ctx, func(tx *l3postgres.Tx) error {
		if err := f.tbl.On(tx).Upsert(ctx, "p1", "ann", int64(1), t0); err != nil {
			return err
		}
		if _, err := scores.On(tx).UpsertMany(ctx, [][]any{{"p1", int64(10)}}); err != nil {
			return err
		}
		if _, err := scores.On(tx).UpsertMany(ctx, [][]any{{"p1", int64(11)}}); err != nil {
			return err
		}
		if n, err := scores.On(tx).Count(ctx, ""); err != nil || n != 1 {
			return fmt.Errorf("count in tx = %d, %v", n, err)
		}
		if ok, err := f.tbl.Exists(ctx, "p1"); err != nil || ok {
			return fmt.Errorf("uncommitted row visible outside the tx: %v, %v", ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var score int64
	var id string
	if err := scores.GetByID(ctx, "p1", &id, &score); err != nil || score != 11 {
		t.Fatalf("score after commit = %d, %v", score, err)
	}

	// Rollback: an error from fn undoes both writes.
	boom := errors.New("boom")
	err = f.db.InTx(ctx, func(tx *l3postgres.Tx) error {
		if err := f.tbl.On(tx).Upsert(ctx, "p2", "bob", int64(1), t0); err != nil {
			return err
		}
		if _, err := scores.On(tx).DeleteByID(ctx, "p1"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx: got %v, want boom", err)
	}
	if ok, _ := f.tbl.Exists(ctx, "p2"); ok {
		t.Fatal("rolled-back insert is visible")
	}
	if ok, _ := scores.Exists(ctx, "p1"); !ok {
		t.Fatal("rolled-back delete took effect")
	}

	// A constraint violation fails the transaction; Commit reports it.
	tx, err := f.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.tbl.On(tx).Upsert(ctx, "p3", "ann", int64(1), t0); err == nil {
		t.Fatal("duplicate name accepted")
	}
	if err := tx.Commit(ctx); !errors.Is(err, pgx.ErrTxCommitRollback) {
		t.Fatalf("Commit after failure: got %v", err)
	}
	if n, err := tx.Exec(ctx, "SELECT 1"); err == nil {
		t.Fatalf("Exec after Commit: %d, nil", n)
	}

	// Raw exec on the DB and in a transaction.
	if n, err := f.db.Exec(ctx, fmt.Sprintf("UPDATE %s SET score = score + $1", pgx.Identifier{f.schema, "scores"}.Sanitize()), 1); err != nil || n != 1 {
		t.Fatalf("Exec = %d, %v", n, err)
	}
	if _, err := f.db.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatalf("Exec without args: %v", err)
	}
	tx2, err := f.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx2.Exec(ctx, "SET LOCAL statement_timeout = 5000"); err != nil {
		t.Fatal(err)
	}
	if tx2.Raw() == nil {
		t.Fatal("Raw is nil")
	}
	if err := tx2.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestUnavailableAndClosed(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	// Nothing listens on port 1.
	db, err := l3postgres.Open(ctx, "postgres://nobody@127.0.0.1:1/none?connect_timeout=2", &l3postgres.Options{MinConns: 1, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := db.Table(players)
	if err != nil {
		t.Fatal(err)
	}
	var p player
	checks := map[string]error{
		"GetByID": tbl.GetByID(ctx, "p1", p.dest()...),
		"Upsert":  tbl.Upsert(ctx, p.values()...),
		"Ping":    db.Ping(ctx),
	}
	_, checks["Count"] = tbl.Count(ctx, "")
	_, checks["Query"] = tbl.Query(ctx, l3postgres.Query{})
	_, checks["UpsertMany"] = tbl.UpsertMany(ctx, [][]any{p.values()})
	_, checks["Begin"] = db.Begin(ctx)
	for name, err := range checks {
		if !errors.Is(err, l3postgres.ErrUnavailable) {
			t.Errorf("%s: got %v, want ErrUnavailable", name, err)
		}
		var connectErr *pgconn.ConnectError
		if !errors.As(err, &connectErr) {
			t.Errorf("%s: cause not reachable: %v", name, err)
		}
	}

	db.Close()
	db.Close()
	if err := tbl.Upsert(ctx, p.values()...); !errors.Is(err, l3postgres.ErrClosed) {
		t.Errorf("after Close: got %v, want ErrClosed", err)
	}
	if _, err := tbl.Count(ctx, ""); !errors.Is(err, l3postgres.ErrClosed) {
		t.Errorf("Count after Close: got %v, want ErrClosed", err)
	}
	if err := db.Ping(ctx); !errors.Is(err, l3postgres.ErrClosed) {
		t.Errorf("Ping after Close: got %v, want ErrClosed", err)
	}
}

func TestOpenOwnsPool(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db, err := l3postgres.Open(ctx, pgtest.DSN(t), &l3postgres.Options{MaxConns: 3, MinConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if got := db.Pool().Config().MaxConns; got != 3 {
		t.Fatalf("MaxConns = %d", got)
	}
	db.Close()
	if err := db.Pool().Ping(ctx); err == nil {
		t.Fatal("Close left the owned pool open")
	}
}

// TestPartitionedTable writes through the conflict target (id, region)
// on a hash-partitioned table laid out as the migrate package does it.
func TestPartitionedTable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	tbl := partitionedEvents(t, f)
	if err := tbl.Upsert(ctx, "e1", "eu", int64(1), t0); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Upsert(ctx, "e1", "eu", int64(2), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	rows := make([][]any, 100)
	for i := range rows {
		rows[i] = []any{fmt.Sprint("e", i+10), fmt.Sprint("r", i%5), int64(i), t0}
	}
	rows = append(rows, []any{"e2", "us", int64(7), t0}, []any{"e2", "us", int64(8), t0})
	if _, err := tbl.UpsertMany(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if c, err := tbl.Count(ctx, "id = $1 AND region = $2 AND n = $3", "e2", "us", 8); err != nil || c != 1 {
		t.Fatalf("last row of a repeated key: %d, %v", c, err)
	}
	if c, err := tbl.Count(ctx, ""); err != nil || c != 102 {
		t.Fatalf("Count = %d, %v", c, err)
	}
	if c, err := tbl.Count(ctx, "id = $1 AND region = $2 AND n = $3 AND at = $4", "e1", "eu", 2, t0); err != nil || c != 1 {
		t.Fatalf("updated row (at kept): %d, %v", c, err)
	}
}

// partitionedEvents creates events(id, region, n, at) partitioned by
// region in two hash partitions, at being insert-only.
func partitionedEvents(t *testing.T, f *fixture) *l3postgres.Table {
	t.Helper()
	ctx := testCtx(t)
	events := pgx.Identifier{f.schema, "events"}.Sanitize()
	ddl := []string{
		"CREATE TABLE " + events + " (id TEXT NOT NULL, region TEXT NOT NULL, n BIGINT NOT NULL, at TIMESTAMPTZ NOT NULL, PRIMARY KEY (id, region)) PARTITION BY HASH (region)",
		"CREATE TABLE " + pgx.Identifier{f.schema, "events_p0"}.Sanitize() + " PARTITION OF " + events + " FOR VALUES WITH (MODULUS 2, REMAINDER 0)",
		"CREATE TABLE " + pgx.Identifier{f.schema, "events_p1"}.Sanitize() + " PARTITION OF " + events + " FOR VALUES WITH (MODULUS 2, REMAINDER 1)",
	}
	for _, s := range ddl {
		if _, err := f.pool.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	tbl, err := f.db.Table(l3postgres.TableDef{Schema: f.schema, Name: "events",
		Columns:    append(l3postgres.Columns("id", "region", "n"), l3postgres.Column{Name: "at", InsertOnly: true}),
		PrimaryKey: "id", PartitionBy: "region"})
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// TestPartitionChangeMovesTheRow: a write that changes the partition value
// of a key leaves one row, in the new partition, with its insert-only
// value; through Upsert, UpsertMany and a transaction, and with writers of
// one key racing.
func TestPartitionChangeMovesTheRow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	tbl := partitionedEvents(t, f)
	// Regions chosen to hash to both partitions.
	regions := []string{"eu", "us", "ap", "sa", "af", "me"}
	one := func(id, region string, n int64) {
		t.Helper()
		c, err := tbl.Count(ctx, "id = $1", id)
		if err != nil || c != 1 {
			t.Fatalf("%s: %d rows (%v), want 1", id, c, err)
		}
		var gotID, gotRegion string
		var gotN int64
		var at time.Time
		if err := tbl.GetByID(ctx, id, &gotID, &gotRegion, &gotN, &at); err != nil {
			t.Fatal(err)
		}
		if gotRegion != region || gotN != n || !at.Equal(t0) {
			t.Fatalf("%s = %s/%d/%v, want %s/%d/%v", id, gotRegion, gotN, at, region, n, t0)
		}
	}
	if err := tbl.Upsert(ctx, "m1", "eu", int64(1), t0); err != nil {
		t.Fatal(err)
	}
	for i, r := range regions {
		if err := tbl.Upsert(ctx, "m1", r, int64(i), t0.Add(time.Duration(i+1)*time.Hour)); err != nil {
			t.Fatal(err)
		}
		one("m1", r, int64(i))
	}
	for i, r := range regions {
		if _, err := tbl.UpsertMany(ctx, [][]any{{"m1", r, int64(10 + i), t0.Add(time.Hour)}, {"m2", r, int64(i), t0}}); err != nil {
			t.Fatal(err)
		}
		one("m1", r, int64(10+i))
		one("m2", r, int64(i))
	}
	// Two rows of one key in a batch: the last wins, whatever its region.
	if _, err := tbl.UpsertMany(ctx, [][]any{{"m2", "eu", int64(20), t0}, {"m2", "us", int64(21), t0}}); err != nil {
		t.Fatal(err)
	}
	one("m2", "us", 21)
	err := f.db.InTx(ctx, func(tx *l3postgres.Tx) error {
		return tbl.On(tx).Upsert(ctx, "m1", "ap", int64(30), t0.Add(time.Hour))
	})
	if err != nil {
		t.Fatal(err)
	}
	one("m1", "ap", 30)
	// A kept column keeps its value across a move; UpsertReturning reports
	// the moved row's insert-only value.
	var at time.Time
	if err := tbl.UpsertReturning(ctx, []any{"m1", "sa", l3postgres.Keep{Value: int64(99)}, t0.Add(time.Hour)}, &at); err != nil {
		t.Fatal(err)
	}
	one("m1", "sa", 30)
	if !at.Equal(t0) {
		t.Fatalf("UpsertReturning after a move returned at = %v, want %v", at, t0)
	}
	if _, err := tbl.UpsertMany(ctx, [][]any{{"m1", "af", l3postgres.Keep{Value: int64(98)}, t0.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	one("m1", "af", 30)

	// Writers of new keys racing with different regions still make one row
	// per key (the advisory lock), through both paths.
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Go(func() {
			for k := range 8 {
				id := fmt.Sprint("race", k)
				var err error
				if w%2 == 0 {
					err = tbl.Upsert(ctx, id, regions[w%len(regions)], int64(w), t0)
				} else {
					_, err = tbl.UpsertMany(ctx, [][]any{{id, regions[w%len(regions)], int64(w), t0}})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if c, err := tbl.Count(ctx, "id LIKE 'race%'"); err != nil || c != 8 {
		t.Fatalf("racing writers of 8 keys left %d rows (%v), want 8", c, err)
	}
}

func TestCanceledContextIsNotUnavailable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var p player
	err := f.tbl.GetByID(ctx, "p1", p.dest()...)
	if !errors.Is(err, context.Canceled) || errors.Is(err, l3postgres.ErrUnavailable) {
		t.Fatalf("GetByID with a canceled context: %v", err)
	}
	if _, err := f.tbl.Count(ctx, ""); !errors.Is(err, context.Canceled) || errors.Is(err, l3postgres.ErrUnavailable) {
		t.Fatalf("Count with a canceled context: %v", err)
	}
}

// TestQueryPlaceholderWithoutArgumentIsRefused is the case that used to
// return wrong rows: $2 had no argument, so it took the LIMIT's value.
func TestQueryPlaceholderWithoutArgumentIsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	seed(t, f.tbl, 50) // levels 0…9, five players each

	rows, err := f.tbl.Query(ctx, l3postgres.Query{Where: "level > $1 AND level < $2", Args: []any{1}, Limit: 3})
	if err == nil {
		got := collect(t, rows, nil, scanPlayer)
		t.Fatalf("Query with $2 but one argument returned %d rows and no error: %+v", len(got), got)
	}
	if !errors.Is(err, l3postgres.ErrInvalidQuery) || !strings.Contains(err.Error(), "$2") || !strings.Contains(err.Error(), "1 argument") {
		t.Fatalf("Query with $2 but one argument: %v, want ErrInvalidQuery naming $2 and 1 argument", err)
	}
	if _, err := f.tbl.Count(ctx, "level > $1 AND level < $2", 1); !errors.Is(err, l3postgres.ErrInvalidQuery) {
		t.Fatalf("Count with $2 but one argument: %v, want ErrInvalidQuery", err)
	}
	if _, err := f.tbl.Count(ctx, "level = ?", 1); !errors.Is(err, l3postgres.ErrInvalidQuery) || !strings.Contains(err.Error(), "not ?") {
		t.Fatalf("Count with a ? placeholder: %v, want ErrInvalidQuery saying placeholders are $n", err)
	}
	// With both arguments the same query pages as asked: levels 2…4 only.
	rows, err = f.tbl.Query(ctx, l3postgres.Query{Where: "level > $1 AND level < $2", Args: []any{1, 5}, Limit: 100,
		OrderBy: []l3postgres.Order{{Column: "id"}}})
	got := collect(t, rows, err, scanPlayer)
	if len(got) != 15 {
		t.Fatalf("Query with both arguments returned %d rows, want 15", len(got))
	}
	for _, p := range got {
		if p.Level <= 1 || p.Level >= 5 {
			t.Fatalf("row outside the condition: %+v", p)
		}
	}
}

// TestQueryConditionErrorsAreInvalidQuery: what the condition or its
// arguments get wrong is ErrInvalidQuery; a missing table is ErrUndefined.
func TestQueryConditionErrorsAreInvalidQuery(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	seed(t, f.tbl, 3)
	bad := []l3postgres.Query{
		{Where: "nosuchcol = $1", Args: []any{1}},
		{Where: "level = $1", Args: []any{"not a number"}},
		{Where: "level / 0 = $1", Args: []any{1}},
		{Where: "level = = $1", Args: []any{1}},
		{Where: "nosuchfunc(level) = $1", Args: []any{1}},
	}
	for _, q := range bad {
		rows, err := f.tbl.Query(ctx, q)
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
		}
		if !errors.Is(err, l3postgres.ErrInvalidQuery) {
			t.Errorf("Query(%q): %v, want ErrInvalidQuery", q.Where, err)
		}
		if _, err := f.tbl.Count(ctx, q.Where, q.Args...); !errors.Is(err, l3postgres.ErrInvalidQuery) {
			t.Errorf("Count(%q): %v, want ErrInvalidQuery", q.Where, err)
		}
	}
	missing, err := f.db.Table(l3postgres.TableDef{Schema: f.schema, Name: "missing", Columns: l3postgres.Columns("id"), PrimaryKey: "id"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = missing.Count(ctx, "id = $1", "x")
	if !errors.Is(err, l3postgres.ErrUndefined) || errors.Is(err, l3postgres.ErrInvalidQuery) {
		t.Fatalf("Count on a missing table: %v, want ErrUndefined only", err)
	}
}

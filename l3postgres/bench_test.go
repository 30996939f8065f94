package l3postgres_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/AndrewDonelson/strata/l3postgres/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// The ...Baseline benchmarks do the same work with pgx directly, on the
// same pool, so that same-run ratios measure this package's overhead.

const benchRows = 10_000

type benchEnv struct {
	f     *fixture
	qname string // quoted players table
	cols  string
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	pool := pgtest.Pool(b)
	schema := pgtest.Schema(b, pool)
	ctx := context.Background()
	qname := pgx.Identifier{schema, "players"}.Sanitize()
	if _, err := pool.Exec(ctx, "CREATE TABLE "+qname+` (
		id TEXT PRIMARY KEY, name TEXT NOT NULL, level BIGINT NOT NULL, created_at TIMESTAMPTZ NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	db, err := l3postgres.New(pool, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(db.Close)
	def := players
	def.Schema = schema
	tbl, err := db.Table(def)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := tbl.UpsertMany(ctx, benchBatch(0, 1000)); err != nil {
		b.Fatal(err)
	}
	return &benchEnv{f: &fixture{pool: pool, db: db, schema: schema, tbl: tbl}, qname: qname, cols: `"id", "name", "level", "created_at"`}
}

func benchBatch(gen, n int) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		id := "p" + strconv.Itoa(i)
		rows[i] = []any{id, id, int64(gen), t0}
	}
	return rows
}

func BenchmarkGetByID(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	var p player
	dest := p.dest()
	b.ReportAllocs()
	for b.Loop() {
		if err := e.f.tbl.GetByID(ctx, "p500", dest...); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetByIDBaseline(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	sql := "SELECT " + e.cols + " FROM " + e.qname + ` WHERE "id" = $1`
	var p player
	dest := p.dest()
	b.ReportAllocs()
	for b.Loop() {
		if err := e.f.pool.QueryRow(ctx, sql, "p500").Scan(dest...); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpsert(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	i := int64(0)
	b.ReportAllocs()
	for b.Loop() {
		i++
		if err := e.f.tbl.Upsert(ctx, "p500", "p500", i, t0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpsertBaseline(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	sql := "INSERT INTO " + e.qname + " (" + e.cols + `) VALUES ($1, $2, $3, $4) ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name", "level" = EXCLUDED."level"`
	i := int64(0)
	b.ReportAllocs()
	for b.Loop() {
		i++
		if _, err := e.f.pool.Exec(ctx, sql, "p500", "p500", i, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpsertMany upserts 10,000 rows per op (half updates of seeded
// rows, half inserts on the first op).
func BenchmarkUpsertMany(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	rows := benchBatch(1, benchRows)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.f.tbl.UpsertMany(ctx, rows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/row")
}

// BenchmarkUpsertManySingleUpserts writes the same 10,000 rows with one
// Upsert each.
func BenchmarkUpsertManySingleUpserts(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	rows := benchBatch(1, benchRows)
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range rows {
			if err := e.f.tbl.Upsert(ctx, r...); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/row")
}

// BenchmarkUpsertManyBaseline is the raw pgx version of UpsertMany: begin,
// CREATE TEMP TABLE … ON COMMIT DROP, CopyFrom, INSERT … SELECT … ON
// CONFLICT, commit.
func BenchmarkUpsertManyBaseline(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	rows := benchBatch(1, benchRows)
	create := "CREATE TEMPORARY TABLE bench_stage (LIKE " + e.qname + " INCLUDING DEFAULTS) ON COMMIT DROP"
	merge := "INSERT INTO " + e.qname + " (" + e.cols + ") SELECT " + e.cols + ` FROM bench_stage ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name", "level" = EXCLUDED."level"`
	columns := []string{"id", "name", "level", "created_at"}
	b.ReportAllocs()
	for b.Loop() {
		err := func() error {
			tx, err := e.f.pool.Begin(ctx)
			if err != nil {
				return err
			}
			defer tx.Rollback(ctx) //nolint:errcheck
			if _, err := tx.Exec(ctx, create); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"bench_stage"}, columns, pgx.CopyFromRows(rows)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, merge); err != nil {
				return err
			}
			return tx.Commit(ctx)
		}()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/row")
}

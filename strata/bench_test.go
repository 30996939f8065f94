package strata_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/codec"
	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// BenchRow is a flat 8-column row.
type BenchRow struct {
	ID     string `strata:"primary_key"`
	Name   string
	Email  string
	Level  int64
	Score  int64
	Ratio  float64
	Active bool
	At     time.Time
}

type benchEnv struct {
	ds      *strata.DataStore
	schema  string
	channel string
	pool    *pgxpool.Pool
	rdb     *redis.Client
	row     BenchRow
	key     string
	table   string
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	dsn, addr := testenv.PostgresDSN(b), testenv.RedisAddr(b)
	ctx := context.Background()
	sfx := testenv.Suffix()
	e := &benchEnv{schema: "bench_" + sfx, channel: "strata:bench:" + sfx}
	var err error
	if e.ds, err = strata.NewDataStore(strata.Config{PostgresDSN: dsn, RedisAddr: addr, InvalidationChannel: e.channel}); err != nil {
		b.Fatal(err)
	}
	if err := e.ds.Register(strata.Schema{Name: e.schema, Model: &BenchRow{}}); err != nil {
		b.Fatal(err)
	}
	if err := e.ds.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if e.pool, err = pgxpool.New(ctx, dsn); err != nil {
		b.Fatal(err)
	}
	e.rdb = redis.NewClient(&redis.Options{Addr: addr})
	e.table = pgx.Identifier{e.schema}.Sanitize()
	e.row = BenchRow{ID: "b1", Name: "ada", Email: "ada@example.com", Level: 7, Score: 1234, Ratio: 0.5, Active: true, At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := e.ds.Set(ctx, e.schema, "b1", &e.row); err != nil {
		b.Fatal(err)
	}
	e.key = "strata:" + e.schema + ":b1"
	b.Cleanup(func() {
		e.ds.Close()
		_, _ = e.pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+e.table)
		e.pool.Close()
		e.rdb.Del(context.Background(), e.key)
		e.rdb.Close()
	})
	return e
}

// feedStore opens a second instance on e's schema with the change feed on
// (a slot of its own), migrated.
func (e *benchEnv) feedStore(b *testing.B) *strata.DataStore {
	b.Helper()
	ds, err := strata.NewDataStore(strata.Config{
		PostgresDSN: testenv.PostgresDSN(b), RedisAddr: testenv.RedisAddr(b), InvalidationChannel: e.channel,
		ChangeFeed: true, ChangeFeedSlot: testenv.FeedSlot(b),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ds.Close() })
	if err := ds.Register(strata.Schema{Name: e.schema, Model: &BenchRow{}}); err != nil {
		b.Fatal(err)
	}
	if err := ds.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return ds
}

// upsertSQL is the raw upsert of a BenchRow that BenchmarkSet's
// yardsticks send, the statement a Set sends without its RETURNING.
func (e *benchEnv) upsertSQL() string {
	return "INSERT INTO " + e.table + " (id, name, email, level, score, ratio, active, at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) " +
		"ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email, level = EXCLUDED.level, score = EXCLUDED.score, ratio = EXCLUDED.ratio, active = EXCLUDED.active, at = EXCLUDED.at"
}

// BenchmarkGetTyped measures a read served by each tier; the Baseline
// siblings do the same work with the raw drivers.
func BenchmarkGetTyped(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	get := func(b *testing.B) {
		if _, err := strata.GetTyped[BenchRow](ctx, e.ds, e.schema, "b1"); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("L1", func(b *testing.B) {
		get(b)
		b.ReportAllocs()
		for b.Loop() {
			get(b)
		}
	})
	b.Run("L2", func(b *testing.B) {
		get(b)
		b.ReportAllocs()
		for b.Loop() {
			e.ds.DropL1(e.schema, "b1")
			get(b)
		}
	})
	b.Run("L2Baseline", func(b *testing.B) { // GET + decode
		b.ReportAllocs()
		for b.Loop() {
			data, err := e.rdb.Get(ctx, e.key).Bytes()
			if err != nil {
				b.Fatal(err)
			}
			var r BenchRow
			if err := (codec.MsgPack{}).Unmarshal(data, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("L3", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			e.ds.DropL1(e.schema, "b1")
			e.rdb.Del(ctx, e.key)
			b.StartTimer()
			get(b)
		}
	})
	b.Run("L3Baseline", func(b *testing.B) { // SELECT by key + scan
		b.ReportAllocs()
		q := "SELECT id, name, email, level, score, ratio, active, at FROM " + e.table + " WHERE id = $1"
		for b.Loop() {
			var r BenchRow
			if err := e.pool.QueryRow(ctx, q, "b1").Scan(&r.ID, &r.Name, &r.Email, &r.Level, &r.Score, &r.Ratio, &r.Active, &r.At); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("L3ReadThroughBaseline", func(b *testing.B) { // what hand-glued code does on a miss: GET, SELECT, SET
		b.ReportAllocs()
		q := "SELECT id, name, email, level, score, ratio, active, at FROM " + e.table + " WHERE id = $1"
		for b.Loop() {
			b.StopTimer()
			e.rdb.Del(ctx, e.key)
			b.StartTimer()
			if err := e.rdb.Get(ctx, e.key).Err(); err != redis.Nil {
				b.Fatal(err)
			}
			var r BenchRow
			if err := e.pool.QueryRow(ctx, q, "b1").Scan(&r.ID, &r.Name, &r.Email, &r.Level, &r.Score, &r.Ratio, &r.Active, &r.At); err != nil {
				b.Fatal(err)
			}
			data, _ := codec.MsgPack{}.Marshal(&r)
			if err := e.rdb.Set(ctx, e.key, data, 30*time.Minute).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSet measures a WriteThrough Set against the raw upsert + SET +
// PUBLISH it replaces.
func BenchmarkSet(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	b.Run("WriteThrough", func(b *testing.B) {
		b.ReportAllocs()
		r := e.row
		for b.Loop() {
			r.Score++
			if err := e.ds.Set(ctx, e.schema, "b1", &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	// WriteThroughChangeFeed is WriteThrough on an instance with the
	// change feed on, whose Sets return before their Redis upkeep.
	b.Run("WriteThroughChangeFeed", func(b *testing.B) {
		ds := e.feedStore(b)
		b.ReportAllocs()
		r := e.row
		for b.Loop() {
			r.Score++
			if err := ds.Set(ctx, e.schema, "b1", &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	q := e.upsertSQL()
	upsert := func(r *BenchRow) error {
		_, err := e.pool.Exec(ctx, q, r.ID, r.Name, r.Email, r.Level, r.Score, r.Ratio, r.Active, r.At)
		return err
	}
	// PgxUpsert is the write alone, as an application without caches
	// makes it: the yardstick WriteThrough's cost is compared with.
	// UpsertThenGet is the floor of any write that keeps Redis coherent
	// after its commit: the same upsert, then one Redis round trip (a GET
	// of an absent key, the cheapest command); WriteThrough makes exactly
	// two round trips too (one statement, one script). Baseline is what
	// hand-glued code does: upsert, SET, PUBLISH.
	for _, c := range []struct {
		name  string
		after func(r *BenchRow) error
	}{
		{"PgxUpsert", func(*BenchRow) error { return nil }},
		{"UpsertThenGet", func(*BenchRow) error {
			if err := e.rdb.Get(ctx, e.key+":absent").Err(); err != redis.Nil {
				return err
			}
			return nil
		}},
		{"Baseline", func(r *BenchRow) error {
			data, _ := codec.MsgPack{}.Marshal(r)
			if err := e.rdb.Set(ctx, e.key, data, 30*time.Minute).Err(); err != nil {
				return err
			}
			return e.rdb.Publish(ctx, "strata:bench:baseline", "b1").Err()
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			r := e.row
			for b.Loop() {
				r.Score++
				if err := upsert(&r); err != nil {
					b.Fatal(err)
				}
				if err := c.after(&r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

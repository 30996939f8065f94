package strata_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/codec"
	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

func testenvDSN(b *testing.B) (string, string) { return testenv.PostgresDSN(b), testenv.RedisAddr(b) }

const batchRows = 10_000

func benchRows(n int, round int64) map[string]any {
	pairs := make(map[string]any, n)
	for i := range n {
		id := fmt.Sprintf("r%05d", i)
		pairs[id] = &BenchRow{ID: id, Name: "n", Email: "e@x", Level: int64(i), Score: round, Ratio: 0.5, Active: true,
			At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	}
	return pairs
}

// BenchmarkSetMany writes 10,000 rows per op: Strata's SetMany, the same
// rows as 10,000 single Sets, and a raw COPY into a temporary table merged
// with one INSERT ... ON CONFLICT (plus a Redis pipeline, as SetMany does).
func BenchmarkSetMany(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	var round int64
	b.Run("SetMany", func(b *testing.B) {
		for b.Loop() {
			round++
			if err := e.ds.SetMany(ctx, e.schema, benchRows(batchRows, round)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(batchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("SingleSets", func(b *testing.B) {
		for b.Loop() {
			round++
			for id, v := range benchRows(batchRows, round) {
				if err := e.ds.Set(ctx, e.schema, id, v); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(batchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("RawCopyBaseline", func(b *testing.B) {
		cols := []string{"id", "name", "email", "level", "score", "ratio", "active", "at"}
		for b.Loop() {
			round++
			pairs := benchRows(batchRows, round)
			rows := make([][]any, 0, batchRows)
			pipe := e.rdb.Pipeline()
			for id, v := range pairs {
				r := v.(*BenchRow)
				rows = append(rows, []any{r.ID, r.Name, r.Email, r.Level, r.Score, r.Ratio, r.Active, r.At})
				data, _ := codec.MsgPack{}.Marshal(r)
				pipe.Set(ctx, "strata:"+e.schema+":"+id, data, 30*time.Minute)
			}
			tx, err := e.pool.Begin(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tx.Exec(ctx, "CREATE TEMP TABLE bench_in (LIKE "+e.table+" INCLUDING DEFAULTS) ON COMMIT DROP"); err != nil {
				b.Fatal(err)
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"bench_in"}, cols, pgx.CopyFromRows(rows)); err != nil {
				b.Fatal(err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO "+e.table+" SELECT * FROM bench_in ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email, level = EXCLUDED.level, score = EXCLUDED.score, ratio = EXCLUDED.ratio, active = EXCLUDED.active, at = EXCLUDED.at"); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				b.Fatal(err)
			}
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(batchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

// BenchmarkGetMany reads 100 ids served by L2: Strata's GetMany against a
// raw MGET + decode.
func BenchmarkGetMany(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	pairs := benchRows(100, 1)
	if err := e.ds.SetMany(ctx, e.schema, pairs); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 0, 100)
	keys := make([]string, 0, 100)
	for id := range pairs {
		ids = append(ids, id)
		keys = append(keys, "strata:"+e.schema+":"+id)
	}
	// Writes invalidate Redis; reads fill it. Read every id once (L1 is
	// dropped so each read reaches L2/L3), then wait for the background fills.
	for _, id := range ids {
		e.ds.DropL1(e.schema, id)
		if _, err := strata.GetTyped[BenchRow](ctx, e.ds, e.schema, id); err != nil {
			b.Fatal(err)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		n, err := e.rdb.Exists(ctx, keys...).Result()
		if err == nil && n == int64(len(keys)) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d keys filled in redis", n, len(keys))
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Run("L2", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			for _, id := range ids {
				e.ds.DropL1(e.schema, id)
			}
			b.StartTimer()
			got, err := strata.GetManyTyped[BenchRow](ctx, e.ds, e.schema, ids)
			if err != nil || len(got) != 100 {
				b.Fatal(len(got), err)
			}
		}
	})
	b.Run("L2Baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			vals, err := e.rdb.MGet(ctx, keys...).Result()
			if err != nil {
				b.Fatal(err)
			}
			out := make(map[string]BenchRow, len(vals))
			for i, v := range vals {
				var r BenchRow
				if err := (codec.MsgPack{}).Unmarshal([]byte(v.(string)), &r); err != nil {
					b.Fatal(err)
				}
				out[ids[i]] = r
			}
		}
	})
}

// BenchmarkWriteBehind measures the latency of a write-behind Set (memory
// only, with the flusher running) and the rate at which FlushDirty writes
// 10,000 pending rows (on a store whose flusher stays idle), against a raw
// COPY-and-merge of the same rows in BenchmarkSetMany.
func BenchmarkWriteBehind(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	open := func(cfg strata.Config) (*strata.DataStore, string) {
		ds, err := strata.NewDataStore(cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { ds.Close() })
		if err := ds.Register(strata.Schema{Name: e.schema, Model: &BenchRow{}, WriteMode: strata.WriteBehind}); err != nil {
			b.Fatal(err)
		}
		return ds, e.schema
	}
	dsn, addr := testenvDSN(b)
	b.Run("Set", func(b *testing.B) {
		ds, name := open(strata.Config{PostgresDSN: dsn, RedisAddr: addr, InvalidationChannel: "strata:bench:wb"})
		b.ReportAllocs()
		r := e.row
		ids := make([]string, batchRows)
		for i := range ids {
			ids[i] = fmt.Sprintf("w%05d", i)
		}
		i := 0
		for b.Loop() {
			i++
			r.ID = ids[i%batchRows]
			if err := ds.Set(ctx, name, r.ID, &r); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if err := ds.FlushDirty(ctx); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("Flush", func(b *testing.B) {
		ds, name := open(strata.Config{PostgresDSN: dsn, RedisAddr: addr, InvalidationChannel: "strata:bench:wb",
			WriteBehindFlushInterval: time.Hour, WriteBehindFlushThreshold: 1 << 30})
		var round int64
		for b.Loop() {
			b.StopTimer()
			round++
			for id, v := range benchRows(batchRows, round) {
				if err := ds.Set(ctx, name, id, v); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
			if err := ds.FlushDirty(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(batchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

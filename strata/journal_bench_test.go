package strata_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// jrec is the benchmark's record.
type jrec struct {
	ID    string `strata:"primary_key"`
	Value int64
}

// BenchmarkJournalSet compares a write-behind Set with the journal on
// against one raw XADD round trip (the floor for anything acknowledged by
// Redis) and a write-behind Set without the journal, in the same run:
//
//	go test -run '^$' -bench JournalSet -benchtime 20000x
func BenchmarkJournalSet(b *testing.B) {
	name := "jb_" + testenv.Suffix()
	dsn, addr := testenv.PostgresDSN(b), testenv.RedisAddr(b)
	ctx := context.Background()
	pgTable(b, dsn, name)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	raw := "strata:#journal:{" + name + "}:rawxadd"
	b.Cleanup(func() {
		rdb.Del(context.Background(), raw, "strata:#journal:{"+name+"}", "strata:#journal:{"+name+"}:latest")
	})
	cfg := strata.Config{
		PostgresDSN: dsn, RedisAddr: addr, InvalidationChannel: "strata:test:" + name,
		WriteBehindJournal: true, WriteBehindJournalClaimIdle: time.Hour,
		WriteBehindFlushInterval: 50 * time.Millisecond, WriteBehindFlushThreshold: 1_000_000,
		L3Pool: strata.L3PoolConfig{MaxConns: 4, MinConns: 1},
	}
	schema := strata.Schema{Name: name, Model: &jrec{}, WriteMode: strata.WriteBehind}
	journaled := openStore(b, cfg, schema)
	if err := journaled.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	plainCfg := cfg
	plainCfg.WriteBehindJournal = false
	plainCfg.InvalidationChannel += ":plain"
	plainSchema := schema
	plainSchema.Name += "_plain"
	pgTable(b, dsn, plainSchema.Name)
	plain := openStore(b, plainCfg, plainSchema)
	if err := plain.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 24) // about the size of a jrec in MessagePack
	b.Run("raw XADD", func(b *testing.B) {
		for i := range b.N {
			if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: raw, Values: []any{"k", "k" + strconv.Itoa(i%1000), "v", payload}}).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	set := func(ds *strata.DataStore, schema string) func(b *testing.B) {
		return func(b *testing.B) {
			for i := range b.N {
				id := "k" + strconv.Itoa(i%1000)
				if err := ds.Set(ctx, schema, id, &jrec{ID: id, Value: int64(i)}); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("journaled Set", set(journaled, name))
	b.Run("write-behind Set, no journal", set(plain, plainSchema.Name))
}

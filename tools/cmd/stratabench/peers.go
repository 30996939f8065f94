package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/tools/benchkit"
	"github.com/go-redis/cache/v9"
	"github.com/redis/go-redis/v9"
	"github.com/viccon/sturdyc"
)

// reader is one read-through subject: get loads a player by id through
// the subject's caches, calling the shared loader on a full miss.
type reader struct {
	name  string
	ours  bool
	loads *atomic.Int64 // PostgreSQL queries made by this subject
	get   func(ctx context.Context, id string) (player, error)
}

// readers builds Strata and each peer over the same table, with the same
// local capacity and TTLs, each under its own Redis key prefix. Strata's
// queries are counted by the fixture's recorder for schemaStampede only,
// so strataQueries says where Strata's count lives.
func (f *fixture) readers(schema, tag string, strataQueries *atomic.Int64) []reader {
	table := f.tables["players"]
	newCounter := func() *atomic.Int64 { return new(atomic.Int64) }

	grc := cache.New(&cache.Options{Redis: f.rdb, LocalCache: cache.NewTinyLFU(f.localCap, localTTL)})
	grcLoads := newCounter()
	grcPrefix := "sb_" + f.runID + "_grc_" + tag + ":"

	sturdyLoads := newCounter()
	sc := sturdyc.New[player](f.localCap, 8, localTTL, 10,
		sturdyc.WithDistributedStorage(redisStorage{rdb: f.rdb, ttl: redisTTL}))
	scPrefix := "sb_" + f.runID + "_sturdyc_" + tag + ":"

	return []reader{
		{name: "strata GetTyped", ours: true, loads: strataQueries, get: func(ctx context.Context, id string) (player, error) {
			return strata.GetTyped[player](ctx, f.ds, schema, id)
		}},
		{name: "go-redis/cache", loads: grcLoads, get: func(ctx context.Context, id string) (player, error) {
			var p player
			err := grc.Once(&cache.Item{
				Ctx: ctx, Key: grcPrefix + id, Value: &p, TTL: redisTTL,
				Do: func(*cache.Item) (any, error) {
					grcLoads.Add(1)
					return f.selectPlayer(ctx, table, id)
				},
			})
			return p, err
		}},
		{name: "sturdyc", loads: sturdyLoads, get: func(ctx context.Context, id string) (player, error) {
			return sturdyc.GetOrFetch(ctx, sc, scPrefix+id, func(ctx context.Context) (player, error) {
				sturdyLoads.Add(1)
				return f.selectPlayer(ctx, table, id)
			})
		}},
	}
}

// redisStorage is sturdyc's distributed storage on Redis, with a TTL.
type redisStorage struct {
	rdb *redis.Client
	ttl time.Duration
}

func (s redisStorage) Get(ctx context.Context, key string) ([]byte, bool) {
	b, err := s.rdb.Get(ctx, key).Bytes()
	return b, err == nil
}

func (s redisStorage) Set(ctx context.Context, key string, value []byte) {
	s.rdb.Set(ctx, key, value, s.ttl)
}

func (s redisStorage) GetBatch(ctx context.Context, keys []string) map[string][]byte {
	out := make(map[string][]byte, len(keys))
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return out
	}
	for i, v := range vals {
		if str, ok := v.(string); ok {
			out[keys[i]] = []byte(str)
		}
	}
	return out
}

func (s redisStorage) SetBatch(ctx context.Context, records map[string][]byte) {
	pipe := s.rdb.Pipeline()
	for k, v := range records {
		pipe.Set(ctx, k, v, s.ttl)
	}
	_, _ = pipe.Exec(ctx)
}

func peerWorkloads(f *fixture) []workload {
	return []workload{{"peers/read-through-zipf", f.readThrough}}
}

// readThrough: every subject reads a Zipf(1.01) stream of ids over the
// players table with a local capacity of half the rows, so hot ids are
// served from memory and the tail from Redis or PostgreSQL. Each subject
// first reads a warm-up stream, so that the rounds measure the steady
// state rather than the first load of every id; the notes say where the
// measured reads were served.
func (f *fixture) readThrough(ctx context.Context) ([]benchkit.Result, error) {
	stream := benchkit.ZipfStream(1, benchkit.ZipfSkew, f.cfg.rows, 1<<18)
	warm := benchkit.ZipfStream(2, benchkit.ZipfSkew, f.cfg.rows, 10*f.cfg.rows)
	ids := f.ids("p", f.cfg.rows)
	readers := f.readers(schemaRT, "rt", new(atomic.Int64))
	var subjects []benchkit.Subject
	ops := make([]atomic.Int64, len(readers))
	loads := make([]int64, len(readers))
	for k, r := range readers {
		for _, rank := range warm {
			if _, err := r.get(ctx, ids[rank]); err != nil {
				return nil, fmt.Errorf("%s: warm-up: %w", r.name, err)
			}
		}
		loads[k] = r.loads.Load()
		subjects = append(subjects, benchkit.Subject{Name: r.name, Ours: r.ours, Op: func(i int) error {
			ops[k].Add(1)
			id := ids[stream[i%len(stream)]]
			p, err := r.get(ctx, id)
			if err == nil && p.ID != id {
				err = errors.New(r.name + " returned another record")
			}
			return err
		}})
	}
	before := f.rec.served(schemaRT)
	rows, err := measure("peers/read-through-zipf", f.cfg.net, subjects...)
	if err != nil {
		return nil, err
	}
	for k, r := range readers {
		note := f.rec.servedNote(schemaRT, before)
		if !r.ours {
			n := r.loads.Load() - loads[k]
			note = fmt.Sprintf("PostgreSQL loads: %d (%.1f%% of reads)", n, 100*float64(n)/float64(max(ops[k].Load(), 1)))
		}
		rows = noteOurs(rows, r.name, note)
	}
	return rows, nil
}

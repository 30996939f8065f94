package main

import (
	"context"
	"fmt"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/tools/benchkit"
	"github.com/redis/go-redis/v9"
)

func journalWorkloads(f *fixture) []workload {
	return []workload{{"journal/set", f.journalSet}}
}

// journalSet: a write-behind Set with Config.WriteBehindJournal (acknowledged
// once it is in a Redis Stream: one round trip) against a raw XADD round
// trip of a value of about the same size (the floor for anything Redis
// acknowledges) and a write-behind Set without the journal (memory only
// until the flush). Ids cycle over 1,000, so the flusher coalesces.
func (f *fixture) journalSet(ctx context.Context) ([]benchkit.Result, error) {
	const schema = "wbj"
	open := func(journal bool, suffix string) (*strata.DataStore, error) {
		ds, err := strata.NewDataStore(strata.Config{
			PostgresDSN: f.srv.PostgresDSN, RedisAddr: f.srv.RedisAddr,
			InvalidationChannel: f.channel + ":" + schema + suffix,
			WriteBehindJournal:  journal,
		})
		if err != nil {
			return nil, err
		}
		if err := ds.Register(strata.Schema{
			Name: schema, Model: &player{}, WriteMode: strata.WriteBehind,
			L3: strata.PostgresPolicy{TableName: f.tables["writes_wb"]},
			L2: strata.RedisPolicy{KeyPrefix: "sb_" + f.runID + "_" + schema + suffix},
		}); err != nil {
			_ = ds.Close()
			return nil, err
		}
		return ds, nil
	}
	journaled, err := open(true, "")
	if err != nil {
		return nil, err
	}
	defer journaled.Close()
	plain, err := open(false, "_plain")
	if err != nil {
		return nil, err
	}
	defer plain.Close()
	ids := f.ids("j", 1000)
	set := func(ds *strata.DataStore) func(i int) error {
		return func(i int) error {
			p := makePlayer(i % len(ids))
			p.ID, p.Level = ids[i%len(ids)], int64(i)
			return ds.Set(ctx, schema, p.ID, &p)
		}
	}
	stream := "sb_" + f.runID + "_rawxadd"
	payload := make([]byte, 64) // about a player in MessagePack
	rows, err := measure("journal/set", f.cfg.net,
		benchkit.Subject{Name: "strata Set, WriteBehind + journal", Ours: true, Op: set(journaled)},
		benchkit.Subject{Name: "raw XADD round trip", Op: func(i int) error {
			return f.rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"k", ids[i%len(ids)], "v", payload}}).Err()
		}},
		benchkit.Subject{Name: "strata Set, WriteBehind, no journal", Op: set(plain)},
	)
	if err != nil {
		return nil, fmt.Errorf("journal/set: %w", err)
	}
	for _, ds := range []*strata.DataStore{journaled, plain} {
		if err := ds.FlushDirty(ctx); err != nil {
			return nil, fmt.Errorf("journal/set: flush: %w", err)
		}
	}
	return rows, nil
}

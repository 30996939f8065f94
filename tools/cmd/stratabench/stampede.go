package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/AndrewDonelson/strata/tools/benchkit"
	"github.com/redis/go-redis/v9"
)

func stampedeWorkloads(f *fixture) []workload {
	return []workload{{fmt.Sprintf("stampede/%d-gets-cold-key", f.cfg.stampedeN), f.stampede}}
}

// stampede: for each round, every subject gets a key no tier holds from
// stampedeN goroutines released at once; the queries that reached
// PostgreSQL are counted in the loaders (Strata: by its metrics).
func (f *fixture) stampede(ctx context.Context) ([]benchkit.Result, error) {
	subjects := f.readers(schemaStampede, "st", &f.rec.l3Reads)
	subjects = append(subjects, f.cacheAside())
	n, rounds := f.cfg.stampedeN, f.cfg.stampedeRounds
	// Open the connections a burst needs first: a pool that must dial
	// serialises the burst and hides the stampede it is meant to show.
	if _, err := burst(ctx, n, func(ctx context.Context) error { return f.rdb.Ping(ctx).Err() }); err != nil {
		return nil, err
	}
	if _, err := burst(ctx, n, func(ctx context.Context) error {
		_, err := f.pg.Exec(ctx, "SELECT 1")
		return err
	}); err != nil {
		return nil, err
	}
	ns := make([][]float64, len(subjects))
	queries := make([][]float64, len(subjects))
	for r := range rounds {
		id := playerID(f.cfg.rows - 1 - r) // a row no other workload reads
		for _, k := range benchkit.RoundOrder(len(subjects), r) {
			s := subjects[k]
			before := s.loads.Load()
			took, err := burst(ctx, n, func(ctx context.Context) error {
				p, err := s.get(ctx, id)
				if err == nil && p.ID != id {
					err = errors.New("wrong record")
				}
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
			ns[k] = append(ns[k], float64(took)/float64(n))
			queries[k] = append(queries[k], float64(s.loads.Load()-before))
		}
	}
	ms := make([]benchkit.Measured, len(subjects))
	for k, s := range subjects {
		ms[k] = benchkit.Measured{
			Subject: s.name, Ours: s.ours, NsPerOp: benchkit.Median(ns[k]),
			L3Queries: benchkit.Float(benchkit.Median(queries[k])),
			Note:      "per round: " + perRound(queries[k]),
		}
	}
	return benchkit.Compare(fmt.Sprintf("stampede/%d-gets-cold-key", n), ms), nil
}

// burst runs get from n goroutines released together and returns the time
// until the last one finished.
func burst(ctx context.Context, n int, get func(context.Context) error) (time.Duration, error) {
	var ready, done sync.WaitGroup
	gate := make(chan struct{})
	errs := make([]error, n)
	for g := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-gate
			errs[g] = get(ctx)
		}()
	}
	ready.Wait()
	start := time.Now()
	close(gate)
	done.Wait()
	return time.Since(start), errors.Join(errs...)
}

// cacheAside is the hand-written pattern Strata replaces: GET, and on a
// miss query PostgreSQL and SET, with nothing collapsing concurrent misses.
func (f *fixture) cacheAside() reader {
	r := reader{name: "cache-aside (no single-flight)", loads: new(atomic.Int64)}
	prefix := "sb_" + f.runID + "_aside:"
	r.get = func(ctx context.Context, id string) (player, error) {
		var p player
		data, err := f.rdb.Get(ctx, prefix+id).Bytes()
		if err == nil {
			return p, json.Unmarshal(data, &p)
		}
		if !errors.Is(err, redis.Nil) {
			return p, err
		}
		r.loads.Add(1)
		if p, err = f.selectPlayer(ctx, f.tables["players"], id); err != nil {
			return p, err
		}
		data, err = json.Marshal(p)
		if err != nil {
			return p, err
		}
		return p, f.rdb.Set(ctx, prefix+id, data, redisTTL).Err()
	}
	return r
}

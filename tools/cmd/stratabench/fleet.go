package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/tools/benchkit"
	"github.com/go-redis/cache/v9"
	"github.com/viccon/sturdyc"
)

func fleetWorkloads(f *fixture) []workload {
	return []workload{{f.fleetName(), f.fleetStampede}}
}

func (f *fixture) fleetName() string {
	return fmt.Sprintf("stampede/fleet-%dx%d-cold-key", f.cfg.fleetN, f.cfg.fleetM)
}

// fleetSubject is one subject of the fleet stampede: get is instance i's
// read of id; close releases its instances.
type fleetSubject struct {
	name  string
	ours  bool
	loads *atomic.Int64
	get   func(ctx context.Context, i int, id string) (player, error)
	close func()
}

// fleetStampede: fleetN instances, each with its own in-process cache and
// Redis connections, sharing Redis and PostgreSQL as a fleet of processes
// does, get one key no tier holds from fleetM goroutines each, all
// released at once. Strata runs with RedisPolicy.LeaseWait on (the
// default) and off (negative: the behaviour before LeaseWait); the peers'
// single-flight is per process. The row counts the PostgreSQL queries of
// a burst (median over rounds) and the p50/p99 latency of one Get (over
// every Get of every round).
func (f *fixture) fleetStampede(ctx context.Context) ([]benchkit.Result, error) {
	n, m, rounds := f.cfg.fleetN, f.cfg.fleetM, f.cfg.stampedeRounds
	subjects, err := f.fleetSubjects(ctx, n)
	defer func() {
		for _, s := range subjects {
			s.close()
		}
	}()
	if err != nil {
		return nil, err
	}
	ns := make([][]float64, len(subjects))
	lat := make([][]float64, len(subjects))
	queries := make([][]float64, len(subjects))
	for r := range rounds {
		id := playerID(f.cfg.rows - 1 - f.cfg.stampedeRounds - r) // read by no other workload
		for _, k := range benchkit.RoundOrder(len(subjects), r) {
			s := subjects[k]
			before := s.loads.Load()
			var mu sync.Mutex
			took, err := burstEach(ctx, n*m, func(ctx context.Context, g int) error {
				start := time.Now()
				p, err := s.get(ctx, g%n, id)
				d := time.Since(start)
				mu.Lock()
				lat[k] = append(lat[k], float64(d))
				mu.Unlock()
				if err == nil && p.ID != id {
					err = errors.New("wrong record")
				}
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
			ns[k] = append(ns[k], float64(took)/float64(n*m))
			queries[k] = append(queries[k], float64(s.loads.Load()-before))
		}
	}
	ms := make([]benchkit.Measured, len(subjects))
	for k, s := range subjects {
		ms[k] = benchkit.Measured{
			Subject: s.name, Ours: s.ours, NsPerOp: benchkit.Median(ns[k]),
			L3Queries: benchkit.Float(benchkit.Median(queries[k])),
			P50Ns:     benchkit.Float(benchkit.Percentile(lat[k], 50)),
			P99Ns:     benchkit.Float(benchkit.Percentile(lat[k], 99)),
			Note:      "queries per round: " + perRound(queries[k]),
		}
	}
	return benchkit.Compare(f.fleetName(), ms), nil
}

// fleetSubjects builds n instances of each subject.
func (f *fixture) fleetSubjects(ctx context.Context, n int) ([]fleetSubject, error) {
	var out []fleetSubject
	for _, mode := range []struct {
		name string
		wait time.Duration
	}{
		{"strata GetTyped, LeaseWait on (default)", 0},
		{"strata GetTyped, LeaseWait off", -1},
	} {
		schema := "fleet_on"
		if mode.wait < 0 {
			schema = "fleet_off"
		}
		rec := newCountingRecorder(schema)
		dss := make([]*strata.DataStore, 0, n)
		s := fleetSubject{name: mode.name, ours: true, loads: &rec.l3Reads, close: func() {
			for _, ds := range dss {
				_ = ds.Close()
			}
		}}
		for range n {
			ds, err := strata.NewDataStore(strata.Config{
				PostgresDSN: f.srv.PostgresDSN, RedisAddr: f.srv.RedisAddr,
				InvalidationChannel: f.channel + ":" + schema, Metrics: rec,
				L3Pool: strata.L3PoolConfig{MaxConns: 4}, L2Pool: strata.L2PoolConfig{PoolSize: 16},
			})
			if err != nil {
				s.close()
				return out, err
			}
			dss = append(dss, ds)
			if err := ds.Register(strata.Schema{
				Name: schema, Model: &player{}, L3: strata.PostgresPolicy{TableName: f.tables["players"]},
				L2: strata.RedisPolicy{KeyPrefix: "sb_" + f.runID + "_" + schema, LeaseWait: mode.wait},
			}); err != nil {
				s.close()
				return out, err
			}
			// Connect its pools, as an instance that has been serving has.
			if _, err := strata.GetTyped[player](ctx, ds, schema, "absent"); !errors.Is(err, strata.ErrNotFound) {
				s.close()
				return out, fmt.Errorf("warm-up Get: %w", err)
			}
		}
		s.get = func(ctx context.Context, i int, id string) (player, error) {
			return strata.GetTyped[player](ctx, dss[i], schema, id)
		}
		out = append(out, s)
	}

	table := f.tables["players"]
	grcLoads := new(atomic.Int64)
	grcs := make([]*cache.Cache, n)
	for i := range grcs {
		grcs[i] = cache.New(&cache.Options{Redis: f.rdb, LocalCache: cache.NewTinyLFU(f.localCap, localTTL)})
	}
	grcPrefix := "sb_" + f.runID + "_grc_fleet:"
	out = append(out, fleetSubject{name: "go-redis/cache", loads: grcLoads, close: func() {}, get: func(ctx context.Context, i int, id string) (player, error) {
		var p player
		err := grcs[i].Once(&cache.Item{
			Ctx: ctx, Key: grcPrefix + id, Value: &p, TTL: redisTTL,
			Do: func(*cache.Item) (any, error) {
				grcLoads.Add(1)
				return f.selectPlayer(ctx, table, id)
			},
		})
		return p, err
	}})

	scLoads := new(atomic.Int64)
	scs := make([]*sturdyc.Client[player], n)
	for i := range scs {
		scs[i] = sturdyc.New[player](f.localCap, 8, localTTL, 10, sturdyc.WithDistributedStorage(redisStorage{rdb: f.rdb, ttl: redisTTL}))
	}
	scPrefix := "sb_" + f.runID + "_sturdyc_fleet:"
	out = append(out, fleetSubject{name: "sturdyc", loads: scLoads, close: func() {}, get: func(ctx context.Context, i int, id string) (player, error) {
		return sturdyc.GetOrFetch(ctx, scs[i], scPrefix+id, func(ctx context.Context) (player, error) {
			scLoads.Add(1)
			return f.selectPlayer(ctx, table, id)
		})
	}})

	aside := f.cacheAside()
	out = append(out, fleetSubject{name: aside.name, loads: aside.loads, close: func() {}, get: func(ctx context.Context, _ int, id string) (player, error) {
		return aside.get(ctx, id)
	}})
	return out, nil
}

// burstEach runs get(g) for g in [0, n) from n goroutines released
// together and returns the time until the last one finished.
func burstEach(ctx context.Context, n int, get func(ctx context.Context, g int) error) (time.Duration, error) {
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
			errs[g] = get(ctx, g)
		}()
	}
	ready.Wait()
	start := time.Now()
	close(gate)
	done.Wait()
	return time.Since(start), errors.Join(errs...)
}

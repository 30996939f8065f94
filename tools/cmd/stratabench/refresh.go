package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/metrics"
	"github.com/AndrewDonelson/strata/tools/benchkit"
	"github.com/viccon/sturdyc"
)

// Refresh-ahead workload: sizes.
const (
	refreshKeys    = 200 // ids of the read stream (Zipf over them)
	refreshReaders = 4   // goroutines reading, each about once a millisecond
	refreshTTLs    = 4   // TTLs each round spans
)

func refreshWorkloads(f *fixture) []workload {
	return []workload{{"refresh/zipf-across-ttl", f.refreshAhead}}
}

// refreshTTL is the TTL (L1 and L2 alike) of the refresh-ahead workload.
func (f *fixture) refreshTTL() time.Duration {
	if f.cfg.quick {
		return time.Second
	}
	return 2 * time.Second
}

// refreshSubject is one subject of the refresh-ahead workload: open
// returns a fresh instance's read and a func that closes it.
type refreshSubject struct {
	name  string
	ours  bool
	loads *atomic.Int64
	open  func(round int) (get func(ctx context.Context, id string) (player, error), close func(), err error)
}

// refreshAhead: each subject, a fresh instance per round, first loads
// every id, then reads a Zipf(1.01) stream over them from refreshReaders
// goroutines (each about once a millisecond) for refreshTTLs TTLs, so hot
// ids cross several expiries. Strata runs with Schema.RefreshAhead 0.3
// and without (the same TTL in L1 and L2), sturdyc with its early
// refreshes (in memory, between 0.5 and 0.7 of the TTL). The row gives
// the p50/p99 of one Get over every round and the PostgreSQL queries of a
// round (median).
func (f *fixture) refreshAhead(ctx context.Context) ([]benchkit.Result, error) {
	ttl := f.refreshTTL()
	subjects := f.refreshSubjects(ttl)
	ids := f.ids("p", refreshKeys)
	stream := benchkit.ZipfStream(7, benchkit.ZipfSkew, refreshKeys, 1<<16)
	lat := make([][]float64, len(subjects))
	queries := make([][]float64, len(subjects))
	rounds := max(2, f.cfg.stampedeRounds/2)
	for r := range rounds {
		for _, k := range benchkit.RoundOrder(len(subjects), r) {
			s := subjects[k]
			get, closeFn, err := s.open(r)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
			for _, id := range ids {
				if _, err := get(ctx, id); err != nil {
					closeFn()
					return nil, fmt.Errorf("%s: warm-up: %w", s.name, err)
				}
			}
			before := s.loads.Load()
			ls, err := readFor(ctx, time.Duration(refreshTTLs)*ttl, func(ctx context.Context, i int) error {
				id := ids[stream[i%len(stream)]]
				p, err := get(ctx, id)
				if err == nil && p.ID != id {
					err = errors.New("wrong record")
				}
				return err
			})
			queries[k] = append(queries[k], float64(s.loads.Load()-before))
			closeFn()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
			lat[k] = append(lat[k], ls...)
		}
	}
	ms := make([]benchkit.Measured, len(subjects))
	for k, s := range subjects {
		ms[k] = benchkit.Measured{
			Subject: s.name, Ours: s.ours, NsPerOp: benchkit.Median(lat[k]),
			L3Queries: benchkit.Float(benchkit.Median(queries[k])),
			P50Ns:     benchkit.Float(benchkit.Percentile(lat[k], 50)),
			P99Ns:     benchkit.Float(benchkit.Percentile(lat[k], 99)),
			Note: fmt.Sprintf("TTL %v, %d Gets; p99.9 %v; queries per round: %s", ttl, len(lat[k]),
				time.Duration(benchkit.Percentile(lat[k], 99.9)).Round(time.Microsecond), perRound(queries[k])),
		}
	}
	return benchkit.Compare("refresh/zipf-across-ttl", ms), nil
}

// readFor runs get from refreshReaders goroutines, each pausing about a
// millisecond between reads, for d, and returns the latency of every read.
func readFor(ctx context.Context, d time.Duration, get func(ctx context.Context, i int) error) ([]float64, error) {
	var next atomic.Int64
	var mu sync.Mutex
	var lat []float64
	var wg sync.WaitGroup
	errs := make([]error, refreshReaders)
	stop := time.Now().Add(d)
	for g := range refreshReaders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []float64
			for time.Now().Before(stop) {
				start := time.Now()
				if err := get(ctx, int(next.Add(1))); err != nil {
					errs[g] = err
					break
				}
				mine = append(mine, float64(time.Since(start)))
				time.Sleep(time.Millisecond)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return lat, errors.Join(errs...)
}

// refreshSubjects: Strata with and without RefreshAhead, and sturdyc with
// early refreshes. go-redis/cache has no refresh-ahead, so it is not in
// this row.
func (f *fixture) refreshSubjects(ttl time.Duration) []refreshSubject {
	table := f.tables["players"]
	var out []refreshSubject
	for _, mode := range []struct {
		name string
		frac float64
	}{
		{"strata GetTyped, RefreshAhead 0.3", 0.3},
		{"strata GetTyped, no refresh-ahead", 0},
	} {
		schema := "ra_on"
		if mode.frac == 0 {
			schema = "ra_off"
		}
		rec := &l3Counter{schema: schema}
		out = append(out, refreshSubject{name: mode.name, ours: true, loads: &rec.loads,
			open: func(round int) (func(context.Context, string) (player, error), func(), error) {
				ds, err := strata.NewDataStore(strata.Config{
					PostgresDSN: f.srv.PostgresDSN, RedisAddr: f.srv.RedisAddr,
					InvalidationChannel: f.channel + ":" + schema, Metrics: rec,
				})
				if err != nil {
					return nil, nil, err
				}
				if err := ds.Register(strata.Schema{
					Name: schema, Model: &player{}, L3: strata.PostgresPolicy{TableName: table},
					L1:           strata.MemPolicy{TTL: ttl},
					L2:           strata.RedisPolicy{KeyPrefix: fmt.Sprintf("sb_%s_%s_%d", f.runID, schema, round), TTL: ttl},
					RefreshAhead: mode.frac,
				}); err != nil {
					_ = ds.Close()
					return nil, nil, err
				}
				get := func(ctx context.Context, id string) (player, error) {
					return strata.GetTyped[player](ctx, ds, schema, id)
				}
				return get, func() { _ = ds.Close() }, nil
			}})
	}
	scLoads := new(atomic.Int64)
	out = append(out, refreshSubject{name: "sturdyc, early refreshes", loads: scLoads,
		open: func(int) (func(context.Context, string) (player, error), func(), error) {
			sc := sturdyc.New[player](refreshKeys*2, 8, ttl, 10,
				sturdyc.WithEarlyRefreshes(ttl/2, ttl*7/10, ttl, 10*time.Millisecond))
			get := func(ctx context.Context, id string) (player, error) {
				return sturdyc.GetOrFetch(ctx, sc, id, func(ctx context.Context) (player, error) {
					scLoads.Add(1)
					return f.selectPlayer(ctx, table, id)
				})
			}
			return get, func() {}, nil
		}})
	return out
}

// l3Counter counts the PostgreSQL point reads of one schema: the reads of
// Gets and of refresh-ahead reloads.
type l3Counter struct {
	schema string
	loads  atomic.Int64
}

var _ metrics.MetricsRecorder = (*l3Counter)(nil)

func (r *l3Counter) Hit(string, string)  {}
func (r *l3Counter) Miss(string, string) {}
func (r *l3Counter) Latency(schema, tier, op string, _ time.Duration) {
	if schema == r.schema && tier == metrics.TierL3 && (op == "get" || op == "refresh") {
		r.loads.Add(1)
	}
}
func (r *l3Counter) Error(string, string, string) {}

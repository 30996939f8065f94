// Command stratabench measures Strata against the raw drivers and peer
// libraries doing the same work, in the same run: each workload runs its
// subjects interleaved over several rounds and reports medians and the
// ratio of Strata's time per operation to each baseline's.
//
//	make bench                       # starts the stack, full run (< 15 min)
//	make bench BENCH_FLAGS=-quick    # < 2 min
//	go run ./tools/cmd/stratabench -quick -only tiers/
//
// Workloads:
//
//   - l1/...: l1mem (Strata's L1, LRU and W-TinyLFU) vs otter v2,
//     ristretto v2, hashicorp golang-lru v2 and a plain mutex LRU, using the
//     tools/l1bench caches and workload: each cache full (about 100,000
//     entries, l1mem 256 shards of 390) with the 100,000 hottest of 1M
//     Zipf(1.01) keys, small struct values; Get hits on a Zipf trace of the
//     resident keys (one goroutine and all), a 90/10 read/write mix and
//     Sets on a Zipf trace over all 1M keys, and hit ratios at two
//     capacities.
//
//   - tiers/...: GetTyped served by L1, L2 and L3 vs the raw driver call
//     that does the same work (l1mem Get; go-redis GET + msgpack decode;
//     pgx QueryRow + Scan); WriteThrough Set vs pgx upsert + SET + PUBLISH;
//     SetMany(10,000) and write-behind vs a COPY upsert + pipelined SETs.
//
//   - peers/read-through: GetTyped vs github.com/go-redis/cache/v9 (local
//     TinyLFU + Redis) and github.com/viccon/sturdyc (with a Redis-backed
//     distributed storage) on Zipf keys, all loading misses with the same
//     pgx query and using the same TTLs and local capacity.
//
//   - stampede/...: N goroutines Get one cold key at once; the row counts
//     the queries that reached PostgreSQL, for Strata, the peers and plain
//     cache-aside without single-flight.
//
//   - stampede/fleet-NxM-cold-key: N instances (DataStores, or peer
//     caches, each with its own in-process cache and connections, sharing
//     Redis and PostgreSQL) × M goroutines each Get one cold key at once;
//     the row counts the PostgreSQL queries and gives the p50/p99 of one
//     Get, for Strata with RedisPolicy.LeaseWait on and off, the peers
//     (whose single-flight is per process) and plain cache-aside.
//
//   - codec/l2-hit-{1KB,10KB,100KB}: GetTyped served by Redis of records
//     with a text body of that size, with Config.Codec MessagePack alone
//     and wrapped by codec/compress (S2, Zstandard): time per hit and the
//     bytes a record takes in Redis.
//
//   - refresh/zipf-across-ttl: one instance per subject reads a Zipf
//     stream over 200 ids for four TTLs (1 s quick, 2 s full), so hot ids
//     cross several expiries: p50/p99 of one Get and PostgreSQL queries,
//     for Strata with Schema.RefreshAhead 0.3 and without, and sturdyc
//     with its early refreshes.
//
//   - journal/set: a write-behind Set with Config.WriteBehindJournal vs a
//     raw XADD round trip (the floor for an acknowledgement from Redis) and
//     a write-behind Set without the journal.
//
// Output: the full table and a summary (Strata against each baseline) on
// stdout, progress on stderr, -json FILE (default OUT/results.json) and a
// chart of the ratios (OUT/ratios.png). Every run uses its own tables, key
// prefixes and channel and removes them at the end.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/AndrewDonelson/strata/tools/benchkit"
)

// config is the run's size, from -quick or the full defaults.
type config struct {
	quick bool
	rows  int // rows in the read tables (keys of the tier and peer workloads)
	// plans by kind of workload
	l1, net, batch benchkit.Plan
	hitRequests    int // requests replayed per hit-ratio measurement
	stampedeN      int // concurrent Gets per stampede
	stampedeRounds int
	fleetN, fleetM int // instances × concurrent Gets each, fleet stampede
	setManyRows    int
	codecRecords   int // records per size in the codec workloads
	writeBehindN   int
	only           string
}

func newConfig(quick bool) config {
	if quick {
		return config{
			quick: true, rows: 2000,
			l1:          benchkit.Plan{Rounds: 5, RoundTime: 80 * time.Millisecond},
			net:         benchkit.Plan{Rounds: 5, RoundTime: 200 * time.Millisecond},
			batch:       benchkit.Plan{Rounds: 3, RoundTime: 200 * time.Millisecond, MaxOps: 2},
			hitRequests: 300_000, stampedeN: 64, stampedeRounds: 3, fleetN: 10, fleetM: 16,
			codecRecords: 50,
			setManyRows:  10_000, writeBehindN: 10_000,
		}
	}
	return config{
		rows:        10_000,
		l1:          benchkit.Plan{Rounds: 9, RoundTime: 250 * time.Millisecond},
		net:         benchkit.Plan{Rounds: 9, RoundTime: 500 * time.Millisecond},
		batch:       benchkit.Plan{Rounds: 7, RoundTime: 600 * time.Millisecond, MaxOps: 3},
		hitRequests: 2_000_000, stampedeN: 256, stampedeRounds: 7, fleetN: 10, fleetM: 32,
		codecRecords: 200,
		setManyRows:  10_000, writeBehindN: 20_000,
	}
}

func main() {
	quick := flag.Bool("quick", false, "short run (under 2 minutes): fewer rounds, shorter rounds, fewer rows")
	out := flag.String("out", "stratabench-out", "directory for results.json and ratios.png")
	jsonPath := flag.String("json", "", "write the results as JSON to this file (default OUT/results.json)")
	chartPath := flag.String("chart", "", "write the ratio chart to this file, .png or .svg (default OUT/ratios.png)")
	only := flag.String("only", "", "run only the workloads whose name contains one of these comma-separated strings")
	flag.Parse()
	cfg := newConfig(*quick)
	cfg.only = *only
	if *jsonPath == "" {
		*jsonPath = filepath.Join(*out, "results.json")
	}
	if *chartPath == "" {
		*chartPath = filepath.Join(*out, "ratios.png")
	}
	if err := run(context.Background(), cfg, *jsonPath, *chartPath); err != nil {
		fmt.Fprintln(os.Stderr, "stratabench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config, jsonPath, chartPath string) error {
	start := time.Now()
	wd, _ := os.Getwd()
	srv, err := benchkit.FindServers(wd)
	if err != nil {
		return err
	}
	mode := "full"
	if cfg.quick {
		mode = "quick"
	}
	logf("stratabench %s run: %s", mode, machine())
	f, err := newFixture(ctx, cfg, srv)
	if err != nil {
		return err
	}
	defer f.close()
	logf("PostgreSQL %s, Redis %s; %d rows per table (setup %s)", f.pgVersion, f.redisVersion, cfg.rows, time.Since(start).Round(time.Millisecond))

	var results []benchkit.Result
	for _, w := range workloads(f) {
		if !selected(w.name, cfg.only) {
			continue
		}
		ws := time.Now()
		rows, err := w.run(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
		logf("%-28s %6.1fs", w.name, time.Since(ws).Seconds())
		results = append(results, rows...)
	}
	if len(results) == 0 {
		return fmt.Errorf("no workload matches -only %q", cfg.only)
	}

	fmt.Printf("\nStrata benchmark (%s run, %s) — %s\n", mode, time.Now().UTC().Format("2006-01-02 15:04 UTC"), machine())
	fmt.Printf("PostgreSQL %s and Redis %s on this machine (loopback). ratio = Strata's time per op ÷ the baseline's (< 1: Strata faster).\n\n", f.pgVersion, f.redisVersion)
	if err := benchkit.ResultsTable(results).Render(os.Stdout); err != nil {
		return err
	}
	fmt.Printf("\nSummary: Strata against each baseline (medians)\n\n")
	if err := benchkit.SummaryTable(results).Render(os.Stdout); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(jsonPath), 0o755); err != nil {
		return err
	}
	if err := benchkit.WriteJSON(jsonPath, results); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(chartPath), 0o755); err != nil {
		return err
	}
	title := fmt.Sprintf("Strata vs baselines (%s run, %s)", mode, time.Now().UTC().Format("2006-01-02"))
	if err := benchkit.WriteChart(chartPath, title, results); err != nil {
		return err
	}
	fmt.Printf("\nJSON: %s\nchart: %s\ntotal time: %s\n", jsonPath, chartPath, time.Since(start).Round(time.Second))
	return nil
}

// selected reports whether the workload name matches the -only filter: a
// comma-separated list of substrings, empty for all.
func selected(name, only string) bool {
	if only == "" {
		return true
	}
	for _, part := range strings.Split(only, ",") {
		if part = strings.TrimSpace(part); part != "" && strings.Contains(name, part) {
			return true
		}
	}
	return false
}

// workload is one named measurement producing report rows.
type workload struct {
	name string
	run  func(ctx context.Context) ([]benchkit.Result, error)
}

func workloads(f *fixture) []workload {
	var ws []workload
	ws = append(ws, l1Workloads(f)...)
	ws = append(ws, tierWorkloads(f)...)
	ws = append(ws, peerWorkloads(f)...)
	ws = append(ws, stampedeWorkloads(f)...)
	ws = append(ws, fleetWorkloads(f)...)
	ws = append(ws, codecWorkloads(f)...)
	ws = append(ws, refreshWorkloads(f)...)
	ws = append(ws, journalWorkloads(f)...)
	return ws
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "· "+format+"\n", args...)
}

// machine describes where the numbers come from.
func machine() string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs (GOMAXPROCS %d), %s %s/%s", cpu, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// Command ycsb runs the YCSB core workloads through go-ycsb
// (github.com/pingcap/go-ycsb v1.0.3) against Strata and three baselines, in
// the same run, interleaved: go-ycsb's own redis and pg bindings, and a
// plain cache-aside binding (pgx + go-redis: read GET → SELECT → SET, write
// UPSERT → DEL).
//
//	make ycsb                          # quick: small counts (about 2 minutes)
//	make ycsb YCSB_FLAGS="-records 10000 -ops 50000 -rounds 3"   # the issue's settings
//
// The Strata binding maps Read → GetTyped, Update/Insert → Set, the load
// phase's batches → SetMany, Scan → Search, and checks every read against
// the writes acknowledged before it began (read-your-writes on one
// instance); violations are reported per workload. Phases: load, A, B, C,
// F, D on one table; E (scans) on a second, loaded apart. go-ycsb's redis
// and pg bindings have no batch insert: with -batch > 1 their load phase
// inserts the batch's records one by one.
//
// Output: a table (mean over rounds, Strata's ops/s and its ratio to each
// baseline, Strata's read and update p50) on stdout, and -json FILE.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/magiconair/properties"
	"github.com/pingcap/go-ycsb/pkg/client"
	"github.com/pingcap/go-ycsb/pkg/measurement"
	"github.com/pingcap/go-ycsb/pkg/ycsb"
	"github.com/redis/go-redis/v9"

	_ "github.com/pingcap/go-ycsb/db/pg"
	_ "github.com/pingcap/go-ycsb/db/redis"
	_ "github.com/pingcap/go-ycsb/pkg/workload"
)

type benchEnv struct {
	dsn, redis string
	feed       bool // the Strata binding runs with Config.ChangeFeed on
}

var workloads = map[string]map[string]string{
	"load": {},
	"a":    {"readproportion": "0.5", "updateproportion": "0.5"},
	"b":    {"readproportion": "0.95", "updateproportion": "0.05"},
	"c":    {"readproportion": "1"},
	"d":    {"readproportion": "0.95", "insertproportion": "0.05", "requestdistribution": "latest"},
	"e":    {"scanproportion": "0.95", "insertproportion": "0.05", "maxscanlength": "100", "scanlengthdistribution": "uniform"},
	"f":    {"readproportion": "0.5", "readmodifywriteproportion": "0.5"},
}

var names = map[string]string{"load": "load (inserts)", "a": "A 50/50 read/update", "b": "B 95/5", "c": "C read only", "d": "D read latest", "e": "E short scans", "f": "F read-modify-write"}

var dbNames = []string{"strata", "redis", "pg", "cacheaside"}

// result is one phase of one binding in one round.
type result struct {
	Round      int                `json:"round"`
	Workload   string             `json:"workload"`
	DB         string             `json:"db"`
	Ops        int64              `json:"ops"`
	Errors     int64              `json:"errors"`
	Seconds    float64            `json:"seconds"`
	OpsPerSec  float64            `json:"ops_per_sec"`
	P50        map[string]float64 `json:"p50_us"`
	Violations int64              `json:"ryw_violations,omitempty"`
	Checked    int64              `json:"reads_checked,omitempty"`
	Tiers      *tierSnapshot      `json:"strata_tiers,omitempty"` // where Strata's reads were served
	CPU        phaseCPU           `json:"cpu_per_op"`             // each process's CPU time per operation
}

func main() {
	records := flag.Int("records", 2000, "recordcount")
	ops := flag.Int("ops", 5000, "operationcount per workload")
	threads := flag.Int("threads", 8, "threadcount")
	rounds := flag.Int("rounds", 1, "interleaved rounds (the table shows the mean)")
	batch := flag.Int("batch", 100, "batch.size of the load phase, the same for every binding")
	only := flag.String("workloads", "load,a,b,c,f,d,e", "phases to report, in order")
	dbs := flag.String("dbs", strings.Join(dbNames, ","), "bindings")
	jsonOut := flag.String("json", "", "write the results as JSON to this file")
	cpuProf := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file (use with -dbs strata); a name with %s gets one profile per Strata phase, %s replaced by round and phase")
	mutexProf := flag.String("mutexprofile", "", "write a mutex profile of the whole run to this file")
	feed := flag.Bool("feed", false, "run the Strata binding with Config.ChangeFeed on (its Sets then leave their Redis refresh to the background); needs wal_level=logical")
	flag.Parse()
	if *cpuProf != "" && !strings.Contains(*cpuProf, "%s") {
		f, err := os.Create(*cpuProf)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "ycsb:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *mutexProf != "" {
		runtime.SetMutexProfileFraction(5)
		defer func() {
			if f, err := os.Create(*mutexProf); err == nil {
				_ = pprof.Lookup("mutex").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	env := benchEnv{dsn: os.Getenv("STRATA_POSTGRES_DSN"), redis: os.Getenv("STRATA_REDIS_ADDR"), feed: *feed}
	if env.dsn == "" || env.redis == "" {
		fmt.Fprintln(os.Stderr, "ycsb: set STRATA_POSTGRES_DSN and STRATA_REDIS_ADDR (make stack-up; . .devstack/env)")
		os.Exit(2)
	}
	r := &runner{cpu: newCPUMeter(env), phaseProf: *cpuProf, env: env, records: *records, ops: *ops, threads: *threads, batch: *batch, dbs: strings.Split(*dbs, ","), run: fmt.Sprintf("%x", time.Now().UnixNano()&0xffffff)}
	phases := strings.Split(*only, ",")
	var all []result
	for round := 1; round <= *rounds; round++ {
		res, err := r.round(round, phases)
		all = append(all, res...)
		if err != nil {
			pprof.StopCPUProfile()
			fmt.Fprintln(os.Stderr, "ycsb:", err)
			os.Exit(1)
		}
	}
	printTable(os.Stdout, all, phases, r.dbs)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(all, "", "  ")
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "ycsb:", err)
			os.Exit(1)
		}
	}
}

type runner struct {
	phaseProf                    string // -cpuprofile with %s: one profile per Strata phase
	cpu                          *cpuMeter
	roundNo                      int
	env                          benchEnv
	records, ops, threads, batch int
	dbs                          []string
	run                          string
}

type opened struct {
	name  string
	table string
	db    ycsb.DB
	st    *strataDB
}

// round runs the phases for every binding, interleaved phase by phase. E
// gets a table of its own, loaded first.
func (r *runner) round(round int, phases []string) ([]result, error) {
	r.roundNo = round
	var out []result
	groups := [][]string{{}, {}}
	for _, p := range phases {
		if p == "e" {
			groups[1] = append(groups[1], "load", "e")
		} else {
			groups[0] = append(groups[0], p)
		}
	}
	for g, group := range groups {
		if len(group) == 0 {
			continue
		}
		var dbs []*opened
		for _, name := range r.dbs {
			o, err := r.open(name, fmt.Sprintf("ycsb_%s_%s_%d_%d", name, r.run, round, g))
			if err != nil {
				return out, fmt.Errorf("open %s: %w", name, err)
			}
			dbs = append(dbs, o)
		}
		for _, phase := range group {
			for _, o := range dbs {
				res := r.phase(o, phase)
				res.Round = round
				if g == 1 && phase == "load" {
					continue // E's own load is not reported
				}
				fmt.Fprintf(os.Stderr, "round %d %-5s %-10s %8.0f ops/s  errors %d  p50 %v\n        %s\n", round, phase, o.name, res.OpsPerSec, res.Errors, res.P50, res.CPU)
				if res.Tiers != nil && res.Checked > 0 {
					fmt.Fprintf(os.Stderr, "        %s\n", res.Tiers.line(res.Checked))
				}
				out = append(out, res)
			}
		}
		for _, o := range dbs {
			r.cleanup(o)
		}
	}
	return out, nil
}

func (r *runner) props(table string) *properties.Properties {
	p := properties.NewProperties()
	set := func(k, v string) { _, _, _ = p.Set(k, v) }
	set("workload", "core")
	set("table", table)
	set("recordcount", fmt.Sprint(r.records))
	set("operationcount", fmt.Sprint(r.ops))
	set("threadcount", fmt.Sprint(r.threads))
	set("fieldcount", "10")
	set("writeallfields", "true")
	set("readallfields", "true")
	set("requestdistribution", "zipfian")
	set("readproportion", "0")
	set("updateproportion", "0")
	set("scanproportion", "0")
	set("insertproportion", "0")
	set("readmodifywriteproportion", "0")
	set("silence", "true")
	set("log.interval", "3600")
	set("dropdata", "true")
	u, _ := url.Parse(r.env.dsn)
	set("pg.host", u.Hostname())
	set("pg.port", u.Port())
	set("pg.user", u.User.Username())
	if pw, ok := u.User.Password(); ok {
		set("pg.password", pw)
	}
	set("pg.db", strings.TrimPrefix(u.Path, "/"))
	set("redis.addr", r.env.redis)
	set("redis.mode", "single")
	return p
}

func (r *runner) open(name, table string) (*opened, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := &opened{name: name, table: table}
	switch name {
	case "strata":
		st, err := newStrataDB(ctx, r.env, table)
		if err != nil {
			return nil, err
		}
		o.db, o.st = st, st
	case "cacheaside":
		d, err := newCacheAsideDB(ctx, r.env, table)
		if err != nil {
			return nil, err
		}
		o.db = d
	case "redis", "pg":
		d, err := ycsb.GetDBCreator(name).Create(r.props(table))
		if err != nil {
			return nil, err
		}
		o.db = oneByOne{d}
	default:
		return nil, fmt.Errorf("unknown binding %q (want %s)", name, strings.Join(dbNames, ", "))
	}
	return o, nil
}

// phase runs one workload (or the load) on one binding.
func (r *runner) phase(o *opened, phase string) result {
	p := r.props(o.table)
	for k, v := range workloads[phase] {
		_, _, _ = p.Set(k, v)
	}
	n := r.ops
	if phase == "load" {
		_, _, _ = p.Set("dotransactions", "false")
		_, _, _ = p.Set("batch.size", fmt.Sprint(r.batch))
		n = r.records
	}
	measurement.InitMeasure(p)
	wl, err := ycsb.GetWorkloadCreator("core").Create(p)
	if err != nil {
		return result{Workload: phase, DB: o.name, Errors: 1}
	}
	defer wl.Close()
	var v0, c0 int64
	var t0 tierSnapshot
	if o.st != nil {
		v0, c0, t0 = o.st.check.violations.Load(), o.st.check.checked.Load(), o.st.tiers.snapshot()
	}
	t := &timed{DB: o.db}
	stop := r.profilePhase(o, phase)
	start, cpu0 := time.Now(), r.cpu.sample()
	client.NewClient(p, wl, t).Run(context.Background())
	sec, cpu1 := time.Since(start).Seconds(), r.cpu.sample()
	stop()
	res := result{Workload: phase, DB: o.name, Ops: int64(n), Errors: t.errs, Seconds: sec, OpsPerSec: float64(n) / sec, P50: t.p50(), CPU: perOp(cpu0, cpu1, int64(n))}
	if o.st != nil {
		res.Violations = o.st.check.violations.Load() - v0
		res.Checked = o.st.check.checked.Load() - c0
		tiers := o.st.tiers.snapshot().minus(t0)
		res.Tiers = &tiers
	}
	return res
}

// profilePhase starts a CPU profile of Strata's phase when -cpuprofile
// names one per phase; the returned func stops it.
func (r *runner) profilePhase(o *opened, phase string) (stop func()) {
	if o.st == nil || !strings.Contains(r.phaseProf, "%s") {
		return func() {}
	}
	f, err := os.Create(strings.ReplaceAll(r.phaseProf, "%s", fmt.Sprintf("%d-%s", r.roundNo, phase)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "ycsb:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "ycsb:", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

func (r *runner) cleanup(o *opened) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = o.db.Close()
	if conn, err := pgx.Connect(ctx, r.env.dsn); err == nil {
		_, _ = conn.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{o.table}.Sanitize())
		conn.Close(ctx)
	}
	rdb := redis.NewClient(&redis.Options{Addr: r.env.redis})
	defer rdb.Close()
	for _, match := range []string{"strata:" + o.table + ":*", "ca:" + o.table + ":*", o.table + "/*", "strata:#*" + o.table + "*"} {
		it := rdb.Scan(ctx, 0, match, 1000).Iterator()
		var keys []string
		for it.Next(ctx) {
			keys = append(keys, it.Val())
			if len(keys) == 1000 {
				rdb.Unlink(ctx, keys...)
				keys = keys[:0]
			}
		}
		if len(keys) > 0 {
			rdb.Unlink(ctx, keys...)
		}
	}
}

// oneByOne gives go-ycsb's bindings, which have no batch insert, one that
// inserts the batch's records in turn.
type oneByOne struct{ ycsb.DB }

func (d oneByOne) BatchInsert(ctx context.Context, t string, keys []string, values []map[string][]byte) error {
	for i, k := range keys {
		if err := d.Insert(ctx, t, k, values[i]); err != nil {
			return err
		}
	}
	return nil
}
func (d oneByOne) BatchRead(context.Context, string, []string, []string) ([]map[string][]byte, error) {
	return nil, fmt.Errorf("not used")
}
func (d oneByOne) BatchUpdate(context.Context, string, []string, []map[string][]byte) error {
	return fmt.Errorf("not used")
}
func (d oneByOne) BatchDelete(context.Context, string, []string) error { return fmt.Errorf("not used") }

// timed records each operation's latency by kind.
type timed struct {
	ycsb.DB
	mu   sync.Mutex
	lat  map[string][]time.Duration
	errs int64
}

func (t *timed) note(op string, start time.Time, err error) {
	d := time.Since(start)
	t.mu.Lock()
	if t.lat == nil {
		t.lat = map[string][]time.Duration{}
	}
	t.lat[op] = append(t.lat[op], d)
	if err != nil {
		t.errs++
	}
	t.mu.Unlock()
}

func (t *timed) p50() map[string]float64 {
	out := map[string]float64{}
	for op, l := range t.lat {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		out[op] = float64(l[len(l)/2].Microseconds())
	}
	return out
}

func (t *timed) Read(ctx context.Context, table, key string, f []string) (map[string][]byte, error) {
	s := time.Now()
	v, err := t.DB.Read(ctx, table, key, f)
	t.note("read", s, err)
	return v, err
}
func (t *timed) Scan(ctx context.Context, table, key string, n int, f []string) ([]map[string][]byte, error) {
	s := time.Now()
	v, err := t.DB.Scan(ctx, table, key, n, f)
	t.note("scan", s, err)
	return v, err
}
func (t *timed) Update(ctx context.Context, table, key string, v map[string][]byte) error {
	s := time.Now()
	err := t.DB.Update(ctx, table, key, v)
	t.note("update", s, err)
	return err
}
func (t *timed) Insert(ctx context.Context, table, key string, v map[string][]byte) error {
	s := time.Now()
	err := t.DB.Insert(ctx, table, key, v)
	t.note("insert", s, err)
	return err
}
func (t *timed) BatchInsert(ctx context.Context, table string, keys []string, v []map[string][]byte) error {
	s := time.Now()
	err := t.DB.(ycsb.BatchDB).BatchInsert(ctx, table, keys, v)
	t.note("batchinsert", s, err)
	return err
}
func (t *timed) BatchRead(ctx context.Context, table string, keys []string, f []string) ([]map[string][]byte, error) {
	return t.DB.(ycsb.BatchDB).BatchRead(ctx, table, keys, f)
}
func (t *timed) BatchUpdate(ctx context.Context, table string, keys []string, v []map[string][]byte) error {
	return t.DB.(ycsb.BatchDB).BatchUpdate(ctx, table, keys, v)
}
func (t *timed) BatchDelete(ctx context.Context, table string, keys []string) error {
	return t.DB.(ycsb.BatchDB).BatchDelete(ctx, table, keys)
}

func printTable(w *os.File, all []result, phases []string, dbs []string) {
	mean := map[[2]string]*result{}
	count := map[[2]string]int{}
	for _, r := range all {
		k := [2]string{r.Workload, r.DB}
		m := mean[k]
		if m == nil {
			m = &result{Workload: r.Workload, DB: r.DB, P50: map[string]float64{}}
			mean[k] = m
		}
		count[k]++
		m.OpsPerSec += r.OpsPerSec
		m.Errors += r.Errors
		m.Violations += r.Violations
		m.Checked += r.Checked
		if r.Tiers != nil {
			if m.Tiers == nil {
				m.Tiers = new(tierSnapshot)
			}
			m.Tiers.add(*r.Tiers)
		}
		for op, v := range r.P50 {
			m.P50[op] += v
		}
	}
	for k, m := range mean {
		n := float64(count[k])
		m.OpsPerSec /= n
		for op := range m.P50 {
			m.P50[op] /= n
		}
	}
	fmt.Fprintln(w, "| workload | Strata ops/s | ÷ go-ycsb redis | ÷ go-ycsb pg | ÷ cache-aside | Strata read p50 | Strata update p50 | RYW violations / reads checked | errors (strata/redis/pg/ca) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	lat := func(v float64, ok bool) string {
		if !ok {
			return "—"
		}
		if v >= 1000 {
			return fmt.Sprintf("%.1f ms", v/1000)
		}
		return fmt.Sprintf("%.0f µs", v)
	}
	for _, ph := range phases {
		s := mean[[2]string{ph, "strata"}]
		if s == nil {
			continue
		}
		ratio := func(db string) string {
			b := mean[[2]string{ph, db}]
			if b == nil || b.OpsPerSec == 0 {
				return "—"
			}
			return fmt.Sprintf("%.2f×", s.OpsPerSec/b.OpsPerSec)
		}
		rd, rok := s.P50["read"]
		up, uok := s.P50["update"]
		if ph == "load" {
			up, uok = s.P50["batchinsert"]
		} else if !uok {
			up, uok = s.P50["insert"]
		}
		errs := make([]string, 0, len(dbs))
		for _, db := range dbs {
			if b := mean[[2]string{ph, db}]; b != nil {
				errs = append(errs, fmt.Sprint(b.Errors))
			}
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %s | %s | %s | %d / %d | %s |\n", names[ph], s.OpsPerSec, ratio("redis"), ratio("pg"), ratio("cacheaside"),
			lat(rd, rok), lat(up, uok), s.Violations, s.Checked, strings.Join(errs, "/"))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "ops/s per binding (mean):")
	for _, ph := range phases {
		var parts []string
		for _, db := range dbs {
			if m := mean[[2]string{ph, db}]; m != nil {
				parts = append(parts, fmt.Sprintf("%s %.0f", db, m.OpsPerSec))
			}
		}
		fmt.Fprintf(w, "  %-4s %s\n", ph, strings.Join(parts, ", "))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "where Strata's reads were served (all rounds):")
	for _, ph := range phases {
		if s := mean[[2]string{ph, "strata"}]; s != nil && s.Tiers != nil && s.Checked > 0 {
			fmt.Fprintf(w, "  %-4s %s\n", ph, s.Tiers.line(s.Checked))
		}
	}
}

package chaos

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/codec"
	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata"
)

// RunConfig is one run of the suite: one seed, the change feed on or off.
type RunConfig struct {
	Seed     uint64
	Feed     bool
	Duration time.Duration // of the workload, faults included
	// Faults off runs the workload alone (the calm bound then applies to
	// every read).
	Faults     bool
	FaultKinds []string // if set, only these
	FaultSeed  uint64   // seeds the fault schedule (default: Seed)
	Hold, Gap  [2]time.Duration
	// CalmFirst runs the workload this long before the first fault.
	CalmFirst time.Duration
	// Settle bounds convergence: once the faults are healed and the
	// workload has stopped, every tier of every instance must equal
	// PostgreSQL within Settle.
	Settle time.Duration
	Bounds Bounds
	// Servers are the run's PostgreSQL and Redis (StartServers).
	Servers *Servers
	// Exe is executed again for the child instances (default: this
	// program, whose TestMain or main must call ChildMain when IsChild).
	Exe           string
	Dir           string // logs of the instances and servers
	Keys          Keyspace
	Think         time.Duration
	OpTimeout     time.Duration
	FlushEvery    time.Duration // write-behind flush interval
	LinearTimeout time.Duration
	Log           func(format string, args ...any)
}

// ConvergeReport says whether every tier converged to PostgreSQL.
type ConvergeReport struct {
	Settle    time.Duration `json:"settle_ns"`
	Converged bool          `json:"converged"`
	Took      time.Duration `json:"took_ns"` // from quiescence to the end of the first clean comparison
	// LastPoll is how long the last comparison took (every instance reads
	// every key and bucket; a key whose fill lease a dead reader left
	// behind costs a read RedisPolicy.LeaseWait).
	LastPoll   time.Duration `json:"last_poll_ns"`
	Polls      int           `json:"polls"`
	Mismatches []string      `json:"mismatches,omitempty"` // at the deadline
	// FirstMismatches are those of the first comparison, even if they cleared.
	FirstMismatches []string `json:"first_mismatches,omitempty"`
}

// RunReport is the outcome of one run.
type RunReport struct {
	Seed         uint64                    `json:"seed"`
	Feed         bool                      `json:"change_feed"`
	Duration     time.Duration             `json:"duration_ns"`
	Instances    []string                  `json:"instances"`
	Ops          int                       `json:"ops"`
	OpsByKind    map[string]map[Status]int `json:"ops_by_kind"`
	Faults       []Fault                   `json:"faults"`
	FaultsByKind map[string]int            `json:"faults_by_kind"`
	FaultErrors  []string                  `json:"fault_errors,omitempty"`
	Bounds       map[string]string         `json:"bounds"`
	Reads        ReadReport                `json:"reads"`
	Lost         LostReport                `json:"lost"`
	Linear       LinearReport              `json:"linearizable"`
	// LinearWithSearch adds the single-writer instance's Search and
	// SearchCached results to the linearizability check: reported, not
	// gated (see the package documentation).
	LinearWithSearch LinearReport `json:"linearizable_with_search"`
	// Ambiguous: the writes that failed after PostgreSQL was sent them,
	// made just before the convergence check (see ambiguousWrites).
	Ambiguous   AmbiguousReport `json:"ambiguous_at_end"`
	Converge    ConvergeReport  `json:"converge"`
	CloseErrors []string        `json:"close_errors,omitempty"`
	Failures    []string        `json:"failures"`
}

// instance slots of a run.
const (
	slotA, slotB, slotL, slotC = "a", "b", "l", "c1"
)

type runner struct {
	cfg      RunConfig
	names    Names
	h        *History
	links    map[string]Links
	stores   map[string]*strata.DataStore // in-process instances
	closers  []func()
	childMu  sync.Mutex
	child    *Child
	childN   int
	childRun bool
	clientID int
	specs    map[string]WorkloadSpec
	storeFor map[string]StoreSpec
}

func (r *runner) logf(format string, args ...any) {
	if r.cfg.Log != nil {
		r.cfg.Log(format, args...)
	}
}

// Run runs one configuration of the suite and checks its history.
func Run(ctx context.Context, cfg RunConfig) (*RunReport, error) {
	if cfg.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		cfg.Exe = exe
	}
	sfx := make([]byte, 4)
	_, _ = rand.Read(sfx)
	r := &runner{cfg: cfg, names: Names{Suffix: fmt.Sprintf("%d_%s", cfg.Seed, hex.EncodeToString(sfx))},
		links: map[string]Links{}, stores: map[string]*strata.DataStore{}, specs: map[string]WorkloadSpec{}, storeFor: map[string]StoreSpec{}}
	defer r.cleanup()
	rep := &RunReport{Seed: cfg.Seed, Feed: cfg.Feed, Instances: []string{slotA, slotB, slotL, slotC + " (child process)"}}
	rep.Bounds = map[string]string{"settle": cfg.Settle.String(), "grace": cfg.Bounds.Grace.String()}
	for s, d := range cfg.Bounds.Calm {
		rep.Bounds["calm_"+s] = d.String()
	}
	t0 := time.Now()
	if err := r.setup(ctx); err != nil {
		return rep, err
	}
	r.logf("set up in %v", time.Since(t0).Round(time.Millisecond))

	// The workload, with faults.
	start := time.Now()
	wctx, stopWork := context.WithCancel(ctx)
	var work sync.WaitGroup
	for _, slot := range []string{slotA, slotB, slotL} {
		work.Add(1)
		go func() { defer work.Done(); RunWorkload(wctx, r.stores[slot], r.h, r.specs[slot]) }()
	}
	inj := &Injector{Servers: cfg.Servers, Links: r.links, Children: []string{slotC},
		KillChild: r.killChild, Hold: cfg.Hold, Gap: cfg.Gap, Kinds: cfg.FaultKinds, Clock: r.h.Now, Log: r.logf}
	fctx, stopFaults := context.WithCancel(ctx)
	var faults sync.WaitGroup
	if cfg.Faults {
		faults.Add(1)
		fs := cfg.FaultSeed
		if fs == 0 {
			fs = cfg.Seed
		}
		go func() {
			defer faults.Done()
			if sleepCtx(fctx, cfg.CalmFirst) { // a calm phase first: the calm bound measured alone
				inj.Run(fctx, fs)
			}
		}()
	}
	sleepCtx(ctx, cfg.Duration)
	stopFaults()
	faults.Wait()
	r.healAll()
	stopWork()
	work.Wait()
	r.childMu.Lock()
	r.childRun = false
	c := r.child
	r.childMu.Unlock()
	if err := c.Stop(); err != nil {
		rep.Failures = append(rep.Failures, err.Error())
	}
	rep.Duration = time.Since(start)
	rep.Faults, rep.FaultErrors = inj.Faults(), inj.Errors()
	r.logf("workload stopped after %v: %d faults; quiescence", rep.Duration.Round(time.Millisecond), len(rep.Faults))

	// Quiescence: write-behind drained, then every tier must converge.
	for _, slot := range []string{slotA, slotB} {
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		if err := r.stores[slot].FlushDirty(fctx); err != nil {
			rep.Failures = append(rep.Failures, fmt.Sprintf("FlushDirty on %s after the faults healed: %v", slot, err))
		}
		cancel()
	}
	rep.Ambiguous = r.ambiguousWrites(ctx, rep)
	t0 = time.Now()
	rep.Converge = r.converge(ctx)
	r.logf("convergence checked in %v", time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	defer func() { r.logf("restart, close and checks in %v", time.Since(t0).Round(time.Millisecond)) }()

	// A routine restart of PostgreSQL, then a network blip, just before
	// shutdown, with write-behind writes pending: Close must still flush
	// every one of them.
	if err := r.restartWithPending(ctx, rep); err != nil {
		return rep, err
	}

	// Close every instance, then read what PostgreSQL kept.
	for _, slot := range []string{slotA, slotB, slotL} {
		if err := r.stores[slot].Close(); err != nil {
			rep.CloseErrors = append(rep.CloseErrors, fmt.Sprintf("%s: %v", slot, err))
		}
		delete(r.stores, slot)
	}
	if err := c.Close(); err != nil {
		rep.CloseErrors = append(rep.CloseErrors, err.Error())
	}
	final, err := r.truth(ctx)
	if err != nil {
		return rep, err
	}
	ops := r.h.Ops()
	r.tally(rep, ops)
	rep.Reads = CheckReads(ops, rep.Faults, cfg.Bounds)
	flat := map[string]int64{}
	for k, v := range final {
		flat[k[strings.IndexByte(k, '/')+1:]] = v
	}
	rep.Lost = CheckLost(ops, append(cfg.Keys.Keys(SchemaWT), cfg.Keys.WB...), flat)
	rep.Linear = CheckLinearizable(ops, slotL, cfg.Keys.Single, []Kind{KindGet, KindGetMany}, cfg.LinearTimeout)
	rep.LinearWithSearch = CheckLinearizable(ops, slotL, cfg.Keys.Single, []Kind{KindGet, KindGetMany, KindSearch, KindSearchCached}, cfg.LinearTimeout)
	r.failures(rep)
	if len(rep.Failures) > 0 { // for finding the operations a violation names
		if err := WriteJSON(filepath.Join(cfg.Dir, "history.json"), ops); err != nil {
			rep.Failures = append(rep.Failures, err.Error())
		}
	}
	return rep, nil
}

// setup makes the proxies, migrates, opens the instances and the child.
func (r *runner) setup(ctx context.Context) error {
	cfg := r.cfg
	r.h = NewHistory(time.Now())
	for _, slot := range []string{slotA, slotB, slotL, slotC} {
		pg, err := NewProxy(slot+"/pg", cfg.Servers.PGAddr())
		if err != nil {
			return err
		}
		rd, err := NewProxy(slot+"/redis", cfg.Servers.Redis.Addr)
		if err != nil {
			pg.Close()
			return err
		}
		r.closers = append(r.closers, func() { pg.Close(); rd.Close() })
		r.links[slot] = Links{PG: pg, Redis: rd}
		r.storeFor[slot] = StoreSpec{PGAddr: pg.Addr(), RedisAddr: rd.Addr(), Names: r.names, Feed: cfg.Feed, FlushEvery: cfg.FlushEvery}
	}
	var wbA, wbB []string
	for i, k := range cfg.Keys.WB {
		if i%2 == 0 {
			wbA = append(wbA, k)
		} else {
			wbB = append(wbB, k)
		}
	}
	r.specs[slotA] = r.workSpec(slotA, 1, RoleMixed, 3, wbA)
	r.specs[slotB] = r.workSpec(slotB, 2, RoleMixed, 3, wbB)
	r.specs[slotL] = r.workSpec(slotL, 3, RoleSingle, 3, nil)
	for _, slot := range []string{slotA, slotB, slotL} {
		log, closer, err := newFileLogger(filepath.Join(cfg.Dir, "instance-"+slot+".log"), slot, r.h.Epoch)
		if err != nil {
			return err
		}
		ds, err := OpenStore(r.storeFor[slot], log)
		if err != nil {
			closer.Close()
			return err
		}
		r.stores[slot] = ds
		r.closers = append(r.closers, func() { closer.Close() })
		if slot == slotA {
			mctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			err := ds.Migrate(mctx)
			cancel()
			if err != nil {
				return fmt.Errorf("chaos: Migrate: %w", err)
			}
		}
	}
	r.childRun = true
	if err := r.startChild(); err != nil {
		return err
	}
	if cfg.Feed {
		if err := r.waitFeed(ctx); err != nil {
			return err
		}
	}
	// Every instance hears the bus before the workload starts, so a miss
	// at start is not an instance still subscribing.
	return r.waitBus(ctx)
}

func (r *runner) workSpec(slot string, num int64, role Role, clients int, wb []string) WorkloadSpec {
	s := WorkloadSpec{Proc: slot, ProcNum: num, Seed: r.cfg.Seed*1000 + uint64(num), Keys: r.cfg.Keys,
		Think: r.cfg.Think, OpTimeout: r.cfg.OpTimeout}
	for range clients {
		s.Clients = append(s.Clients, ClientSpec{ID: r.clientID, Role: role, WBOwned: wb})
		r.clientID++
	}
	return s
}

// startChild starts the next incarnation of the child slot.
func (r *runner) startChild() error {
	r.childN++
	proc := fmt.Sprintf("%s.%d", slotC, r.childN)
	if _, ok := r.specs[slotC]; !ok {
		r.specs[slotC] = r.workSpec(slotC, 0, RoleMixed, 2, nil)
	}
	ws := r.specs[slotC]
	ws.Proc, ws.ProcNum, ws.Seed = proc, int64(10+r.childN), r.cfg.Seed*1000+uint64(10+r.childN)
	spec := ChildSpec{Store: r.storeFor[slotC], Work: ws, Epoch: r.h.Epoch.UnixNano(),
		LogPath: filepath.Join(r.cfg.Dir, "instance-"+slotC+".log")}
	c, err := StartChild(r.cfg.Exe, slotC, spec, r.h, filepath.Join(r.cfg.Dir, "child-stderr.log"))
	if err != nil {
		return err
	}
	r.child = c
	return nil
}

// killChild SIGKILLs the child and starts its next incarnation.
func (r *runner) killChild(string) error {
	r.childMu.Lock()
	defer r.childMu.Unlock()
	if !r.childRun {
		return nil
	}
	r.child.Kill()
	return r.startChild()
}

func (r *runner) waitFeed(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, r.cfg.Servers.PGDSN())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	deadline := time.Now().Add(60 * time.Second)
	for {
		var active bool
		err := conn.QueryRow(ctx, "SELECT active FROM pg_replication_slots WHERE slot_name = $1", r.names.slot()).Scan(&active)
		if err == nil && active {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("chaos: the change feed's slot %s is not streaming after 60s (last error: %v)", r.names.slot(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (r *runner) waitBus(ctx context.Context) error {
	c := r.cfg.Servers.RedisClient()
	defer c.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		n, err := c.PubSubNumSub(ctx, r.names.channel()).Result()
		if err == nil && n[r.names.channel()] >= 4 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("chaos: fewer than 4 instances subscribed to %s after 60s (%v, %v)", r.names.channel(), n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// healAll removes every network fault and makes sure both servers run.
func (r *runner) healAll() {
	for _, l := range r.links {
		l.PG.Heal()
		l.Redis.Heal()
	}
	r.cfg.Servers.Thaw()
}

func (r *runner) cleanup() {
	for _, ds := range r.stores {
		_ = ds.Close()
	}
	r.childMu.Lock()
	r.childRun = false
	if r.child != nil {
		select {
		case <-r.child.exited:
		default:
			r.child.Kill()
		}
	}
	r.childMu.Unlock()
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
	if r.cfg.Feed { // a slot nobody reads would pin WAL
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, r.cfg.Servers.PGDSN()); err == nil {
			_, _ = conn.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", r.names.slot())
			_, _ = conn.Exec(ctx, "DROP PUBLICATION IF EXISTS "+pgx.Identifier{r.names.slot()}.Sanitize())
			conn.Close(ctx)
		}
	}
}

// truth reads both tables straight from PostgreSQL: "schema/key" → version.
func (r *runner) truth(ctx context.Context) (map[string]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, r.cfg.Servers.PGDSN())
	if err != nil {
		return nil, fmt.Errorf("chaos: read PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	out := map[string]int64{}
	for _, schema := range []string{SchemaWT, SchemaWB} {
		rows, err := conn.Query(ctx, "SELECT id, ver FROM "+pgx.Identifier{r.names.table(schema)}.Sanitize())
		if err != nil {
			return nil, fmt.Errorf("chaos: read PostgreSQL: %w", err)
		}
		for rows.Next() {
			var id string
			var ver int64
			if err := rows.Scan(&id, &ver); err != nil {
				rows.Close()
				return nil, err
			}
			out[schema+"/"+id] = ver
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// leaseMarker starts the value a Redis key holds while a fill lease stands
// on it (l2redis's leaseMagic, unexported): every read treats it as absent.
const leaseMarker = "\x00\xffl2redis-lease:"

// absentMarker is the value a Redis key holds while it records that the
// row does not exist (shared negative caching, l2redis's absentMagic,
// unexported): right only while PostgreSQL has no such row.
const absentMarker = "\x00\xffl2redis-absent"

// compare lists every place a tier disagrees with PostgreSQL: Redis's copy
// of each key, and what each instance's Get and SearchCached return.
func (r *runner) compare(ctx context.Context) ([]string, error) {
	truth, err := r.truth(ctx)
	if err != nil {
		return nil, err
	}
	ks := r.cfg.Keys
	var bad []string
	rdb := r.cfg.Servers.RedisClient()
	defer rdb.Close()
	mp := codec.MsgPack{}
	for _, schema := range []string{SchemaWT, SchemaWB} {
		for _, key := range ks.Keys(schema) {
			want, inPG := truth[schema+"/"+key]
			data, err := rdb.Get(ctx, r.names.RedisKey(schema, key)).Bytes()
			switch {
			case errors.Is(err, redis.Nil), err == nil && bytes.HasPrefix(data, []byte(leaseMarker)):
			case err == nil && bytes.HasPrefix(data, []byte(absentMarker)):
				if inPG {
					bad = append(bad, fmt.Sprintf("redis: %s/%s records the row as missing, PostgreSQL holds version %d", schema, key, want))
				}
			case err != nil:
				bad = append(bad, fmt.Sprintf("redis: GET %s/%s: %v", schema, key, err))
			default:
				_, data, _ = l2redis.SplitVersion(data) // a refreshed value carries its row version
				var rec Rec
				if err := mp.Unmarshal(data, &rec); err != nil {
					bad = append(bad, fmt.Sprintf("redis: %s/%s does not decode: %v", schema, key, err))
				} else if rec.Ver != want {
					bad = append(bad, fmt.Sprintf("redis: %s/%s holds version %d, PostgreSQL %d", schema, key, rec.Ver, want))
				}
			}
		}
	}
	dumps := map[string]Dump{}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, slot := range []string{slotA, slotB, slotL} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := DumpStore(ctx, r.stores[slot], ks)
			mu.Lock()
			dumps[slot] = d
			mu.Unlock()
		}()
	}
	d, err := r.child.Dump()
	wg.Wait()
	if err != nil {
		bad = append(bad, err.Error())
	} else {
		dumps[r.child.Proc] = d
	}
	procs := make([]string, 0, len(dumps))
	for p := range dumps {
		procs = append(procs, p)
	}
	sort.Strings(procs)
	for _, p := range procs {
		d := dumps[p]
		for _, e := range d.Errors {
			bad = append(bad, p+": "+e)
		}
		for _, schema := range []string{SchemaWT, SchemaWB} {
			for _, key := range ks.Keys(schema) {
				got, ok := d.Values[schema+"/"+key]
				if want := truth[schema+"/"+key]; ok && got != want {
					bad = append(bad, fmt.Sprintf("%s: Get %s/%s = version %d, PostgreSQL %d", p, schema, key, got, want))
				}
			}
			for _, b := range ks.Buckets(schema) {
				m, ok := d.Searches[fmt.Sprintf("%s/%d", schema, b)]
				if !ok {
					continue
				}
				for key, got := range m {
					if want := truth[schema+"/"+key]; got != want {
						bad = append(bad, fmt.Sprintf("%s: SearchCached %s bucket %d: %s = version %d, PostgreSQL %d", p, schema, b, key, got, want))
					}
				}
			}
		}
	}
	sort.Strings(bad)
	return bad, nil
}

// converge compares until every tier agrees or Settle has passed.
func (r *runner) converge(ctx context.Context) ConvergeReport {
	rep := ConvergeReport{Settle: r.cfg.Settle}
	start := time.Now()
	for {
		rep.Polls++
		t0 := time.Now()
		bad, err := r.compare(ctx)
		rep.LastPoll = time.Since(t0)
		if err != nil {
			bad = []string{err.Error()}
		}
		if rep.Polls == 1 {
			rep.FirstMismatches = bad
		}
		if len(bad) == 0 {
			rep.Converged, rep.Took = true, time.Since(start)
			return rep
		}
		if time.Since(start) > r.cfg.Settle {
			rep.Mismatches, rep.Took = bad, time.Since(start)
			return rep
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (r *runner) tally(rep *RunReport, ops []Op) {
	rep.Ops = len(ops)
	rep.OpsByKind = map[string]map[Status]int{}
	for _, op := range ops {
		m := rep.OpsByKind[string(op.Kind)]
		if m == nil {
			m = map[Status]int{}
			rep.OpsByKind[string(op.Kind)] = m
		}
		m[op.Status]++
	}
	rep.FaultsByKind = map[string]int{}
	for _, f := range rep.Faults {
		rep.FaultsByKind[f.Kind]++
	}
}

// failures gathers what fails the run.
func (r *runner) failures(rep *RunReport) {
	add := func(s string) { rep.Failures = append(rep.Failures, s) }
	for _, v := range rep.Reads.Violations {
		add(v.String())
	}
	for _, v := range rep.Lost.Violations {
		add(v.String())
	}
	if rep.Linear.Result != "Ok" {
		for _, v := range rep.Linear.Violations {
			add(v.String())
		}
	}
	if !rep.Converge.Converged {
		add(fmt.Sprintf("not converged %v after quiescence (%d polls): %d mismatches, e.g. %s",
			rep.Converge.Settle, rep.Converge.Polls, len(rep.Converge.Mismatches), strings.Join(first(rep.Converge.Mismatches, 5), "; ")))
	}
	for _, e := range rep.FaultErrors {
		add("fault: " + e)
	}
	for _, e := range rep.CloseErrors {
		add("Close: " + e)
	}
	if b, err := os.ReadFile(filepath.Join(r.cfg.Dir, "child-stderr.log")); err == nil && strings.Contains(string(b), "DATA RACE") {
		add("a child process reported a data race (see child-stderr.log)")
	}
	if n := rep.OpsByKind; len(n) == 0 {
		add("no operation was recorded")
	}
}

func first(xs []string, n int) []string {
	if len(xs) > n {
		return xs[:n]
	}
	return xs
}

// restartWithPending kills PostgreSQL, acknowledges one write-behind Set of
// every write-behind key while it is down, and starts it again. Then, once
// those are flushed, it acknowledges another round and resets the owners'
// connections to PostgreSQL just before Close: pgxpool pings a connection
// idle for more than a second before handing it out, so only connections
// used a moment ago can be dead when Close takes them — and Close must retry.
func (r *runner) restartWithPending(ctx context.Context, rep *RunReport) error {
	f := Fault{Kind: "pg-restart", Target: "*", Start: r.h.Now()}
	if err := r.cfg.Servers.PG.Kill(); err != nil {
		return err
	}
	writers := map[string]*worker{}
	for i, slot := range []string{slotA, slotB} {
		spec := r.specs[slot]
		spec.ProcNum = int64(4 + i) // ids apart from the workload's
		writers[slot] = &worker{ds: r.stores[slot], rec: r.h, spec: spec, c: ClientSpec{ID: r.clientID, Role: RoleMixed}, seq: new(atomic.Int64)}
		r.clientID++
	}
	round := func() {
		for _, slot := range []string{slotA, slotB} {
			for _, key := range r.specs[slot].Clients[0].WBOwned {
				writers[slot].set(SchemaWB, key)
			}
		}
	}
	round()
	err := r.cfg.Servers.PG.Start(context.Background())
	f.End = r.h.Now()
	rep.Faults = append(rep.Faults, f)
	if err != nil {
		return err
	}
	for _, slot := range []string{slotA, slotB} {
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		if err := r.stores[slot].FlushDirty(fctx); err != nil {
			rep.Failures = append(rep.Failures, fmt.Sprintf("FlushDirty on %s after PostgreSQL restarted: %v", slot, err))
		}
		cancel()
	}
	round()
	f = Fault{Kind: "pg-reset", Start: r.h.Now()}
	for _, slot := range []string{slotA, slotB} {
		f.Target = slot
		r.links[slot].PG.Reset()
		f.End = r.h.Now()
		rep.Faults = append(rep.Faults, f)
	}
	return nil
}

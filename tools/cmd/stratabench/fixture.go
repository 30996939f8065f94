package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/metrics"
	"github.com/AndrewDonelson/strata/tools/benchkit"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// player is the record of the read workloads. Every field is flat, so an
// L1 hit of GetTyped copies it without allocating.
type player struct {
	ID     string `strata:"primary_key"`
	Name   string
	Region string
	Level  int64
	Score  float64
}

// playerNoL1 is the same record with an omit_l1 field: Strata then serves
// its reads from Redis (or PostgreSQL) every time, which is how the L2 and
// L3 workloads reach those tiers on every call.
type playerNoL1 struct {
	ID     string `strata:"primary_key"`
	Name   string
	Region string
	Level  int64
	Score  float64
	Note   string `strata:"omit_l1"`
}

func playerID(i int) string { return fmt.Sprintf("p%06d", i) }

func makePlayer(i int) player {
	return player{ID: playerID(i), Name: fmt.Sprintf("Player %d", i), Region: "eu-west", Level: int64(i % 60), Score: float64(i%10_000) / 10}
}

// Schema names registered on the fixture's DataStores.
const (
	schemaL1       = "l1"       // player, table players: L1 hits and the set workloads' reads
	schemaL2       = "l2"       // playerNoL1 on table players_nol1, with Redis
	schemaL3       = "l3"       // playerNoL1 on table players_nol1, without Redis (l3 store)
	schemaRT       = "rt"       // player on table players: the peers' read-through workload
	schemaStampede = "stampede" // player on table players: cold keys for the stampede
	schemaSet      = "set"      // player on table writes: WriteThrough Set and SetMany
	schemaWB       = "wb"       // player on table writes_wb: WriteBehind
)

// Peer settings shared by Strata's rt schema and the peers.
const (
	localTTL = time.Minute
	redisTTL = 10 * time.Minute
)

// fixture is what the workloads share: servers, tables, DataStores.
type fixture struct {
	cfg    config
	srv    benchkit.Servers
	runID  string
	pg     *pgxpool.Pool
	rdb    *redis.Client
	ds     *strata.DataStore // PostgreSQL + Redis
	l3     *strata.DataStore // PostgreSQL only
	rec    *countingRecorder
	tables map[string]string // role → table name
	// localCap is the in-process capacity of every read-through subject.
	localCap int
	channel  string

	pgVersion, redisVersion string
}

func newFixture(ctx context.Context, cfg config, srv benchkit.Servers) (f *fixture, err error) {
	id := benchkit.RunID()
	f = &fixture{
		cfg: cfg, srv: srv, runID: id, localCap: cfg.rows / 2, channel: "strata:bench:" + id,
		tables: map[string]string{
			"players":      "sb_" + id + "_players",
			"players_nol1": "sb_" + id + "_players_nol1",
			"writes":       "sb_" + id + "_writes",
			"writes_wb":    "sb_" + id + "_writes_wb",
			"raw_writes":   "sb_" + id + "_raw_writes",
		},
		rec: newCountingRecorder(schemaStampede, schemaL1, schemaL2, schemaL3, schemaRT),
	}
	// A failed set-up cleans up what it made; it closes its own pointer,
	// since every error return sets the named result f to nil.
	made := f
	defer func() {
		if err != nil {
			made.close()
		}
	}()
	cfgPool, err := pgxpool.ParseConfig(srv.PostgresDSN)
	if err != nil {
		return nil, err
	}
	cfgPool.MaxConns = 32
	if f.pg, err = pgxpool.NewWithConfig(ctx, cfgPool); err != nil {
		return nil, err
	}
	f.rdb = redis.NewClient(&redis.Options{Addr: srv.RedisAddr, PoolSize: 64})
	if err := f.pg.QueryRow(ctx, "SHOW server_version").Scan(&f.pgVersion); err != nil {
		return nil, fmt.Errorf("PostgreSQL does not answer (start it with `make stack-up`): %w", err)
	}
	info, err := f.rdb.Info(ctx, "server").Result()
	if err != nil {
		return nil, fmt.Errorf("Redis does not answer (start it with `make stack-up`): %w", err)
	}
	f.redisVersion = infoField(info, "redis_version")

	common := strata.Config{
		PostgresDSN: srv.PostgresDSN, InvalidationChannel: f.channel, Metrics: f.rec,
		L3Pool: strata.L3PoolConfig{MaxConns: 32},
	}
	withRedis := common
	withRedis.RedisAddr = srv.RedisAddr
	withRedis.L2Pool = strata.L2PoolConfig{PoolSize: 64}
	if f.ds, err = strata.NewDataStore(withRedis); err != nil {
		return nil, err
	}
	if f.l3, err = strata.NewDataStore(common); err != nil {
		return nil, err
	}
	prefix := func(s string) strata.RedisPolicy { return strata.RedisPolicy{KeyPrefix: "sb_" + id + "_" + s} }
	schemas := []strata.Schema{
		{Name: schemaL1, Model: &player{}, L3: strata.PostgresPolicy{TableName: f.tables["players"]}, L2: prefix(schemaL1)},
		{Name: schemaL2, Model: &playerNoL1{}, L3: strata.PostgresPolicy{TableName: f.tables["players_nol1"]}, L2: prefix(schemaL2)},
		{
			Name: schemaRT, Model: &player{}, L3: strata.PostgresPolicy{TableName: f.tables["players"]},
			L1: strata.MemPolicy{TTL: localTTL, MaxEntries: (f.localCap + strata.L1Shards - 1) / strata.L1Shards},
			L2: strata.RedisPolicy{KeyPrefix: "sb_" + id + "_rt", TTL: redisTTL},
		},
		{Name: schemaStampede, Model: &player{}, L3: strata.PostgresPolicy{TableName: f.tables["players"]}, L2: prefix(schemaStampede)},
		{Name: schemaSet, Model: &player{}, L3: strata.PostgresPolicy{TableName: f.tables["writes"]}, L2: prefix(schemaSet)},
		{Name: schemaWB, Model: &player{}, WriteMode: strata.WriteBehind, L3: strata.PostgresPolicy{TableName: f.tables["writes_wb"]}, L2: prefix(schemaWB)},
	}
	for _, s := range schemas {
		if err := f.ds.Register(s); err != nil {
			return nil, fmt.Errorf("register %s: %w", s.Name, err)
		}
	}
	if err := f.l3.Register(strata.Schema{Name: schemaL3, Model: &playerNoL1{}, L3: strata.PostgresPolicy{TableName: f.tables["players_nol1"]}}); err != nil {
		return nil, err
	}
	if err := f.ds.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	// The raw write baseline gets a table of its own with the same shape.
	if _, err := f.pg.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (LIKE %s INCLUDING ALL)", ident(f.tables["raw_writes"]), ident(f.tables["writes"]))); err != nil {
		return nil, err
	}
	if err := f.loadRows(ctx); err != nil {
		return nil, err
	}
	return f, nil
}

// loadRows fills the read tables with cfg.rows rows by COPY.
func (f *fixture) loadRows(ctx context.Context) error {
	rows := make([][]any, f.cfg.rows)
	for i := range rows {
		p := makePlayer(i)
		rows[i] = []any{p.ID, p.Name, p.Region, p.Level, p.Score}
	}
	cols := []string{"id", "name", "region", "level", "score"}
	if _, err := f.pg.CopyFrom(ctx, pgx.Identifier{f.tables["players"]}, cols, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("load players: %w", err)
	}
	for i := range rows {
		rows[i] = append(rows[i], "")
	}
	if _, err := f.pg.CopyFrom(ctx, pgx.Identifier{f.tables["players_nol1"]}, append(cols, "note"), pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("load players_nol1: %w", err)
	}
	_, err := f.pg.Exec(ctx, "ANALYZE "+ident(f.tables["players"])+", "+ident(f.tables["players_nol1"]))
	return err
}

// close stops the DataStores and removes the run's tables and keys.
func (f *fixture) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	if f.ds != nil {
		errs = append(errs, f.ds.Close())
	}
	if f.l3 != nil {
		errs = append(errs, f.l3.Close())
	}
	if f.pg != nil {
		for _, t := range f.tables {
			_, err := f.pg.Exec(ctx, "DROP TABLE IF EXISTS "+ident(t))
			errs = append(errs, err)
		}
		f.pg.Close()
	}
	if f.rdb != nil {
		_, err := benchkit.DeleteKeys(ctx, f.rdb, "*"+f.runID+"*")
		errs = append(errs, err)
		errs = append(errs, f.rdb.Close())
	}
	if err := errors.Join(errs...); err != nil {
		logf("cleanup: %v", err)
	}
}

// selectPlayer is the one PostgreSQL query every read-through subject's
// loader (and the raw L3 baseline) runs.
func (f *fixture) selectPlayer(ctx context.Context, table, id string) (player, error) {
	var p player
	err := f.pg.QueryRow(ctx, "SELECT id, name, region, level, score FROM "+ident(table)+" WHERE id = $1", id).
		Scan(&p.ID, &p.Name, &p.Region, &p.Level, &p.Score)
	return p, err
}

func ident(s string) string { return pgx.Identifier{s}.Sanitize() }

func infoField(info, key string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+":"); ok {
			return v
		}
	}
	return "?"
}

// countingRecorder counts, per schema, the reads each tier served, and the
// PostgreSQL reads of the stampede schema (each L3 "get" latency report is
// one query).
type countingRecorder struct {
	stampede string
	l3Reads  atomic.Int64
	hits     map[string]*tierHits // fixed at construction: read without locks
}

// tierHits counts the reads served by L1, L2 and L3.
type tierHits [3]atomic.Int64

var _ metrics.MetricsRecorder = (*countingRecorder)(nil)

func newCountingRecorder(stampede string, schemas ...string) *countingRecorder {
	r := &countingRecorder{stampede: stampede, hits: map[string]*tierHits{}}
	for _, s := range schemas {
		r.hits[s] = new(tierHits)
	}
	return r
}

func tierIndex(tier string) int {
	switch tier {
	case metrics.TierL1:
		return 0
	case metrics.TierL2:
		return 1
	case metrics.TierL3:
		return 2
	}
	return -1
}

func (r *countingRecorder) Hit(schema, tier string) {
	if h, i := r.hits[schema], tierIndex(tier); h != nil && i >= 0 {
		h[i].Add(1)
	}
}

func (r *countingRecorder) Miss(string, string) {}

func (r *countingRecorder) Latency(schema, tier, op string, _ time.Duration) {
	if schema == r.stampede && tier == metrics.TierL3 && op == "get" {
		r.l3Reads.Add(1)
	}
}

func (r *countingRecorder) Error(string, string, string) {}

// served returns the reads of schema served by L1, L2 and L3 so far.
func (r *countingRecorder) served(schema string) [3]int64 {
	var out [3]int64
	if h := r.hits[schema]; h != nil {
		for i := range out {
			out[i] = h[i].Load()
		}
	}
	return out
}

// servedNote describes where the reads of schema since before were served.
func (r *countingRecorder) servedNote(schema string, before [3]int64) string {
	now := r.served(schema)
	var d [3]int64
	total := int64(0)
	for i := range d {
		d[i] = now[i] - before[i]
		total += d[i]
	}
	if total == 0 {
		return ""
	}
	var parts []string
	for i, name := range []string{"L1", "L2", "L3"} {
		if d[i] > 0 {
			parts = append(parts, fmt.Sprintf("%s %.1f%%", name, 100*float64(d[i])/float64(total)))
		}
	}
	return "strata served: " + strings.Join(parts, ", ")
}

// noteOurs sets note on the rows of the named subject.
func noteOurs(rows []benchkit.Result, subject, note string) []benchkit.Result {
	for i := range rows {
		if rows[i].Subject == subject {
			rows[i].Note = note
		}
	}
	return rows
}

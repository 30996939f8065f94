package strata_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
	"github.com/AndrewDonelson/strata/strata/metrics"
	"github.com/AndrewDonelson/strata/testkit"
)

// Examples whose name ends in _servers run on the servers named by
// STRATA_POSTGRES_DSN and STRATA_REDIS_ADDR (`make stack-up` starts them and
// writes .devstack/env). Like the tests, they are skipped without them,
// and fail under STRATA_REQUIRE_SERVERS=1: skipServerExamples, called
// from TestMain, adds them to -test.skip.
func skipServerExamples() {
	if (os.Getenv(testkit.EnvPostgresDSN) != "" && os.Getenv(testkit.EnvRedisAddr) != "") || testkit.Required() {
		return
	}
	flag.Parse()
	pattern := "^Example.*_servers$"
	if f := flag.Lookup("test.skip"); f != nil {
		if cur := f.Value.String(); cur != "" {
			pattern = cur + "|" + pattern
		}
		_ = f.Value.Set(pattern)
	}
}

// exampleStore opens a DataStore on the example servers with cfg's other
// fields, registers schemas (each table name gets a random suffix so runs
// never meet) and migrates. cleanup drops the tables and closes.
func exampleStore(cfg strata.Config, schemas ...*strata.Schema) (ds *strata.DataStore, cleanup func(), err error) {
	dsn, addr := os.Getenv("STRATA_POSTGRES_DSN"), os.Getenv("STRATA_REDIS_ADDR")
	if dsn == "" || addr == "" {
		return nil, nil, errors.New("no servers: run `make stack-up` and export .devstack/env")
	}
	if cfg.PostgresPool == nil {
		cfg.PostgresDSN = dsn
	}
	if cfg.RedisClient == nil {
		cfg.RedisAddr = addr
	}
	sfx := testenv.Suffix()
	cfg.InvalidationChannel = "strata:example:" + sfx
	if ds, err = strata.NewDataStore(cfg); err != nil {
		return nil, nil, err
	}
	var tables []string
	for _, s := range schemas {
		s.L3.TableName = s.Name + "_" + sfx
		s.L2.KeyPrefix = s.Name + "_" + sfx
		tables = append(tables, s.L3.TableName)
		if err := ds.Register(*s); err != nil {
			ds.Close()
			return nil, nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ds.Migrate(ctx); err != nil {
		ds.Close()
		return nil, nil, err
	}
	if err := ds.WaitSubscribed(ctx); err != nil {
		ds.Close()
		return nil, nil, err
	}
	return ds, func() {
		ds.Close()
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		for _, t := range tables {
			_, _ = conn.Exec(context.Background(), "DROP TABLE IF EXISTS "+pgx.Identifier{t}.Sanitize())
		}
	}, nil
}

type Item struct {
	ID    string `strata:"primary_key"`
	Name  string `strata:"index"`
	Price int
}

// Search with the query builder: conditions are program-written SQL with
// $N placeholders for every value, columns are the fields' snake_case names.
func ExampleDataStore_Search_servers() {
	ctx := context.Background()
	items := &strata.Schema{Name: "items", Model: &Item{}}
	ds, cleanup, err := exampleStore(strata.Config{}, items)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cleanup()
	for i, name := range []string{"anvil", "bolt", "chain", "drill"} {
		_ = ds.Set(ctx, "items", name, &Item{ID: name, Name: name, Price: (i + 1) * 10})
	}
	q := strata.Q().Where("price >= $1 AND name <> $2", 20, "chain").OrderBy("price").Desc().Limit(10).Build()
	found, err := strata.SearchTyped[Item](ctx, ds, "items", &q)
	fmt.Println(found, err)
	n, err := ds.Count(ctx, "items", &q)
	fmt.Println(n, err)
	// Output:
	// [{drill drill 40} {bolt bolt 20}] <nil>
	// 2 <nil>
}

// SearchCached keeps a query's result in Redis under the schema's
// generation, which every write through Strata advances: a cached result
// never outlives a write.
func ExampleDataStore_SearchCached_servers() {
	ctx := context.Background()
	items := &strata.Schema{Name: "items", Model: &Item{}}
	ds, cleanup, err := exampleStore(strata.Config{}, items)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cleanup()
	_ = ds.Set(ctx, "items", "anvil", &Item{ID: "anvil", Name: "anvil", Price: 10})
	q := strata.Q().Where("price < $1", 100).OrderBy("id").Build()
	var got []Item
	_ = ds.SearchCached(ctx, "items", &q, &got) // from PostgreSQL, then cached
	fmt.Println(got)
	_ = ds.Set(ctx, "items", "bolt", &Item{ID: "bolt", Name: "bolt", Price: 20})
	_ = ds.SearchCached(ctx, "items", &q, &got) // the write made the cached result old
	fmt.Println(got)
	// Output:
	// [{anvil anvil 10}]
	// [{anvil anvil 10} {bolt bolt 20}]
}

// Tx writes to several schemas in one PostgreSQL transaction; the caches
// are told only after COMMIT.
func ExampleDataStore_Tx_servers() {
	ctx := context.Background()
	items := &strata.Schema{Name: "items", Model: &Item{}}
	carts := &strata.Schema{Name: "carts", Model: &Item{}}
	ds, cleanup, err := exampleStore(strata.Config{}, items, carts)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cleanup()
	_ = ds.Set(ctx, "carts", "c1", &Item{ID: "c1", Name: "anvil", Price: 10})
	err = ds.Tx(ctx).
		Set("items", "anvil", &Item{ID: "anvil", Name: "anvil", Price: 10}).
		Delete("carts", "c1").
		Commit()
	fmt.Println(err)
	_, err = strata.GetTyped[Item](ctx, ds, "carts", "c1")
	fmt.Println(errors.Is(err, strata.ErrNotFound))
	// A Tx with a value Strata refuses writes nothing: every value is
	// checked before the transaction begins.
	err = ds.Tx(ctx).
		Set("items", "bolt", &Item{ID: "bolt", Name: "bolt"}).
		Set("items", "nut", &Item{ID: "other"}). // id and primary key differ
		Commit()
	fmt.Println(errors.Is(err, strata.ErrInvalidModel))
	_, err = strata.GetTyped[Item](ctx, ds, "items", "bolt")
	fmt.Println(errors.Is(err, strata.ErrNotFound))
	// Output:
	// <nil>
	// true
	// true
	// true
}

// WriteBehind acknowledges a Set from memory and writes PostgreSQL in
// batches; FlushDirty (and Close) drain what is pending.
func ExampleWriteBehind_servers() {
	ctx := context.Background()
	items := &strata.Schema{Name: "items", Model: &Item{}, WriteMode: strata.WriteBehind}
	ds, cleanup, err := exampleStore(strata.Config{WriteBehindFlushInterval: time.Hour}, items)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cleanup()
	for _, id := range []string{"a", "b", "c"} {
		_ = ds.Set(ctx, "items", id, &Item{ID: id, Name: id})
	}
	got, err := strata.GetTyped[Item](ctx, ds, "items", "b") // served before it reaches PostgreSQL
	fmt.Println(got.ID, err)
	fmt.Println(ds.FlushDirty(ctx))
	n, err := ds.Count(ctx, "items", nil)
	fmt.Println(n, err)
	// Output:
	// b <nil>
	// <nil>
	// 3 <nil>
}

// Bring your own clients: Strata uses the service's go-redis client and pgx
// pool (with their hooks, tracers, TLS and BeforeConnect) and leaves them
// open on Close. The client must have ContextTimeoutEnabled.
func ExampleConfig_ownClients_servers() {
	ctx := context.Background()
	dsn, addr := os.Getenv("STRATA_POSTGRES_DSN"), os.Getenv("STRATA_REDIS_ADDR")
	rdb := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	defer rdb.Close()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()
	items := &strata.Schema{Name: "items", Model: &Item{}}
	ds, cleanup, err := exampleStore(strata.Config{RedisClient: rdb, PostgresPool: pool}, items)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ds.Redis() == redis.UniversalClient(rdb), ds.Postgres() == pool)
	_ = ds.Set(ctx, "items", "anvil", &Item{ID: "anvil", Name: "anvil"})
	cleanup() // closes the DataStore
	fmt.Println(rdb.Ping(ctx).Err(), pool.Ping(ctx))

	// A client without ContextTimeoutEnabled could not honour deadlines.
	old := redis.NewClient(&redis.Options{Addr: addr})
	defer old.Close()
	_, err = strata.NewDataStore(strata.Config{RedisClient: old})
	fmt.Println(errors.Is(err, strata.ErrInvalidConfig))
	// Output:
	// true true
	// <nil> <nil>
	// true
}

// GetMany reads many ids in one call per tier; missing ids are simply
// absent from the result.
func ExampleGetManyTyped() {
	ctx := context.Background()
	ds, _ := strata.NewDataStore(strata.Config{})
	defer ds.Close()
	_ = ds.Register(strata.Schema{Name: "items", Model: &Item{}})
	_ = ds.SetMany(ctx, "items", map[string]any{
		"a": &Item{ID: "a", Name: "anvil"},
		"b": &Item{ID: "b", Name: "bolt"},
	})
	got, err := strata.GetManyTyped[Item](ctx, ds, "items", []string{"a", "b", "zz"})
	fmt.Println(len(got), got["a"].Name, got["b"].Name, err)
	// Output: 2 anvil bolt <nil>
}

// Hooks run around reads and writes; a BeforeSet error refuses the write.
func ExampleSchemaHooks() {
	ctx := context.Background()
	ds, _ := strata.NewDataStore(strata.Config{})
	defer ds.Close()
	_ = ds.Register(strata.Schema{Name: "items", Model: &Item{}, Hooks: strata.SchemaHooks{
		BeforeSet: func(_ context.Context, v any) error {
			it := v.(*Item)
			if it.Price < 0 {
				return errors.New("price must not be negative")
			}
			it.Name = strings.ToLower(it.Name)
			return nil
		},
		AfterSet: func(_ context.Context, v any) { fmt.Println("saved", v.(*Item).ID) },
	}})
	fmt.Println(ds.Set(ctx, "items", "a", &Item{ID: "a", Name: "ANVIL"}))
	fmt.Println(ds.Set(ctx, "items", "b", &Item{ID: "b", Price: -1}))
	got, _ := strata.GetTyped[Item](ctx, ds, "items", "a")
	fmt.Println(got.Name)
	// Output:
	// saved a
	// <nil>
	// price must not be negative
	// anvil
}

// countingRecorder is a MetricsRecorder that counts hits and misses per
// tier (a Prometheus or OpenTelemetry adapter does the same with counters).
type countingRecorder struct {
	metrics.Noop
	mu sync.Mutex
	n  map[string]int
}

func (r *countingRecorder) Hit(_, tier string)  { r.add("hit " + tier) }
func (r *countingRecorder) Miss(_, tier string) { r.add("miss " + tier) }
func (r *countingRecorder) add(k string) {
	r.mu.Lock()
	r.n[k]++
	r.mu.Unlock()
}

// Metrics: Config.Metrics receives per-tier hits, misses, latencies and
// errors.
func ExampleConfig_metrics() {
	ctx := context.Background()
	rec := &countingRecorder{n: map[string]int{}}
	ds, _ := strata.NewDataStore(strata.Config{Metrics: rec})
	defer ds.Close()
	_ = ds.Register(strata.Schema{Name: "items", Model: &Item{}})
	_ = ds.Set(ctx, "items", "a", &Item{ID: "a"})
	_, _ = strata.GetTyped[Item](ctx, ds, "items", "a")
	_, _ = strata.GetTyped[Item](ctx, ds, "items", "a")
	_, _ = strata.GetTyped[Item](ctx, ds, "items", "missing")
	var keys []string
	for k, v := range rec.n {
		keys = append(keys, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(keys)
	fmt.Println(keys)
	// Output: [hit l1=2 miss l1=1]
}

// Ping is the readiness probe: nil when every configured server answers,
// otherwise an error per failing tier, by the context's deadline.
func ExampleDataStore_Ping() {
	ds, err := strata.NewDataStore(strata.Config{RedisAddr: "127.0.0.1:1", L2Pool: strata.L2PoolConfig{MaxRetries: -1}}) // nothing listens there
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ds.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if err := ds.Ping(ctx); err != nil {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			fmt.Println(errors.Is(err, strata.ErrL2Unavailable))
			return
		}
		fmt.Fprintln(w, "ready")
	})
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	fmt.Println(rec.Code)
	// Output:
	// true
	// 503
}

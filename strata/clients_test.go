package strata_test

import (
	"context"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
	"github.com/AndrewDonelson/strata/testkit"
	"github.com/AndrewDonelson/strata/testkit/rediskit"
)

// TestClientConfigRefusesWhatItWouldIgnore: a Config that names a server
// twice, or gives a caller's client settings it would not apply, is refused
// with a message naming the field, never half-applied.
func TestClientConfigRefusesWhatItWouldIgnore(t *testing.T) {
	t.Parallel()
	noDeadlines := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer noDeadlines.Close()
	noDeadlinesCluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer noDeadlinesCluster.Close()
	ok := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer ok.Close()
	pool, err := pgxpool.New(context.Background(), "postgres://u@127.0.0.1:1/db") // connects lazily
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	for _, tt := range []struct {
		name string
		cfg  strata.Config
		want string
	}{
		{"client without ContextTimeoutEnabled", strata.Config{RedisClient: noDeadlines}, "RedisClient: the client was built without ContextTimeoutEnabled"},
		{"cluster client without ContextTimeoutEnabled", strata.Config{RedisClient: noDeadlinesCluster}, "ContextTimeoutEnabled"},
		{"client and address", strata.Config{RedisClient: ok, RedisAddr: "127.0.0.1:6379"}, "RedisAddr: is for a client NewDataStore builds"},
		{"client and password", strata.Config{RedisClient: ok, RedisPassword: "x"}, "RedisPassword: is for a client NewDataStore builds"},
		{"client and pool sizes", strata.Config{RedisClient: ok, L2Pool: strata.L2PoolConfig{PoolSize: 3}}, "L2Pool: is for a client"},
		{"pool and DSN", strata.Config{PostgresPool: pool, PostgresDSN: "postgres://x"}, "set PostgresPool or PostgresDSN, not both"},
		{"URL and address", strata.Config{RedisURL: "redis://127.0.0.1:6379", RedisAddr: "127.0.0.1:6379"}, "set RedisURL or RedisAddr, not both"},
		{"URL scheme", strata.Config{RedisURL: "http://u:hunter2@127.0.0.1:6379"}, "invalid URL scheme"},
		{"URL unknown option", strata.Config{RedisURL: "redis://127.0.0.1:6379?colour=blue"}, "colour"},
		{"URL and master name", strata.Config{RedisURL: "redis://127.0.0.1:26379", RedisMasterName: "m"}, "master_name"},
		{"cluster URL and DB", strata.Config{RedisURL: "redis://127.0.0.1:7000?addr=127.0.0.1:7001", RedisDB: 2}, "only database 0"},
		{"address given a URL", strata.Config{RedisAddr: "redis://127.0.0.1:6379"}, "give a URL in RedisURL instead"},
		{"negative pool timeout", strata.Config{RedisAddr: "127.0.0.1:6379", L2Pool: strata.L2PoolConfig{PoolTimeout: -time.Second}}, "L2Pool.PoolTimeout"},
		{"retries below -1", strata.Config{RedisAddr: "127.0.0.1:6379", L2Pool: strata.L2PoolConfig{MaxRetries: -2}}, "L2Pool.MaxRetries"},
		{"sentinel credentials without sentinel", strata.Config{RedisAddr: "127.0.0.1:6379", RedisSentinelPassword: "p"}, "need RedisMasterName"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := strata.NewDataStore(tt.cfg)
			if err == nil {
				ds.Close()
				t.Fatalf("NewDataStore accepted %+v", tt.cfg)
			}
			if !errors.Is(err, strata.ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v; want ErrInvalidConfig saying %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("err shows the URL's password: %v", err)
			}
		})
	}
}

// TestOwnClientsAreUsedAndLeftOpen: a DataStore on the caller's Redis client
// and PostgreSQL pool uses exactly them (the accessors return them, records
// reach Redis through them, instances sharing a client still invalidate
// each other, a read replica shares the pool), and Close leaves them open.
func TestOwnClientsAreUsedAndLeftOpen(t *testing.T) {
	t.Parallel()
	dsn, addr := testenv.PostgresDSN(t), testenv.RedisAddr(t)
	ctx := ctxT(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	defer rdb.Close()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	name := "own_" + testenv.Suffix()
	pgTable(t, dsn, name)
	defer rdb.Del(context.Background(), "strata:"+name+":a1")
	cfg := strata.Config{RedisClient: rdb, PostgresPool: pool, InvalidationChannel: "strata:test:" + name}
	schema := strata.Schema{Name: name, Model: &Account{}, L3: strata.PostgresPolicy{ReadReplica: dsn}}
	a, b := openStore(t, cfg, schema), openStore(t, cfg, schema)
	if a.Redis() != redis.UniversalClient(rdb) || a.Postgres() != pool {
		t.Fatalf("accessors = %p, %p; want the caller's %p, %p", a.Redis(), a.Postgres(), rdb, pool)
	}
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Set(ctx, name, "a1", &Account{ID: "a1", Username: "ada", Score: 1}); err != nil {
		t.Fatal(err)
	}
	if got, err := strata.GetTyped[Account](ctx, b, name, "a1"); err != nil || got.Score != 1 {
		t.Fatalf("b.Get = %+v, %v", got, err)
	}
	if n, err := rdb.Exists(ctx, "strata:"+name+":a1").Result(); err != nil || n != 1 {
		t.Errorf("the record is not in the caller's Redis: %d, %v", n, err)
	}
	if err := a.Set(ctx, name, "a1", &Account{ID: "a1", Username: "ada", Score: 2}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to read the new score", func() bool {
		got, err := strata.GetTyped[Account](ctx, b, name, "a1")
		return err == nil && got.Score == 2
	})
	q := strata.Q().Where("username = $1", "ada").Build()
	if rows, err := strata.SearchTyped[Account](ctx, a, name, &q); err != nil || len(rows) != 1 {
		t.Errorf("Search through the replica = %v, %v", rows, err)
	}
	if err := a.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Errorf("the caller's Redis client was closed by Close: %v", err)
	}
	if err := pool.Ping(ctx); err != nil {
		t.Errorf("the caller's pool was closed by Close: %v", err)
	}
}

// freeLoopbackPort returns a port free on 127.0.0.1 (the kit's).
func freeLoopbackPort(t *testing.T) string {
	t.Helper()
	p, err := testkit.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(p)
}

// TestRedisSettingsReachTheClient: the Config's Redis fields reach the
// client NewDataStore builds, over what a URL says, in each form.
func TestRedisSettingsReachTheClient(t *testing.T) {
	t.Parallel()
	tc := &tls.Config{ServerName: "cache.internal"}
	for _, tt := range []struct {
		name string
		cfg  strata.Config
		want redis.Options // the fields compared below
	}{
		{"address", strata.Config{RedisAddr: "127.0.0.1:1", RedisUsername: "svc", RedisPassword: "pw", RedisDB: 4, RedisTLS: tc,
			L2Pool: strata.L2PoolConfig{PoolSize: 7, PoolTimeout: 7 * time.Second, MaxRetries: 2}},
			redis.Options{Username: "svc", Password: "pw", DB: 4, TLSConfig: tc, PoolSize: 7, PoolTimeout: 7 * time.Second, MaxRetries: 2}},
		{"URL alone", strata.Config{RedisURL: "rediss://u:p@127.0.0.1:1/3?pool_timeout=2s&max_retries=5&pool_size=3"},
			redis.Options{Username: "u", Password: "p", DB: 3, PoolSize: 3, PoolTimeout: 2 * time.Second, MaxRetries: 5}},
		{"Config over URL", strata.Config{RedisURL: "redis://u:p@127.0.0.1:1/3?pool_timeout=2s&max_retries=5", RedisUsername: "svc", RedisPassword: "pw", RedisDB: 4, RedisTLS: tc,
			L2Pool: strata.L2PoolConfig{PoolTimeout: 7 * time.Second, MaxRetries: 2}},
			redis.Options{Username: "svc", Password: "pw", DB: 4, TLSConfig: tc, PoolTimeout: 7 * time.Second, MaxRetries: 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := strata.NewDataStore(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer ds.Close()
			c, ok := ds.Redis().(*redis.Client)
			if !ok {
				t.Fatalf("client is %T", ds.Redis())
			}
			o := c.Options()
			if !o.ContextTimeoutEnabled {
				t.Error("ContextTimeoutEnabled is off")
			}
			if o.Username != tt.want.Username || o.Password != tt.want.Password || o.DB != tt.want.DB ||
				o.PoolTimeout != tt.want.PoolTimeout || o.MaxRetries != tt.want.MaxRetries ||
				(tt.want.PoolSize != 0 && o.PoolSize != tt.want.PoolSize) {
				t.Errorf("options: user %q pass %q db %d pool %d poolTimeout %v retries %d; want %q %q %d %d %v %d",
					o.Username, o.Password, o.DB, o.PoolSize, o.PoolTimeout, o.MaxRetries,
					tt.want.Username, tt.want.Password, tt.want.DB, tt.want.PoolSize, tt.want.PoolTimeout, tt.want.MaxRetries)
			}
			if tt.want.TLSConfig != nil && o.TLSConfig != tt.want.TLSConfig {
				t.Errorf("TLSConfig = %p, want RedisTLS %p", o.TLSConfig, tt.want.TLSConfig)
			}
			if strings.HasPrefix(tt.cfg.RedisURL, "rediss://") && o.TLSConfig == nil {
				t.Error("rediss:// without TLS")
			}
		})
	}
}

// TestRedisSentinelCredentials: Sentinels that require a password of their
// own, in front of a master with another, are reached with
// RedisSentinelPassword (or the URL's user info) and RedisPassword, and
// refused without the Sentinels' password.
func TestRedisSentinelCredentials(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	mport, sport := freeLoopbackPort(t), freeLoopbackPort(t)
	rediskit.StartWith(t, &redis.Options{Addr: "127.0.0.1:" + mport, Password: "master-pw"},
		"--port", mport, "--bind", "127.0.0.1", "--requirepass", "master-pw", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	text := "port " + sport + "\nbind 127.0.0.1\ndir " + dir + "\nsentinel monitor m 127.0.0.1 " + mport + " 1\nsentinel auth-pass m master-pw\nrequirepass sentinel-pw\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	sentinel := "127.0.0.1:" + sport
	rediskit.StartWith(t, &redis.Options{Addr: sentinel, Password: "sentinel-pw"}, conf, "--sentinel")

	for _, tt := range []struct {
		name string
		cfg  strata.Config
		ok   bool
	}{
		{"fields", strata.Config{RedisAddr: sentinel, RedisMasterName: "m", RedisPassword: "master-pw", RedisSentinelPassword: "sentinel-pw"}, true},
		{"URL", strata.Config{RedisURL: "redis://:sentinel-pw@" + sentinel + "?master_name=m&password=master-pw"}, true},
		{"no sentinel password", strata.Config{RedisAddr: sentinel, RedisMasterName: "m", RedisPassword: "master-pw", L2Pool: strata.L2PoolConfig{MaxRetries: -1}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := strata.NewDataStore(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer ds.Close()
			if tt.ok {
				if err := ds.WaitSubscribed(ctx); err != nil {
					t.Fatal(err)
				}
			}
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			err = ds.Ping(pctx)
			if tt.ok != (err == nil) {
				t.Errorf("Ping = %v; want ok=%v", err, tt.ok)
			}
		})
	}
}

// wrappedClient is a UniversalClient of a type of the caller's own, whose
// ContextTimeoutEnabled Strata cannot see.
type wrappedClient struct{ *redis.Client }

// TestRedisClientOfUnknownTypeIsLoggedAtError: a caller's client whose
// deadline handling cannot be checked is accepted, and that is logged at
// Error once, at NewDataStore.
func TestRedisClientOfUnknownTypeIsLoggedAtError(t *testing.T) {
	t.Parallel()
	c := wrappedClient{redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})}
	defer c.Close()
	logs := &captureLogger{}
	ds, err := strata.NewDataStore(strata.Config{RedisClient: c, Logger: logs})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	if got := logs.find("ERROR", "ContextTimeoutEnabled cannot be checked", "wrappedClient"); len(got) != 1 {
		t.Errorf("Error lines about the unchecked client = %v; want one naming its type", got)
	}
}

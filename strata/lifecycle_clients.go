package strata

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/l2redis"
)

// This file holds how NewDataStore gets its Redis client and PostgreSQL
// pool: the caller's own (Config.RedisClient, Config.PostgresPool), or one
// it builds from Config.RedisURL or Config.RedisAddr and the Redis fields
// beside them, or from Config.PostgresDSN.

// Redis returns the Redis client the DataStore uses: Config.RedisClient,
// or the client NewDataStore built from RedisURL or RedisAddr (which Close
// closes). It is nil without Redis. Use it for commands of your own on the
// same connections; do not close a client Strata built.
func (ds *DataStore) Redis() redis.UniversalClient {
	if ds.l2 == nil {
		return nil
	}
	return ds.l2.Client()
}

// Postgres returns the PostgreSQL pool of the primary the DataStore uses:
// Config.PostgresPool, or the pool NewDataStore opened for PostgresDSN
// (which Close closes). It is nil without PostgreSQL. Do not close a pool
// Strata opened.
func (ds *DataStore) Postgres() *pgxpool.Pool {
	if ds.l3 == nil {
		return nil
	}
	return ds.l3.Pool()
}

// hasRedis and hasPostgres report whether the Config names each server.
func (c *Config) hasRedis() bool {
	return c.RedisClient != nil || c.RedisAddr != "" || c.RedisURL != ""
}
func (c *Config) hasPostgres() bool { return c.PostgresPool != nil || c.PostgresDSN != "" }

// checkClients validates the fields that say how to reach the servers.
func (c *Config) checkClients() error {
	bad := func(field, why string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(why, args...))
	}
	if c.PostgresPool != nil && c.PostgresDSN != "" {
		return bad("PostgresPool", "set PostgresPool or PostgresDSN, not both")
	}
	if c.RedisClient != nil {
		// Every other Redis connection field would be silently ignored.
		for _, f := range []struct {
			name string
			set  bool
		}{
			{"RedisAddr", c.RedisAddr != ""}, {"RedisURL", c.RedisURL != ""},
			{"RedisUsername", c.RedisUsername != ""}, {"RedisPassword", c.RedisPassword != ""},
			{"RedisDB", c.RedisDB != 0}, {"RedisMasterName", c.RedisMasterName != ""},
			{"RedisTLS", c.RedisTLS != nil},
			{"RedisSentinelUsername", c.RedisSentinelUsername != ""},
			{"RedisSentinelPassword", c.RedisSentinelPassword != ""},
			{"L2Pool", c.L2Pool != (L2PoolConfig{})},
		} {
			if f.set {
				return bad(f.name, "is for a client NewDataStore builds; with RedisClient, configure your client instead")
			}
		}
		if err := checkContextTimeout(c.RedisClient); err != nil {
			return bad("RedisClient", "%v", err)
		}
		return nil
	}
	if c.RedisURL != "" {
		if c.RedisAddr != "" {
			return bad("RedisURL", "set RedisURL or RedisAddr, not both")
		}
		if c.RedisMasterName != "" {
			return bad("RedisMasterName", "with RedisURL, name the master in the URL (?master_name=...)")
		}
		if _, err := parseRedisURL(c.RedisURL); err != nil {
			return bad("RedisURL", "%v", err)
		}
	}
	if (c.RedisSentinelUsername != "" || c.RedisSentinelPassword != "") && c.RedisAddr != "" && c.RedisMasterName == "" {
		return bad("RedisSentinelPassword", "Sentinel credentials need RedisMasterName (a Sentinel deployment)")
	}
	if c.L2Pool.PoolTimeout < 0 {
		return bad("L2Pool.PoolTimeout", "must not be negative, got %v", c.L2Pool.PoolTimeout)
	}
	if c.L2Pool.MaxRetries < -1 {
		return bad("L2Pool.MaxRetries", "must be -1 (no retries), 0 (go-redis's default) or more, got %d", c.L2Pool.MaxRetries)
	}
	return nil
}

// checkContextTimeout refuses a caller's client that would not let a call's
// context deadline bound its socket waits: Strata promises that every call
// returns by its context's deadline, and gives Redis only part of that time
// on reads PostgreSQL can answer. A client of a type go-redis does not
// define cannot be checked; NewDataStore logs that at Error instead.
func checkContextTimeout(c redis.UniversalClient) error {
	var enabled bool
	switch c := c.(type) {
	case *redis.Client:
		enabled = c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		enabled = c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		enabled = c.Options().ContextTimeoutEnabled
	default:
		return nil
	}
	if !enabled {
		return errors.New("the client was built without ContextTimeoutEnabled, so a call's context deadline cannot bound its waits on Redis; set ContextTimeoutEnabled: true in its options")
	}
	return nil
}

// contextTimeoutUnknown reports whether c is of a type whose
// ContextTimeoutEnabled checkContextTimeout cannot see.
func contextTimeoutUnknown(c redis.UniversalClient) bool {
	switch c.(type) {
	case *redis.Client, *redis.ClusterClient, *redis.Ring:
		return false
	}
	return true
}

// redisURLKind is the deployment a RedisURL describes.
type redisURLKind int

const (
	redisSingle   redisURLKind = iota // redis://, rediss:// or unix://: one server
	redisCluster                      // redis:// with addr= seeds: a Redis Cluster
	redisSentinel                     // redis:// with master_name=: Sentinels
)

// parsedRedisURL is a RedisURL parsed by the go-redis parser for its form;
// exactly one of the option pointers is set.
type parsedRedisURL struct {
	kind     redisURLKind
	single   *redis.Options
	cluster  *redis.ClusterOptions
	failover *redis.FailoverOptions
}

// parseRedisURL picks the form of u by its query (master_name= for
// Sentinel, addr= for Cluster) and parses it with go-redis's parser for that
// form, whose errors it returns with the password redacted.
func parseRedisURL(u string) (parsedRedisURL, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return parsedRedisURL{}, fmt.Errorf("%q is not a URL", redactDSN(u))
	}
	q := pu.Query()
	var p parsedRedisURL
	switch {
	case q.Has("master_name"):
		p.kind = redisSentinel
		p.failover, err = redis.ParseFailoverURL(u)
	case q.Has("addr"):
		p.kind = redisCluster
		p.cluster, err = redis.ParseClusterURL(u)
	default:
		p.single, err = redis.ParseURL(u)
	}
	if err != nil {
		return parsedRedisURL{}, fmt.Errorf("%s: %s", redactDSN(u), redactSecret(err.Error(), pu))
	}
	return p, nil
}

// redactSecret removes u's password from msg.
func redactSecret(msg string, u *url.URL) string {
	if pw, ok := u.User.Password(); ok && pw != "" {
		msg = strings.ReplaceAll(msg, pw, redactedText)
	}
	return msg
}

// redisClient builds the client NewDataStore owns, from RedisURL or
// RedisAddr and the fields beside them. Config fields that are set win over
// what the URL says. ContextTimeoutEnabled is always on.
func (c *Config) redisClient() (redis.UniversalClient, error) {
	if c.RedisURL == "" {
		return c.redisClientFromAddr(), nil
	}
	p, err := parseRedisURL(c.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("%w: RedisURL: %w", ErrInvalidConfig, err)
	}
	pool := c.L2Pool
	switch p.kind {
	case redisSingle:
		o := p.single
		setIfGiven(&o.Username, c.RedisUsername)
		setIfGiven(&o.Password, c.RedisPassword)
		setIfGiven(&o.DB, c.RedisDB)
		setIfGiven(&o.TLSConfig, c.RedisTLS)
		pool.apply(&o.PoolSize, &o.MinIdleConns, &o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries)
		o.ContextTimeoutEnabled = true
		return redis.NewClient(o), nil
	case redisCluster:
		o := p.cluster
		if c.RedisDB != 0 {
			return nil, fmt.Errorf("%w: RedisDB: a Redis Cluster has only database 0", ErrInvalidConfig)
		}
		setIfGiven(&o.Username, c.RedisUsername)
		setIfGiven(&o.Password, c.RedisPassword)
		setIfGiven(&o.TLSConfig, c.RedisTLS)
		pool.apply(&o.PoolSize, &o.MinIdleConns, &o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries)
		o.ContextTimeoutEnabled = true
		return redis.NewClusterClient(o), nil
	default:
		o := p.failover
		setIfGiven(&o.Username, c.RedisUsername)
		setIfGiven(&o.Password, c.RedisPassword)
		setIfGiven(&o.SentinelUsername, c.RedisSentinelUsername)
		setIfGiven(&o.SentinelPassword, c.RedisSentinelPassword)
		setIfGiven(&o.DB, c.RedisDB)
		setIfGiven(&o.TLSConfig, c.RedisTLS)
		pool.apply(&o.PoolSize, &o.MinIdleConns, &o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries)
		o.ContextTimeoutEnabled = true
		return redis.NewFailoverClient(o), nil
	}
}

// redisClientFromAddr builds the client of RedisAddr: one server, a
// Cluster (several addresses) or Sentinels (with RedisMasterName).
func (c *Config) redisClientFromAddr() redis.UniversalClient {
	addrs := strings.Split(c.RedisAddr, ",")
	for i := range addrs {
		addrs[i] = strings.TrimSpace(addrs[i])
	}
	return redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:            addrs,
		MasterName:       c.RedisMasterName,
		Username:         c.RedisUsername,
		Password:         c.RedisPassword,
		SentinelUsername: c.RedisSentinelUsername,
		SentinelPassword: c.RedisSentinelPassword,
		DB:               c.RedisDB,
		TLSConfig:        c.RedisTLS,
		PoolSize:         c.L2Pool.PoolSize,
		MinIdleConns:     c.L2Pool.MinIdleConns,
		DialTimeout:      c.L2Pool.DialTimeout,
		ReadTimeout:      c.L2Pool.ReadTimeout,
		WriteTimeout:     c.L2Pool.WriteTimeout,
		PoolTimeout:      c.L2Pool.PoolTimeout,
		MaxRetries:       c.L2Pool.MaxRetries,

		ContextTimeoutEnabled: true,
	})
}

// setIfGiven sets *dst to v unless v is the zero value: a Config field
// given beside RedisURL overrides what the URL says.
func setIfGiven[T comparable](dst *T, v T) {
	var zero T
	if v != zero {
		*dst = v
	}
}

// apply writes p's set fields over a parsed URL's options.
func (p L2PoolConfig) apply(size, idle *int, dial, read, write, poolTimeout *time.Duration, retries *int) {
	if p.PoolSize != 0 {
		*size = p.PoolSize
	}
	if p.MinIdleConns != 0 {
		*idle = p.MinIdleConns
	}
	for _, d := range []struct{ dst, v *time.Duration }{{dial, &p.DialTimeout}, {read, &p.ReadTimeout}, {write, &p.WriteTimeout}, {poolTimeout, &p.PoolTimeout}} {
		if *d.v != 0 {
			*d.dst = *d.v
		}
	}
	if p.MaxRetries != 0 {
		*retries = p.MaxRetries
	}
}

// redisWhere names the Redis a DataStore uses, for messages: its address or
// URL (password redacted), or "the caller's client".
func (c *Config) redisWhere() string {
	switch {
	case c.RedisURL != "":
		return redactDSN(c.RedisURL)
	case c.RedisAddr != "":
		return c.RedisAddr
	default:
		return "Config.RedisClient"
	}
}

// openL2 returns the Redis tier on Config.RedisClient (left open by Close)
// or on a client built from the Config (closed by Close, and watched for
// refused credentials, which are logged at Error).
func (ds *DataStore) openL2() (*l2redis.Store, error) {
	c := &ds.cfg
	opts := &l2redis.Options{DefaultTTL: c.DefaultL2TTL, TTLJitter: l2TTLJitter, OnBreakerChange: ds.breakerChanged}
	if c.RedisClient != nil {
		if contextTimeoutUnknown(c.RedisClient) {
			c.Logger.Error("strata: Config.RedisClient is of a type whose ContextTimeoutEnabled cannot be checked; unless it honours context deadlines, calls may outlive their deadline while Redis does not answer",
				"type", fmt.Sprintf("%T", c.RedisClient))
		}
		store, err := l2redis.New(c.RedisClient, opts)
		if err != nil {
			return nil, fmt.Errorf("%w: RedisClient: %w", ErrInvalidConfig, err)
		}
		return store, nil
	}
	field := "RedisAddr"
	if c.RedisURL != "" {
		field = "RedisURL"
	}
	client, err := c.redisClient()
	if err != nil {
		return nil, err
	}
	store, err := l2redis.Own(client, opts)
	if err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, field, err)
	}
	client.AddHook(newAuthWatch(c.Logger, c.redisWhere())) // refused credentials are logged at Error
	return store, nil
}

package strata_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata"
)

// TestConfigPrintsNoSecrets: every way of printing or logging a Config (and
// a DataStore, which holds one) shows its fields but no password or key.
func TestConfigPrintsNoSecrets(t *testing.T) {
	t.Parallel()
	key := []byte("0123456789abcdef0123456789abcdef")
	secrets := []string{
		"pg-secret-1", "pg secret 2", "pg-secret-3", "redis-secret-4",
		string(key), hex.EncodeToString(key), strings.Trim(fmt.Sprint(key), "[]"),
		"tls-secret-5", "pg-secret-6",
	}
	pool, err := pgxpool.New(context.Background(), "postgres://app:pg-secret-6@db.internal:5432/prod") // connects lazily
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rdb := redis.NewClient(&redis.Options{Addr: "cache.internal:6379", Password: "redis-secret-4", ContextTimeoutEnabled: true})
	defer rdb.Close()
	configs := map[string]strata.Config{
		"url DSN": {
			PostgresDSN:   "postgres://app:pg-secret-1@db.internal:5432/prod?sslmode=require&sslpassword=pg-secret-3",
			RedisAddr:     "cache.internal:6379",
			RedisPassword: "redis-secret-4",
			EncryptionKey: key,
		},
		"key=value DSN": {
			PostgresDSN:   "host=db.internal user=app password='pg secret 2' dbname=prod",
			RedisAddr:     "cache.internal:6379",
			RedisPassword: "redis-secret-4",
			EncryptionKey: key,
		},
		"password in query": {
			PostgresDSN: "postgresql://app@db.internal/prod?password=pg-secret-1",
		},
		"URL and TLS": {
			RedisURL:              "rediss://strata:redis-secret-4@cache.internal:6380/2",
			RedisTLS:              &tls.Config{ServerName: "cache.internal", Certificates: []tls.Certificate{{PrivateKey: struct{ K string }{"tls-secret-5"}}}},
			RedisSentinelPassword: "redis-secret-4",
		},
		"own clients": {
			RedisClient:  rdb,
			PostgresPool: pool,
		},
	}
	verbs := map[string]func(c strata.Config) string{
		"%v":        func(c strata.Config) string { return fmt.Sprintf("%v", c) },
		"%+v":       func(c strata.Config) string { return fmt.Sprintf("%+v", c) },
		"%#v":       func(c strata.Config) string { return fmt.Sprintf("%#v", c) },
		"%s":        func(c strata.Config) string { return fmt.Sprintf("%s", c) },
		"%q":        func(c strata.Config) string { return fmt.Sprintf("%q", c) },
		"%x":        func(c strata.Config) string { return fmt.Sprintf("%x", c) },
		"%d":        func(c strata.Config) string { return fmt.Sprintf("%d", c) },
		"%+v ptr":   func(c strata.Config) string { return fmt.Sprintf("%+v", &c) },
		"Println":   func(c strata.Config) string { return fmt.Sprintln(c) },
		"String":    func(c strata.Config) string { return c.String() },
		"GoString":  func(c strata.Config) string { return c.GoString() },
		"in struct": func(c strata.Config) string { return fmt.Sprintf("%+v", struct{ Cfg strata.Config }{c}) },
		"slog text": func(c strata.Config) string {
			var b bytes.Buffer
			slog.New(slog.NewTextHandler(&b, nil)).Info("starting", "config", c)
			return b.String()
		},
		"slog json": func(c strata.Config) string {
			var b bytes.Buffer
			slog.New(slog.NewJSONHandler(&b, nil)).Info("starting", "config", c)
			return b.String()
		},
		"DataStore %+v": func(c strata.Config) string {
			c.PostgresDSN, c.RedisAddr, c.RedisURL, c.RedisTLS = "", "", "", nil // an in-memory store, so it opens without servers
			c.RedisSentinelPassword = ""
			if c.RedisClient != nil { // it is not contacted before a call needs it
				c.RedisPassword, c.L2Pool = "", strata.L2PoolConfig{}
			}
			ds, err := strata.NewDataStore(c)
			if err != nil {
				return err.Error()
			}
			defer ds.Close()
			return fmt.Sprintf("%+v %#v", ds, ds)
		},
	}
	for cname, cfg := range configs {
		for vname, print := range verbs {
			t.Run(cname+"/"+vname, func(t *testing.T) {
				out := print(cfg)
				for _, s := range secrets {
					if strings.Contains(out, s) {
						t.Errorf("output shows secret %q:\n%s", s, out)
					}
				}
			})
		}
	}
	// The rest is still there.
	out := fmt.Sprintf("%+v", configs["url DSN"])
	for _, want := range []string{"PostgresDSN:postgres://app:REDACTED@db.internal:5432/prod?", "sslmode=require", "RedisAddr:cache.internal:6379", "RedisPassword:REDACTED", "EncryptionKey:REDACTED", "RedisDB:0"} {
		if !strings.Contains(out, want) {
			t.Errorf("%%+v output lacks %q:\n%s", want, out)
		}
	}
	if out := fmt.Sprintf("%+v", configs["key=value DSN"]); !strings.Contains(out, "host=db.internal user=app password=REDACTED dbname=prod") {
		t.Errorf("key=value DSN not kept apart from its password:\n%s", out)
	}
	if out := fmt.Sprintf("%#v", strata.Config{}); !strings.HasPrefix(out, "strata.Config{PostgresDSN:\"\", ") || !strings.Contains(out, "RedisPassword:\"\"") {
		t.Errorf("%%#v of a zero Config = %s", out)
	}
}

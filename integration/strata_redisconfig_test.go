package integration_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/integration/harness"
	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/testkit"
	"github.com/AndrewDonelson/strata/testkit/rediskit"
)

// TestRedisURLForms: RedisURL reaches a server in each form go-redis
// parses — redis:// with a database, unix://, Sentinel (master_name=) —
// and the Config's own fields win over the URL's.
func TestRedisURLForms(t *testing.T) {
	t.Parallel()
	addr := harness.RedisAddr(t)
	ctx := ctxT(t)
	sock := filepath.Join(t.TempDir(), "redis.sock") // a redis-server of the test's own, on a unix socket only
	rediskit.StartWith(t, &redis.Options{Network: "unix", Addr: sock},
		"--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	sentinel := rediskit.NewSentinel(t, "strata-url-master").Addr

	for _, tt := range []struct {
		name string
		cfg  strata.Config
		db   int
		via  func(t *testing.T) *redis.Client // a client on the server and database the record must reach
	}{
		{"redis:// with a database", strata.Config{RedisURL: "redis://" + addr + "/3"}, 3, nil},
		{"RedisDB wins over the URL's", strata.Config{RedisURL: "redis://" + addr + "/3", RedisDB: 5}, 5, nil},
		{"unix://", strata.Config{RedisURL: "unix://" + sock + "?db=2"}, 2, func(t *testing.T) *redis.Client {
			return redis.NewClient(&redis.Options{Network: "unix", Addr: sock, DB: 2})
		}},
		{"sentinel", strata.Config{RedisURL: "redis://" + sentinel + "?master_name=strata-url-master"}, 0, func(t *testing.T) *redis.Client {
			return redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "strata-url-master", SentinelAddrs: []string{sentinel}})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name := "url_" + testkit.Suffix()
			cfg := tt.cfg
			cfg.InvalidationChannel = "strata:test:" + name
			ds := open(t, cfg, strata.Schema{Name: name, Model: &Score{}})
			if err := ds.Ping(ctx); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			if err := ds.Set(ctx, name, "s1", &Score{ID: "s1", Value: 1}); err != nil {
				t.Fatal(err)
			}
			var c *redis.Client
			if tt.via != nil {
				c = tt.via(t)
			} else {
				c = redis.NewClient(&redis.Options{Addr: addr, DB: tt.db})
			}
			defer c.Close()
			defer c.Del(context.Background(), "strata:"+name+":s1")
			if n, err := c.Exists(ctx, "strata:"+name+":s1").Result(); err != nil || n != 1 {
				t.Errorf("record not in database %d of the URL's server: %d, %v", tt.db, n, err)
			}
		})
	}
}

// TestRedisCredentialsRefusedArePingErrorsAndLoggedOnce: against a Redis
// that requires a password, a wrong or missing one makes Ping fail naming
// Redis and the refusal, and is logged at Error through Config.Logger once
// (not once per command); the right one pings.
func TestRedisCredentialsRefusedArePingErrorsAndLoggedOnce(t *testing.T) {
	t.Parallel()
	srv := rediskit.StartServer(t)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	if err := admin.ConfigSet(ctxT(t), "requirepass", "right-pass").Err(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, password, reply string
	}{
		{"wrong password", "wrong-pass", "WRONGPASS"},
		{"no password", "", "NOAUTH"},
		{"right password", "right-pass", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxT(t)
			lg := &lineLogger{}
			schema := "auth_" + testkit.Suffix()
			ds, err := strata.NewDataStore(strata.Config{RedisAddr: srv.Addr, RedisPassword: tt.password, Logger: lg, InvalidationChannel: "strata:test:" + schema})
			if err != nil {
				t.Fatal(err)
			}
			defer ds.Close()
			if err := ds.Register(strata.Schema{Name: schema, Model: &Score{}, L3: strata.PostgresPolicy{Disabled: true}}); err != nil {
				t.Fatal(err)
			}
			err = ds.Ping(ctx)
			if tt.reply == "" {
				if err != nil {
					t.Fatalf("Ping with the right password = %v", err)
				}
				return
			}
			if !errors.Is(err, strata.ErrL2Unavailable) || !strings.Contains(err.Error(), "redis at "+srv.Addr) || !strings.Contains(err.Error(), tt.reply) {
				t.Fatalf("Ping = %v, want ErrL2Unavailable naming redis at %s and %s", err, srv.Addr, tt.reply)
			}
			for range 20 {
				if err := ds.Get(ctx, schema, "x", &Score{}); !errors.Is(err, strata.ErrL2Unavailable) {
					t.Fatalf("Get with refused credentials = %v, want ErrL2Unavailable", err)
				}
			}
			if got := lg.matching("ERROR", "refused", tt.reply); len(got) != 1 {
				t.Errorf("%d Error lines about the refused credentials after Ping and 20 Gets, want 1; lines: %q", len(got), lg.matching(""))
			}
			if tt.password != "" {
				for _, l := range lg.matching("", tt.password) {
					t.Errorf("a log line shows the password: %s", l)
				}
			}
		})
	}
}

// lineLogger is a strata.Logger keeping each line as "LEVEL msg k=v ...",
// safe for concurrent use.
type lineLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLogger) log(level, msg string, kv []any) {
	line := level + " " + msg
	for i := 0; i+1 < len(kv); i += 2 {
		line += fmt.Sprintf(" %v=%v", kv[i], kv[i+1])
	}
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
}

func (l *lineLogger) Debug(msg string, kv ...any) { l.log("DEBUG", msg, kv) }
func (l *lineLogger) Info(msg string, kv ...any)  { l.log("INFO", msg, kv) }
func (l *lineLogger) Warn(msg string, kv ...any)  { l.log("WARN", msg, kv) }
func (l *lineLogger) Error(msg string, kv ...any) { l.log("ERROR", msg, kv) }

// matching returns the lines at level ("" for any) that contain every one
// of the words.
func (l *lineLogger) matching(level string, words ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		ok := level == "" || strings.HasPrefix(line, level+" ")
		for _, w := range words {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

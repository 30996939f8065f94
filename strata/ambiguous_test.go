package strata_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

type Memo struct {
	ID   string `strata:"primary_key"`
	Body string
}

// extended matches a chunk that runs a statement over the extended
// protocol (Bind); commit matches pgx's COMMIT.
var (
	extended = func(b []byte) bool { return len(b) > 0 && b[0] == 'B' }
	commit   = func(b []byte) bool { return len(b) > 0 && b[0] == 'Q' && bytes.Contains(b, []byte("commit")) }
)

// TestAmbiguousWriteInvalidates: the writer's PostgreSQL stops answering
// (a proxy holds what the writer sends, as a frozen server would) just as a
// write reaches it; the call fails at its 1 s deadline; then the server
// runs the statement. A second instance had the old value in L1 and L2, and
// re-read it from PostgreSQL while the statement was held. Once the write
// is committed, the second instance must read the new value within a small
// bound, not for the L1/L2 TTL. Set, Delete, SetMany and Tx alike.
func TestAmbiguousWriteInvalidates(t *testing.T) {
	t.Parallel()
	type env struct {
		w, r *strata.DataStore
		name string
	}
	for _, tc := range []struct {
		name  string
		match func([]byte) bool
		write func(ctx context.Context, e env) error
		want  string // "" = deleted
	}{
		{"Set", extended, func(ctx context.Context, e env) error {
			return e.w.Set(ctx, e.name, "a", &Memo{ID: "a", Body: "v2"})
		}, "v2"},
		{"Delete", extended, func(ctx context.Context, e env) error {
			return e.w.Delete(ctx, e.name, "a")
		}, ""},
		{"SetMany", commit, func(ctx context.Context, e env) error {
			return e.w.SetMany(ctx, e.name, map[string]any{"a": &Memo{ID: "a", Body: "v2"}, "b": &Memo{ID: "b", Body: "v2"}})
		}, "v2"},
		{"Tx", commit, func(ctx context.Context, e env) error {
			return e.w.Tx(ctx).Set(e.name, "a", &Memo{ID: "a", Body: "v2"}).Commit()
		}, "v2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dsn, addr := testenv.PostgresDSN(t), testenv.RedisAddr(t)
			u, err := url.Parse(dsn)
			if err != nil {
				t.Fatal(err)
			}
			proxy := testenv.StartProxy(t, u.Host)
			u.Host = proxy.Addr
			ctx := ctxT(t)
			name := "amb_" + testenv.Suffix()
			cfg := strata.Config{PostgresDSN: u.String(), RedisAddr: addr, InvalidationChannel: "strata:test:" + name}
			schema := strata.Schema{Name: name, Model: &Memo{}}
			e := env{w: openStore(t, cfg, schema), name: name}
			cfg.PostgresDSN = dsn
			e.r = openStore(t, cfg, schema)
			t.Cleanup(proxy.Release) // before the stores close, whatever happens
			conn := pgTable(t, dsn, name)
			if err := e.w.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			for _, ds := range []*strata.DataStore{e.w, e.r} {
				if err := ds.WaitSubscribed(ctx); err != nil {
					t.Fatal(err)
				}
			}
			rdb := redis.NewClient(&redis.Options{Addr: addr})
			defer rdb.Close()
			key := "strata:" + name + ":a"
			if err := e.w.Set(ctx, name, "a", &Memo{ID: "a", Body: "v1"}); err != nil {
				t.Fatal(err)
			}
			// The second instance caches v1 in L1 and L2. (Its first read
			// may race the message of the writer's Set, which stops that
			// read from filling L1: read until it does.)
			waitFor(t, "the second instance to cache v1", func() bool {
				m, err := strata.GetTyped[Memo](ctx, e.r, name, "a")
				if err != nil || m.Body != "v1" {
					t.Fatalf("second instance reads %+v, %v", m, err)
				}
				return e.r.L1Has(name, "a") && filled(ctx, rdb, key)
			})

			held := proxy.HoldWhen(tc.match)
			short, cancel := context.WithTimeout(ctx, time.Second)
			start := time.Now()
			err = tc.write(short, e)
			cancel()
			t.Logf("the write returned after %v: %v", time.Since(start).Round(time.Millisecond), err)
			select {
			case <-held:
			default:
				t.Fatal("the write never reached PostgreSQL's hold (the test would prove nothing)")
			}
			if err == nil {
				t.Fatal("the write succeeded while PostgreSQL was held")
			}
			if !errors.Is(err, strata.ErrOutcomeUnknown) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error = %v, want it to wrap ErrOutcomeUnknown and the deadline", err)
			}
			// Meanwhile the second instance, a busy reader, re-reads the
			// old row from PostgreSQL once the first invalidation reached
			// it, and caches it again.
			waitFor(t, "the first invalidation to reach the second instance", func() bool { return !e.r.L1Has(name, "a") })
			t.Logf("the first invalidation reached the second instance %v after the write returned", time.Since(start.Add(time.Second)).Round(time.Millisecond))
			if m, err := strata.GetTyped[Memo](ctx, e.r, name, "a"); err != nil || m.Body != "v1" {
				t.Fatalf("while the statement is held the second instance reads %+v, %v; want v1", m, err)
			}
			waitFor(t, "L2 to hold v1 again", func() bool { return filled(ctx, rdb, key) })

			proxy.Release()
			waitFor(t, "PostgreSQL to apply the held write", func() bool {
				var body string
				err := conn.QueryRow(ctx, "SELECT body FROM "+pgx.Identifier{name}.Sanitize()+" WHERE id = 'a'").Scan(&body)
				if tc.want == "" {
					return errors.Is(err, pgx.ErrNoRows)
				}
				return err == nil && body == tc.want
			})
			committed := time.Now()
			const bound = 3 * time.Second
			var last string
			for {
				m, err := strata.GetTyped[Memo](ctx, e.r, name, "a")
				switch {
				case tc.want == "" && errors.Is(err, strata.ErrNotFound), err == nil && m.Body == tc.want:
					t.Logf("the second instance reads the committed state %v after the commit", time.Since(committed).Round(time.Millisecond))
					return
				case err != nil:
					last = err.Error()
				default:
					last = m.Body
				}
				if time.Since(committed) > bound {
					t.Fatalf("%v after the commit the second instance still reads %q (L1 TTL 5m, L2 TTL 30m); want %q", bound, last, tc.want)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

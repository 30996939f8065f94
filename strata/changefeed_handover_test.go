package strata_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// The instance streaming the slot loses its Redis — unreachable (a proxy
// stops forwarding its bytes, as a network partition would) or refusing
// (its Redis user may not UNLINK) — while another instance's Redis is
// fine. The consumer must not pin the slot: it gives it up after
// ChangeFeedReleaseAfter of failing, the other instance takes it and
// applies what is pending, and a change made with plain pgx reaches every
// instance that can reach Redis. Both instances share one redis-server
// that the test starts itself.
func TestChangeFeedHandsOverTheSlotWhenTheConsumersRedisIsDown(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"unreachable", "refusing"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			srv := testenv.StartRedisServer(t)
			e := newFeedEnv(t, srv.Addr)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()

			// a, the first consumer, reaches Redis through a proxy, or as a
			// user that may not delete keys.
			cfgA := e.config(true)
			cfgA.ChangeFeedReleaseAfter = 2 * time.Second
			cfgA.L2Pool.ReadTimeout = 500 * time.Millisecond
			var proxy *testenv.Proxy
			switch mode {
			case "unreachable":
				proxy = testenv.StartProxy(t, srv.Addr)
				cfgA.RedisAddr = proxy.Addr
			case "refusing":
				rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
				err := rdb.Do(ctx, "ACL", "SETUSER", "nounlink", "on", "nopass", "~*", "&*", "+@all", "-unlink").Err()
				rdb.Close()
				if err != nil {
					t.Fatal(err)
				}
				cfgA.RedisUsername, cfgA.RedisPassword = "nounlink", "any"
			}
			schema := strata.Schema{Name: e.Schema, Model: &feedRec{}}
			// The row exists before the slot does, so the feed has nothing
			// to apply before the change under test.
			if err := openStore(t, e.config(false), schema).Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			conn := e.pgx(t)
			e.exec(t, conn, `INSERT INTO %s VALUES ('k', 1)`)
			a := openStore(t, cfgA, schema)
			if proxy != nil {
				t.Cleanup(proxy.Release) // before a closes
			}
			if err := a.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			waitConsumer(t, a)
			cfgB := e.config(true)
			cfgB.ChangeFeedReleaseAfter = 2 * time.Second
			b := openStore(t, cfgB, schema)
			if err := b.WaitSubscribed(ctx); err != nil {
				t.Fatal(err)
			}
			waitBoth(t, e.Schema, "k", 1, b) // b and Redis hold 1
			if !b.L1Has(e.Schema, "k") {
				t.Fatal("b does not hold k in L1")
			}
			if s := a.Stats().ChangeFeed; !s.Active {
				t.Fatalf("a no longer streams the slot: %+v", s)
			}

			if proxy != nil { // from a's next byte on, Redis hears nothing from a
				held := proxy.HoldWhen(func([]byte) bool { return true })
				select {
				case <-held:
				case <-time.After(10 * time.Second): // a's bus pings every second
					t.Fatal("a sent nothing to Redis for 10s")
				}
			}
			e.exec(t, conn, `UPDATE %s SET v = 2 WHERE id = 'k'`)
			committed := time.Now()
			fresh := openStore(t, e.config(false), schema)
			for name, ds := range map[string]*strata.DataStore{"b": b, "a fresh instance": fresh} {
				for read(t, ds, e.Schema, "k") != 2 {
					if time.Since(committed) > 20*time.Second {
						t.Fatalf("%s still reads 1 20s after the commit: a (Active=%v, Releases=%d, Retries=%d) kept the slot it cannot apply; b Active=%v",
							name, a.Stats().ChangeFeed.Active, a.Stats().ChangeFeed.Releases, a.Stats().ChangeFeed.Retries, b.Stats().ChangeFeed.Active)
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
			took := time.Since(committed)
			sa, sb := a.Stats().ChangeFeed, b.Stats().ChangeFeed
			if sa.Releases < 1 || !sb.Active {
				t.Fatalf("a: %+v; b: %+v: want a to have released the slot and b to stream it", sa, sb)
			}
			t.Logf("%s: a gave the slot up and b applied the change %v after the commit (ReleaseAfter 2s)", mode, took.Round(time.Millisecond))
			// a does not take the slot back from b, which can apply.
			for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
				if s := b.Stats().ChangeFeed; !s.Active {
					t.Fatalf("b lost the slot: %+v", s)
				}
			}
		})
	}
}

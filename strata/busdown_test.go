package strata_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// TestL1NotServedWhileBusDown: instance A holds v1 in L1; Redis becomes
// unavailable (killed, or frozen so that only the health check can tell);
// meanwhile instance B writes v2, whose invalidation cannot reach A. From
// the documented detection bound after the outage began (at once for a
// killed server, 2 × InvalidationHealthCheck for a silent one) A must stop
// serving its L1, so no read that starts after B's write returned and after
// that bound may see v1.
func TestL1NotServedWhileBusDown(t *testing.T) {
	t.Parallel()
	const (
		interval = 200 * time.Millisecond
		outage   = 4 * time.Second
		// slack covers the subscriber goroutine's wake-up and a read that
		// checked the bus just before it turned.
		slack = 150 * time.Millisecond
	)
	tests := []struct {
		name    string
		bound   time.Duration // documented detection bound for this failure
		disrupt func(*testenv.RedisServer)
		restore func(*testenv.RedisServer)
	}{
		{"redis killed", 0, (*testenv.RedisServer).Stop, (*testenv.RedisServer).Start},
		{"redis frozen", 2 * interval, (*testenv.RedisServer).Freeze, (*testenv.RedisServer).Thaw},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dsn := testenv.PostgresDSN(t)
			srv := testenv.StartRedisServer(t)
			ctx := ctxT(t)
			name := "busdown_" + testenv.Suffix()
			cfg := strata.Config{
				PostgresDSN: dsn, RedisAddr: srv.Addr, InvalidationChannel: "strata:test:" + name,
				InvalidationHealthCheck: interval,
				L2Pool:                  strata.L2PoolConfig{DialTimeout: 100 * time.Millisecond, ReadTimeout: 100 * time.Millisecond, WriteTimeout: 100 * time.Millisecond},
			}
			schema := strata.Schema{Name: name, Model: &Account{}}
			a := openStore(t, cfg, schema)
			if err := a.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			pgTable(t, dsn, name)
			b := openStore(t, cfg, schema)
			for _, ds := range []*strata.DataStore{a, b} {
				if err := ds.WaitSubscribed(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.Set(ctx, name, "k", &Account{ID: "k", Username: "v1"}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "A to cache v1 in L1", func() bool {
				got, err := strata.GetTyped[Account](ctx, a, name, "k")
				if err != nil || got.Username != "v1" {
					t.Fatalf("Get = %+v, %v; want v1", got, err)
				}
				return a.L1Has(name, "k")
			})
			// Only A's L1 may hold v1: what Redis holds after an outage is
			// the writer's repair ledger's business, tested elsewhere.
			rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
			defer rdb.Close()
			waitFor(t, "the background L2 fill", func() bool { return filled(ctx, rdb, "strata:"+name+":k") })
			if err := rdb.Del(ctx, "strata:"+name+":k").Err(); err != nil {
				t.Fatal(err)
			}

			type read struct {
				start time.Time
				v1    bool
			}
			var (
				mu    sync.Mutex
				reads []read
				stop  = make(chan struct{})
				done  = make(chan struct{})
			)
			go func() { // A reads all through the outage
				defer close(done)
				for {
					select {
					case <-stop:
						return
					default:
					}
					start := time.Now()
					rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
					got, err := strata.GetTyped[Account](rctx, a, name, "k")
					cancel()
					if err == nil {
						mu.Lock()
						reads = append(reads, read{start, got.Username == "v1"})
						mu.Unlock()
					}
					time.Sleep(5 * time.Millisecond)
				}
			}()

			began := time.Now()
			tc.disrupt(srv)
			restored := false
			defer func() {
				if !restored {
					tc.restore(srv)
				}
			}()
			if err := b.Set(ctx, name, "k", &Account{ID: "k", Username: "v2"}); err != nil {
				t.Fatalf("B's Set during the outage: %v (PostgreSQL is up, so it must succeed)", err)
			}
			written := time.Now()
			// The outage lasts at least 1.5s past B's write, however long
			// B's call spent on the dead Redis.
			end := began.Add(outage)
			if w := written.Add(1500 * time.Millisecond); w.After(end) {
				end = w
			}
			for time.Now().Before(end) {
				time.Sleep(20 * time.Millisecond)
			}
			tc.restore(srv)
			restored = true
			waitFor(t, "A's bus to be live again", a.BusLive)
			time.Sleep(300 * time.Millisecond) // reads after recovery, served by L1 again
			close(stop)
			<-done

			mu.Lock()
			defer mu.Unlock()
			var lastV1 time.Time
			after, afterRecovery := 0, 0
			cutoff := began.Add(tc.bound + slack)
			if written.After(cutoff) {
				cutoff = written
			}
			for _, r := range reads {
				if r.v1 && r.start.After(lastV1) {
					lastV1 = r.start
				}
				if r.start.After(cutoff) {
					after++
					if r.start.After(end) {
						afterRecovery++
					}
				}
			}
			t.Logf("outage %v; B's write returned %v into it; %d reads, last v1 read began %v after the outage began (bound %v)",
				end.Sub(began).Round(time.Millisecond), written.Sub(began).Round(time.Millisecond), len(reads), lastV1.Sub(began).Round(time.Millisecond), tc.bound)
			if after == 0 || afterRecovery == 0 {
				t.Fatalf("no read began after %v and after recovery: the test proves nothing", cutoff.Sub(began))
			}
			if lastV1.After(cutoff) {
				t.Errorf("A served v1 from a read that began %v after the outage began and %v after B's write returned; documented detection bound %v",
					lastV1.Sub(began).Round(time.Millisecond), lastV1.Sub(written).Round(time.Millisecond), tc.bound)
			}
			got, err := strata.GetTyped[Account](ctx, a, name, "k")
			if err != nil || got.Username != "v2" {
				t.Errorf("after the outage A reads %+v, %v; want v2", got, err)
			}
		})
	}
}

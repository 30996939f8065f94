package strata_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// TestInvalidateWithRedisDownDropsL1: a row is changed behind Strata's back
// and Invalidate is called while Redis cannot take the delete. Invalidate
// must still drop the local L1 entry and return nil (the documented
// semantics: what Redis could not be told is repaired when it answers),
// this instance must read the new row, and once Redis takes writes again
// the old L2 value must be gone.
func TestInvalidateWithRedisDownDropsL1(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// disrupt makes Redis refuse the DEL and returns a func that ends it.
		disrupt func(t *testing.T, srv *testenv.RedisServer, rdb *redis.Client) (restore func())
		// l2Survives says whether Redis still holds the old value after the
		// outage (a killed server comes back empty).
		l2Survives bool
	}{
		{"redis stopped", func(t *testing.T, srv *testenv.RedisServer, _ *redis.Client) func() {
			srv.Stop()
			return srv.Start
		}, false},
		{"redis refusing writes", func(t *testing.T, _ *testenv.RedisServer, rdb *redis.Client) func() {
			// Reads (and the bus's PINGs) are answered, writes wait.
			if err := rdb.Do(ctxT(t), "CLIENT", "PAUSE", "1500", "WRITE").Err(); err != nil {
				t.Fatal(err)
			}
			return func() {
				waitFor(t, "the pause to end", func() bool { return rdb.Set(ctxT(t), "probe", "1", time.Second).Err() == nil })
			}
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dsn := testenv.PostgresDSN(t)
			srv := testenv.StartRedisServer(t)
			ctx := ctxT(t)
			name := "inval_" + testenv.Suffix()
			cfg := strata.Config{
				PostgresDSN: dsn, RedisAddr: srv.Addr, InvalidationChannel: "strata:test:" + name,
				L2Pool: strata.L2PoolConfig{DialTimeout: 100 * time.Millisecond, ReadTimeout: 150 * time.Millisecond, WriteTimeout: 150 * time.Millisecond},
			}
			ds := openStore(t, cfg, strata.Schema{Name: name, Model: &Account{}})
			if err := ds.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			pg := pgTable(t, dsn, name)
			rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
			defer rdb.Close()
			key := "strata:" + name + ":k"

			if err := ds.Set(ctx, name, "k", &Account{ID: "k", Username: "v1"}); err != nil {
				t.Fatal(err)
			}
			ds.DropL1(name, "k") // (the writer's own L1 entry: the read below fills Redis)
			waitFor(t, "L1 and L2 to hold v1", func() bool {
				if _, err := strata.GetTyped[Account](ctx, ds, name, "k"); err != nil {
					t.Fatal(err)
				}
				return ds.L1Has(name, "k") && filled(ctx, rdb, key)
			})
			if _, err := pg.Exec(ctx, "UPDATE "+pgx.Identifier{name}.Sanitize()+" SET username = 'v2' WHERE id = 'k'"); err != nil {
				t.Fatal(err)
			}

			restore := tc.disrupt(t, srv, rdb)
			start := time.Now()
			err := ds.Invalidate(ctx, name, "k")
			took := time.Since(start)
			inL1 := ds.L1Has(name, "k")
			t.Logf("Invalidate with Redis down: err=%v, took %v, L1 still holds the entry: %v", err, took.Round(time.Millisecond), inL1)
			if err != nil {
				t.Errorf("Invalidate = %v, want nil (the invalidation is remembered and repaired when Redis answers)", err)
			}
			if inL1 {
				t.Error("Invalidate with Redis down left the local L1 entry in place")
			}
			if got, err := strata.GetTyped[Account](ctx, ds, name, "k"); err != nil || got.Username != "v2" {
				t.Errorf("Get after Invalidate during the outage = %+v, %v; want v2", got, err)
			}
			if tc.l2Survives {
				if v, _ := rdb.Get(ctx, key).Bytes(); len(v) == 0 {
					t.Fatal("Redis should still hold the old value during the outage (the test would prove nothing)")
				}
			}
			restore()
			waitFor(t, "the bus to be live again", ds.BusLive)
			waitFor(t, "the repairer to delete the old L2 value", func() bool {
				n, err := rdb.Exists(ctx, key).Result()
				return err == nil && n == 0
			})
			fresh := openStore(t, cfg, strata.Schema{Name: name, Model: &Account{}})
			if got, err := strata.GetTyped[Account](ctx, fresh, name, "k"); err != nil || got.Username != "v2" {
				t.Errorf("another instance after the outage reads %+v, %v; want v2", got, err)
			}
		})
	}
}

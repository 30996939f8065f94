package strata_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// Versioned is one record whose Version only goes up.
type Versioned struct {
	ID      string `strata:"primary_key"`
	Version int64
}

// TestReadAfterAcknowledgedSetIsNotOlder is issue 11 item 29: on one
// DataStore, a Get that begins after a Set returned must not return the
// value that Set replaced. One writer stores versions 1, 2, 3, ... of one
// record, each after the previous Set returned; six readers note the last
// acknowledged version before each Get and check that the Get is not
// older. Before the fix a new reader could join an L1 load that began
// before the write and receive that load's old version.
//
// The window is a load that began before a write and is still running
// when a read begins after it. On loopback an L3 read is much faster than
// a write and the window seldom opens, so the test makes each L3 read of
// the record take up to 10 ms more (a slow query, or a database a few
// network hops away), and each reader pauses up to 3 ms between reads (the
// rest of its request), so that reads begin at all moments rather than all
// together right after a write.
func TestReadAfterAcknowledgedSetIsNotOlder(t *testing.T) {
	t.Parallel() // its hook is its own DataStores', its tables and channels its own
	sfx := testenv.Suffix()
	slowRead := func(schema, _ string) {
		if strings.HasSuffix(schema, sfx) {
			time.Sleep(time.Duration(rand.IntN(10_000)) * time.Microsecond)
		}
	}
	tests := []struct {
		name  string
		redis bool
	}{
		{"postgres and redis", true},
		{"postgres without redis", false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dsn := testenv.PostgresDSN(t)
			name := fmt.Sprintf("ryw%d_%s", i, sfx)
			cfg := strata.Config{PostgresDSN: dsn}
			if tt.redis {
				cfg.RedisAddr = testenv.RedisAddr(t)
				cfg.InvalidationChannel = "strata:test:" + name
				rdb := redis.NewClient(&redis.Options{Addr: cfg.RedisAddr})
				t.Cleanup(func() {
					ctx := context.Background()
					iter := rdb.Scan(ctx, 0, "strata:"+name+":*", 1000).Iterator()
					for iter.Next(ctx) {
						rdb.Del(ctx, iter.Val())
					}
					rdb.Close()
				})
			}
			ds := openStore(t, cfg, strata.Schema{Name: name, Model: &Versioned{}})
			ds.SetTestHookAfterL3Read(slowRead)
			ctx := ctxT(t)
			if err := ds.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			pgTable(t, dsn, name)
			if tt.redis {
				if err := ds.WaitSubscribed(ctx); err != nil {
					t.Fatal(err)
				}
			}
			writes, reads, stale, worst := readYourWrites(t, ctx, ds, name, 600)
			t.Logf("%d writes, %d reads, %d older than the version acknowledged before they began (at most %d versions behind)", writes, reads, stale, worst)
			if reads == 0 {
				t.Fatal("no read completed")
			}
			if stale > 0 {
				t.Errorf("%d of %d reads returned a version older than one whose Set had returned before the read began (up to %d versions behind)", stale, reads, worst)
			}
		})
	}
}

// readYourWrites runs the writer and six readers on ds until the writer
// has stored the given number of versions, and returns how many writes and
// reads completed, how many reads were stale, and the largest lag.
func readYourWrites(t *testing.T, ctx context.Context, ds *strata.DataStore, schema string, versions int64) (writes, reads, stale, worst int64) {
	t.Helper()
	const id = "r"
	if err := ds.Set(ctx, schema, id, &Versioned{ID: id, Version: 1}); err != nil {
		t.Fatal(err)
	}
	var acked atomic.Int64 // the newest version whose Set has returned
	acked.Store(1)
	var nReads, nStale, maxLag atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	fail := func(err error) {
		t.Error(err)
		stop.Store(true)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer stop.Store(true)
		for v := int64(2); v <= versions && !stop.Load(); v++ {
			if err := ds.Set(ctx, schema, id, &Versioned{ID: id, Version: v}); err != nil {
				fail(err)
				return
			}
			acked.Store(v)
		}
	}()
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				before := acked.Load()
				got, err := strata.GetTyped[Versioned](ctx, ds, schema, id)
				if err != nil {
					fail(err)
					return
				}
				nReads.Add(1)
				if lag := before - got.Version; lag > 0 {
					nStale.Add(1)
					for m := maxLag.Load(); lag > m && !maxLag.CompareAndSwap(m, lag); m = maxLag.Load() {
					}
				}
				// Other work between requests, so that the readers'
				// reads begin at different moments.
				time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
			}
		}()
	}
	wg.Wait()
	return acked.Load(), nReads.Load(), nStale.Load(), maxLag.Load()
}

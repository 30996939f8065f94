package strata_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata"
)

// TestSlowFillerKeepsItsLeasePastLeaseTTL: the reader holding a cold key's
// fill lease takes longer than the lease's TTL (10 s) between its
// PostgreSQL read and its fill, as a reader on a loaded machine can; another
// instance's Get, waiting for that fill (LeaseWait 30 s), must not read
// PostgreSQL as well. Before the holder extended its lease, the lease
// lapsed at 10 s and the waiter took the key and read PostgreSQL a second
// time — how TestFleetColdKeysAfterRedisRestartOnePostgresReadPerKey read
// PostgreSQL 21–25 times for 20 keys in loaded integration runs.
func TestSlowFillerKeepsItsLeasePastLeaseTTL(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	if err := tt.ds.Set(ctx, tt.schema, "slow", &Account{ID: "slow", Username: "slow", Score: 5}); err != nil {
		t.Fatal(err)
	}
	if err := tt.rdb.Del(ctx, "strata:"+tt.schema+":slow").Err(); err != nil {
		t.Fatal(err)
	}
	var reads atomic.Int64
	entered, release := make(chan time.Time, 1), make(chan struct{})
	rec := &leaseWaits{}
	open := func(hold bool) *strata.DataStore {
		ds, err := strata.NewDataStore(strata.Config{PostgresDSN: tt.dsn, RedisAddr: tt.addr, EncryptionKey: testKey, InvalidationChannel: tt.channel, Metrics: rec,
			// A wait ends at the Redis read timeout too (3 s by default).
			L2Pool: strata.L2PoolConfig{ReadTimeout: 30 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ds.Close() })
		if err := ds.Register(strata.Schema{Name: tt.schema, Model: &Account{}, L2: strata.RedisPolicy{LeaseWait: 30 * time.Second}}); err != nil {
			t.Fatal(err)
		}
		ds.SetTestHookAfterL3Read(func(schema, id string) {
			if schema != tt.schema || id != "slow" {
				return
			}
			reads.Add(1)
			if hold { // read, not yet filled: the lease stands
				entered <- time.Now()
				<-release
			}
		})
		return ds
	}
	holder, waiter := open(true), open(false)
	got := make(chan error, 2)
	get := func(ds *strata.DataStore) {
		a, err := strata.GetTyped[Account](ctx, ds, tt.schema, "slow")
		if err == nil && a.Score != 5 {
			err = errors.New("read a score other than 5")
		}
		got <- err
	}
	go get(holder)
	var since time.Time
	select {
	case since = <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the holder did not read PostgreSQL within 30s")
	}
	go get(waiter)
	// Past the lease's TTL (10 s) the waiter still waits for the fill.
	for time.Since(since) < 12*time.Second {
		if n := reads.Load(); n != 1 {
			close(release)
			t.Fatalf("%v after the holder's read (its fill held back), PostgreSQL has been read %d times, want 1: the holder's lease lapsed and the waiter read it too (lease waits %+v)", time.Since(since).Round(100*time.Millisecond), n, rec.seen())
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(release)
	for range 2 {
		select {
		case err := <-got:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("a Get did not return within 30s of the fill")
		}
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("PostgreSQL read %d times, want 1", n)
	}
}

// TestFailedFillIsRetriedWhileTheLeaseStands: the fill that follows a cold
// Get's PostgreSQL read fails once (its reply lost, as on a timeout). The
// reader must try it again while its lease stands, so that Redis holds the
// row well before the lease could lapse (10 s). Before fills were retried,
// the lease marker stood until it expired, and every instance that waited
// on it read PostgreSQL after it — how the fleet test read 37 times for 20
// keys in one loaded run.
func TestFailedFillIsRetriedWhileTheLeaseStands(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	key := "strata:" + tt.schema + ":refill"
	if err := tt.ds.Set(ctx, tt.schema, "refill", &Account{ID: "refill", Username: "refill", Score: 7}); err != nil {
		t.Fatal(err)
	}
	if err := tt.rdb.Del(ctx, key).Err(); err != nil {
		t.Fatal(err)
	}
	reader := tt.open(t)
	if err := reader.Migrate(ctx); err != nil { // versioned fills, as tt.ds writes
		t.Fatal(err)
	}
	h := &failScriptOnce{key: key}
	reader.SetTestHookAfterL3Read(func(schema, id string) {
		if schema == tt.schema && id == "refill" {
			h.armed.Store(true) // the next script on the key is the fill
		}
	})
	if !reader.AddRedisHookForTest(h) {
		t.Fatal("the reader has no Redis")
	}
	a, err := strata.GetTyped[Account](ctx, reader, tt.schema, "refill")
	if err != nil || a.Score != 7 {
		t.Fatalf("Get = %+v, %v; want score 7", a, err)
	}
	start := time.Now()
	for {
		b, err := tt.rdb.Get(ctx, key).Bytes()
		if _, _, ok := l2redis.SplitVersion(b); err == nil && ok {
			break
		}
		if time.Since(start) > 8*time.Second {
			t.Fatalf("8s after the Get, Redis holds no row for the key (GET: %q, %v; fill failed once: %v): the failed fill was not tried again, and the lease marker stands until it lapses", b, err, h.failed.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !h.failed.Load() {
		t.Fatal("the fill never failed: the test did not test anything")
	}
}

// failScriptOnce is a go-redis hook that fails the first script call on key
// made after armed is set, as if its reply had been lost.
type failScriptOnce struct {
	key           string
	armed, failed atomic.Bool
}

func (h *failScriptOnce) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *failScriptOnce) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *failScriptOnce) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		args := cmd.Args()
		script := cmd.Name() == "evalsha" || cmd.Name() == "eval"
		if script && len(args) > 3 && fmt.Sprint(args[3]) == h.key && h.armed.Load() && h.failed.CompareAndSwap(false, true) {
			err := errors.New("injected: the script's reply was lost")
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

package strata_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// TestColdKeyIsOnePostgresReadAcrossInstances: three instances, each with
// 100 concurrent Gets of one key that is in PostgreSQL but not in Redis,
// read PostgreSQL once between them: the instances that find the fill
// lease busy wait for the filler's value in Redis. Before RedisPolicy.LeaseWait
// every instance read PostgreSQL. Each L3 read is made 20 ms slower so
// that the instances overlap, as they do against a remote database. The
// hook is set on each instance (test hooks are per DataStore); the test
// still runs alone, since its timing is what it measures.
func TestColdKeyIsOnePostgresReadAcrossInstances(t *testing.T) {
	tt := newTiered(t)
	ctx := ctxT(t)
	if err := tt.ds.Set(ctx, tt.schema, "cold", &Account{ID: "cold", Username: "cold", Score: 7}); err != nil {
		t.Fatal(err)
	}
	var reads atomic.Int64
	countRead := func(schema, id string) {
		if schema == tt.schema && id == "cold" {
			reads.Add(1)
			time.Sleep(20 * time.Millisecond)
		}
	}
	const instances, perInstance = 3, 100
	for round := range 3 {
		if err := tt.rdb.Del(ctx, "strata:"+tt.schema+":cold").Err(); err != nil {
			t.Fatal(err)
		}
		var dss []*strata.DataStore
		for range instances {
			// A fresh, empty L1. LeaseWait is longer than the default so
			// that a loaded test machine cannot outlast it.
			rec := &leaseWaits{}
			ds, err := strata.NewDataStore(strata.Config{PostgresDSN: tt.dsn, RedisAddr: tt.addr, EncryptionKey: testKey, InvalidationChannel: tt.channel, Metrics: rec})
			if err != nil {
				t.Fatal(err)
			}
			if err := ds.Register(strata.Schema{Name: tt.schema, Model: &Account{}, L2: strata.RedisPolicy{LeaseWait: 2 * time.Second}}); err != nil {
				t.Fatal(err)
			}
			ds.SetTestHookAfterL3Read(countRead)
			// Connect its pools, as an instance that has been serving has:
			// the wait is for a query, not for a first connection.
			if _, err := strata.GetTyped[Account](ctx, ds, tt.schema, "absent"); !errors.Is(err, strata.ErrNotFound) {
				t.Fatalf("warm-up Get: %v", err)
			}
			dss = append(dss, ds)
		}
		reads.Store(0)
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, instances*perInstance)
		for _, ds := range dss {
			for range perInstance {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					got, err := strata.GetTyped[Account](ctx, ds, tt.schema, "cold")
					if err == nil && got.Score != 7 {
						err = fmt.Errorf("read score %d, want 7", got.Score)
					}
					if err != nil {
						errs <- err
					}
				}()
			}
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if n := reads.Load(); n != 1 {
			t.Errorf("round %d: %d instances × %d Gets of a cold key read PostgreSQL %d times, want 1", round, instances, perInstance, n)
		}
		for _, ds := range dss {
			_ = ds.Close()
		}
	}
}

// TestLeaseWaitEndsAndReadsPostgres: when the reader holding the fill
// lease died (its lease stands until it expires), a Get waits
// RedisPolicy.LeaseWait and then reads PostgreSQL; a negative LeaseWait
// reads PostgreSQL at once.
func TestLeaseWaitEndsAndReadsPostgres(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	if err := tt.ds.Set(ctx, tt.schema, "d1", &Account{ID: "d1", Username: "d1", Score: 3}); err != nil {
		t.Fatal(err)
	}
	store, err := l2redis.New(tt.rdb, &l2redis.Options{LeaseTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		wait     time.Duration
		min, max time.Duration
	}{
		{200 * time.Millisecond, 200 * time.Millisecond, 2 * time.Second},
		// No wait at all: the recorder sees a zero-length wait that gave up
		// (the wall-clock bound only catches a wait far past the default).
		{-1, 0, 10 * strata.DefaultLeaseWait},
	} {
		t.Run(fmt.Sprint(tc.wait), func(t *testing.T) {
			key := "strata:" + tt.schema + ":d1"
			if err := tt.rdb.Del(ctx, key).Err(); err != nil {
				t.Fatal(err)
			}
			if _, _, err := store.GetOrLease(ctx, key); err != nil { // a filler that never fills
				t.Fatal(err)
			}
			rec := &leaseWaits{}
			ds, err := strata.NewDataStore(strata.Config{PostgresDSN: tt.dsn, RedisAddr: tt.addr, EncryptionKey: testKey, InvalidationChannel: tt.channel, Metrics: rec})
			if err != nil {
				t.Fatal(err)
			}
			defer ds.Close()
			if err := ds.Register(strata.Schema{Name: tt.schema, Model: &Account{}, L2: strata.RedisPolicy{LeaseWait: tc.wait}}); err != nil {
				t.Fatal(err)
			}
			// Connect both pools first, so that the timing below is the wait.
			// The id is the subtest's own: the previous subtest's miss left
			// a shared absence marker (NegativeCacheTTL, 1 s) on its id,
			// which would answer without PostgreSQL and leave its pool
			// unconnected, to be dialled inside the timed Get.
			if _, err := strata.GetTyped[Account](ctx, ds, tt.schema, "absent-"+t.Name()); !errors.Is(err, strata.ErrNotFound) {
				t.Fatalf("warm-up Get: %v", err)
			}
			begin := time.Now()
			got, err := strata.GetTyped[Account](ctx, ds, tt.schema, "d1")
			took := time.Since(begin)
			if err != nil || got.Score != 3 {
				t.Fatalf("Get = %+v, %v; want the PostgreSQL record", got, err)
			}
			if took < tc.min || took > tc.max {
				t.Errorf("LeaseWait %v: Get took %v, want between %v and %v", tc.wait, took, tc.min, tc.max)
			}
			waits := rec.seen()
			if len(waits) != 1 || waits[0].outcome != metrics.LeaseGaveUp || waits[0].d < tc.min || (tc.wait < 0 && waits[0].d != 0) {
				t.Errorf("LeaseWait %v: recorded waits %+v, want one that gave up after at least %v (exactly 0 when the schema does not wait)", tc.wait, waits, tc.min)
			}
		})
	}
}

// leaseWaits records the lease waits a DataStore reports.
type leaseWaits struct {
	metrics.Noop
	mu    sync.Mutex
	waits []leaseWait
}

type leaseWait struct {
	d       time.Duration
	outcome string
}

func (r *leaseWaits) LeaseWait(_ string, d time.Duration, outcome string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, leaseWait{d, outcome})
}

func (r *leaseWaits) seen() []leaseWait {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]leaseWait(nil), r.waits...)
}

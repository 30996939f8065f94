package strata_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

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

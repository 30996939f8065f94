package strata_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/strata"
)

// negInstances opens n instances of tt's schema with the given negative
// cache TTL and a lease wait a loaded machine cannot outlast, each counting
// its PostgreSQL point reads of id into reads (a recorder the instances
// share) and taking 20 ms over each, so concurrent misses overlap as they
// do against a remote database.
func negInstances(t *testing.T, tt *tiered, n int, negTTL time.Duration, id string, reads *atomic.Int64) []*strata.DataStore {
	t.Helper()
	ctx := ctxT(t)
	var dss []*strata.DataStore
	for range n {
		ds, err := strata.NewDataStore(strata.Config{PostgresDSN: tt.dsn, RedisAddr: tt.addr, EncryptionKey: testKey,
			InvalidationChannel: tt.channel, NegativeCacheTTL: negTTL})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ds.Close() })
		if err := ds.Register(strata.Schema{Name: tt.schema, Model: &Account{}, L2: strata.RedisPolicy{LeaseWait: 2 * time.Second}}); err != nil {
			t.Fatal(err)
		}
		if err := ds.WaitSubscribed(ctx); err != nil {
			t.Fatal(err)
		}
		// Connect both pools, as an instance that has been serving has.
		if _, err := strata.GetTyped[Account](ctx, ds, tt.schema, "warm-up"); !errors.Is(err, strata.ErrNotFound) {
			t.Fatalf("warm-up Get: %v", err)
		}
		ds.SetTestHookL3Get(func(schema, got string) {
			if schema == tt.schema && got == id {
				reads.Add(1)
				time.Sleep(20 * time.Millisecond)
			}
		})
		dss = append(dss, ds)
	}
	return dss
}

// TestMissingIDIsOnePostgresReadAcrossInstances: three instances × 100
// concurrent Gets of an id PostgreSQL does not hold, then 20 more Gets
// each, read PostgreSQL once between them: the reader that found the id
// missing records the absence in Redis under its fill lease, and the
// others stop there. (Before the shared absence marker each instance read
// PostgreSQL at least once: the lease was released and the next waiter
// took it.)
func TestMissingIDIsOnePostgresReadAcrossInstances(t *testing.T) {
	tt := newTiered(t)
	ctx := ctxT(t)
	var reads atomic.Int64
	const instances, perInstance = 3, 100
	dss := negInstances(t, tt, instances, 10*time.Second, "ghost", &reads)
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, instances*perInstance)
	for _, ds := range dss {
		for range perInstance {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if _, err := strata.GetTyped[Account](ctx, ds, tt.schema, "ghost"); !errors.Is(err, strata.ErrNotFound) {
					errs <- fmt.Errorf("Get of a missing id: %v, want ErrNotFound", err)
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
	for _, ds := range dss {
		for range 20 {
			if _, err := strata.GetTyped[Account](ctx, ds, tt.schema, "ghost"); !errors.Is(err, strata.ErrNotFound) {
				t.Fatalf("Get of a missing id: %v, want ErrNotFound", err)
			}
		}
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("%d instances × %d Gets of a missing id read PostgreSQL %d times, want 1", instances, perInstance+20, n)
	}
}

// TestEveryWriteEndsTheSharedAbsence: once every instance has found an id
// missing (and Redis records the absence), a write of it through any
// instance — Set, SetMany or a Tx — is seen by every instance's next Get,
// without waiting for the absence to expire.
func TestEveryWriteEndsTheSharedAbsence(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	var reads atomic.Int64
	dss := negInstances(t, tt, 3, time.Minute, "", &reads)
	for _, tc := range []struct {
		name  string
		write func(ds *strata.DataStore, id string, v *Account) error
	}{
		{"Set", func(ds *strata.DataStore, id string, v *Account) error { return ds.Set(ctx, tt.schema, id, v) }},
		{"SetMany", func(ds *strata.DataStore, id string, v *Account) error {
			return ds.SetMany(ctx, tt.schema, map[string]any{id: v})
		}},
		{"Tx", func(ds *strata.DataStore, id string, v *Account) error {
			return ds.Tx(ctx).Set(tt.schema, id, v).Commit()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "late-" + tc.name
			for _, ds := range dss {
				if _, err := strata.GetTyped[Account](ctx, ds, tt.schema, id); !errors.Is(err, strata.ErrNotFound) {
					t.Fatalf("Get before the write: %v, want ErrNotFound", err)
				}
			}
			if err := tt.rdb.Get(ctx, "strata:"+tt.schema+":"+id).Err(); err != nil {
				t.Fatalf("Redis holds no absence marker after the misses: %v", err)
			}
			if err := tc.write(dss[1], id, &Account{ID: id, Username: id, Score: 5}); err != nil {
				t.Fatal(err)
			}
			seesWrite(t, tt, dss, id, 5)
		})
	}
}

// TestAbsenceMarkerRacingASetIsRefused forces the race: a reader finds
// the id missing in PostgreSQL, and before it records the absence in
// Redis another instance writes the id. The write voided the reader's
// lease, so the marker is refused and no instance reads the id as missing
// afterwards. (Written unguarded, the marker hid the write from every
// instance for NegativeCacheTTL.)
func TestAbsenceMarkerRacingASetIsRefused(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	var reads atomic.Int64
	dss := negInstances(t, tt, 3, time.Minute, "", &reads)
	var once sync.Once
	var werr error
	dss[0].SetTestHookBeforeAbsentFill(func(schema, id string) {
		if schema == tt.schema && id == "race" {
			once.Do(func() {
				werr = dss[1].Set(context.Background(), tt.schema, "race", &Account{ID: "race", Username: "race", Score: 9})
			})
		}
	})
	if _, err := strata.GetTyped[Account](ctx, dss[0], tt.schema, "race"); !errors.Is(err, strata.ErrNotFound) {
		t.Fatalf("Get that read PostgreSQL before the write: %v, want ErrNotFound", err)
	}
	if werr != nil {
		t.Fatal(werr)
	}
	seesWrite(t, tt, dss, "race", 9)
}

// seesWrite checks that a write of id (with Score score) has ended its
// absence everywhere: an instance with an empty L1 reads it at once (Redis
// holds no marker), and each running instance reads it as soon as the
// write's invalidation has reached it — well within the test's one-minute
// NegativeCacheTTL, so a marker that outlived the write would fail.
func seesWrite(t *testing.T, tt *tiered, dss []*strata.DataStore, id string, score int64) {
	t.Helper()
	ctx := ctxT(t)
	if got, err := strata.GetTyped[Account](ctx, tt.open(t), tt.schema, id); err != nil || got.Score != score {
		t.Errorf("a new instance after the write: Get = %+v, %v; want the written record", got, err)
	}
	for i, ds := range dss {
		deadline := time.Now().Add(5 * time.Second)
		for {
			got, err := strata.GetTyped[Account](ctx, ds, tt.schema, id)
			if err == nil && got.Score == score {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("instance %d 5 s after the write: Get = %+v, %v; want the written record", i, got, err)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestExistsAnswersFromTheSharedAbsence: while Redis records that an id is
// missing, Exists answers false from the marker, as Get answers
// ErrNotFound, rather than asking PostgreSQL. The row below is written by
// an instance without Redis — a write no cache hears of — so an Exists
// that asked PostgreSQL (as it did) would answer true while Get answers
// ErrNotFound.
func TestExistsAnswersFromTheSharedAbsence(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	var reads atomic.Int64
	ds := negInstances(t, tt, 1, time.Minute, "", &reads)[0]
	if _, err := strata.GetTyped[Account](ctx, ds, tt.schema, "ghost"); !errors.Is(err, strata.ErrNotFound) {
		t.Fatalf("Get of a missing id: %v, want ErrNotFound", err)
	}
	key := "strata:" + tt.schema + ":ghost"
	if err := tt.rdb.Get(ctx, key).Err(); err != nil {
		t.Fatalf("Redis holds no absence marker after the miss: %v", err)
	}
	pgOnly, err := strata.NewDataStore(strata.Config{PostgresDSN: tt.dsn, EncryptionKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pgOnly.Close() })
	if err := pgOnly.Register(strata.Schema{Name: tt.schema, Model: &Account{}}); err != nil {
		t.Fatal(err)
	}
	if err := pgOnly.Set(ctx, tt.schema, "ghost", &Account{ID: "ghost", Username: "ghost"}); err != nil {
		t.Fatal(err)
	}
	ok, err := ds.Exists(ctx, tt.schema, "ghost")
	_, getErr := strata.GetTyped[Account](ctx, ds, tt.schema, "ghost")
	if ok || err != nil || !errors.Is(getErr, strata.ErrNotFound) {
		t.Fatalf("with the absence recorded in Redis: Exists = %v, %v; Get: %v; want false, <nil> and ErrNotFound", ok, err, getErr)
	}
	if err := tt.rdb.Del(ctx, key).Err(); err != nil {
		t.Fatal(err)
	}
	if ok, err := ds.Exists(ctx, tt.schema, "ghost"); !ok || err != nil {
		t.Fatalf("with the marker gone: Exists = %v, %v; want true", ok, err)
	}
}

package strata_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/strata"
)

// aheadInstance opens an instance of tt's schema with refresh-ahead on.
func aheadInstance(t *testing.T, tt *tiered, s strata.Schema) *strata.DataStore {
	t.Helper()
	ds, err := strata.NewDataStore(strata.Config{PostgresDSN: tt.dsn, RedisAddr: tt.addr, EncryptionKey: testKey, InvalidationChannel: tt.channel})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	s.Name, s.Model = tt.schema, &Account{}
	if err := ds.Register(s); err != nil {
		t.Fatal(err)
	}
	if err := ds.WaitSubscribed(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestRefreshAheadKeepsAHotKeyInRedisAcrossInstances: three instances
// read one key for 8 s, across several of its 3 s L2 TTLs, with
// RefreshAhead 0.5. Redis never loses the key (it is reloaded before it
// expires), and PostgreSQL is read about once per window across the
// fleet, not once per instance. (Without refresh-ahead the key expired
// every 3 s and the next reader waited for PostgreSQL.)
func TestRefreshAheadKeepsAHotKeyInRedisAcrossInstances(t *testing.T) {
	tt := newTiered(t)
	ctx := ctxT(t)
	if err := tt.ds.Set(ctx, tt.schema, "hot", &Account{ID: "hot", Username: "hot", Score: 1}); err != nil {
		t.Fatal(err)
	}
	const ttl, frac, run = 3 * time.Second, 0.5, 8 * time.Second
	var reads atomic.Int64
	var dss []*strata.DataStore
	for range 3 {
		ds := aheadInstance(t, tt, strata.Schema{RefreshAhead: frac, L1: strata.MemPolicy{TTL: 300 * time.Millisecond}, L2: strata.RedisPolicy{TTL: ttl}})
		ds.SetTestHookL3Get(func(schema, id string) {
			if schema == tt.schema && id == "hot" {
				reads.Add(1)
			}
		})
		dss = append(dss, ds)
	}
	key := "strata:" + tt.schema + ":hot"
	stop := time.Now().Add(run)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for _, ds := range dss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				if got, err := strata.GetTyped[Account](ctx, ds, tt.schema, "hot"); err != nil || got.Score != 1 {
					errs <- fmt.Errorf("Get = %+v, %v", got, err)
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	var gone int // polls that found the key missing from Redis after the first fill
	filled := false
	for time.Now().Before(stop) {
		n, err := tt.rdb.Exists(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			filled = true
		} else if filled {
			gone++
		}
		time.Sleep(10 * time.Millisecond)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if gone > 0 {
		t.Errorf("the hot key was missing from Redis in %d polls (every 10 ms) of %v", gone, run)
	}
	// One fill, then at most one reload per window: a reload comes when
	// frac·ttl is left of a TTL that Redis's ±10% jitter may cut to
	// 0.9·ttl, so at least (0.9-frac)·ttl = 1.2 s apart; plus one for the
	// edges. One reload per instance per window would be about 3 × that.
	if n, most := reads.Load(), int64(run/time.Duration((0.9-frac)*float64(ttl)))+2; n < 2 || n > most {
		t.Errorf("3 instances read PostgreSQL %d times in %v, want 2..%d (one reload per window across the fleet)", n, run, most)
	}
}

// TestRefreshAheadServesTheOldValueAndExtendsTheTTL: a Get made while the
// background reload of a key in its refresh window is still reading
// PostgreSQL returns the current value at once, and once the reload lands
// the key's L2 TTL is extended.
func TestRefreshAheadServesTheOldValueAndExtendsTheTTL(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	const ttl = 3 * time.Second
	ds := aheadInstance(t, tt, strata.Schema{RefreshAhead: 0.5, L1: strata.MemPolicy{TTL: 200 * time.Millisecond}, L2: strata.RedisPolicy{TTL: ttl}})
	if err := ds.Set(ctx, tt.schema, "k", &Account{ID: "k", Username: "k", Score: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := strata.GetTyped[Account](ctx, ds, tt.schema, "k"); err != nil { // fills L2
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	ds.SetTestHookAfterL3Read(func(schema, id string) {
		if schema == tt.schema && id == "k" {
			once.Do(func() { close(entered); <-release })
		}
	})
	defer once.Do(func() {}) // a failing test must not leave the hook blocking Close
	key := "strata:" + tt.schema + ":k"
	deadline := time.Now().Add(10 * time.Second)
	for waiting := true; waiting; {
		select {
		case <-entered:
			waiting = false
		default:
			if time.Now().After(deadline) {
				close(release)
				t.Fatal("no reload began within 10 s of reads")
			}
			gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := strata.GetTyped[Account](gctx, ds, tt.schema, "k")
			cancel()
			if err != nil {
				close(release)
				t.Fatalf("Get before the reload: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	left := tt.rdb.PTTL(ctx, key).Val()
	// The reload is blocked reading PostgreSQL: reads still return at once.
	for range 5 {
		gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		got, err := strata.GetTyped[Account](gctx, ds, tt.schema, "k")
		cancel()
		if err != nil || got.Score != 2 {
			close(release)
			t.Fatalf("Get during the reload = %+v, %v; want the current value at once", got, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if left <= 0 || left > ttl/2+50*time.Millisecond {
		t.Fatalf("the reload began with %v of the %v TTL left, want it within the last half", left, ttl)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		if tt.rdb.PTTL(ctx, key).Val() > ttl/2+100*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the key's TTL was not extended within 10 s of the reload (%v left)", tt.rdb.PTTL(ctx, key).Val())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got, err := strata.GetTyped[Account](ctx, tt.open(t), tt.schema, "k"); err != nil || got.Score != 2 {
		t.Errorf("after the reload: Get = %+v, %v; want the record", got, err)
	}
}

// TestRefreshAheadNeverOverwritesAWriteMadeDuringTheReload: another
// instance writes the key while the reload is between its PostgreSQL read
// and its Redis write. The reload then writes nothing, and every instance
// reads the write, never the reload's older value.
func TestRefreshAheadNeverOverwritesAWriteMadeDuringTheReload(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	ds := aheadInstance(t, tt, strata.Schema{RefreshAhead: 0.9, L1: strata.MemPolicy{TTL: 100 * time.Millisecond}, L2: strata.RedisPolicy{TTL: 2 * time.Second}})
	writer := tt.open(t)
	if err := ds.Set(ctx, tt.schema, "w", &Account{ID: "w", Username: "w", Score: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := strata.GetTyped[Account](ctx, ds, tt.schema, "w"); err != nil { // fills L2
		t.Fatal(err)
	}
	var once sync.Once
	var werr error
	ds.SetTestHookAfterL3Read(func(schema, id string) {
		if schema == tt.schema && id == "w" {
			once.Do(func() {
				werr = writer.Set(context.Background(), tt.schema, "w", &Account{ID: "w", Username: "w", Score: 2})
			})
		}
	})
	done := make(chan bool, 1)
	ds.SetTestHookAfterRefresh(func(schema, id string, wrote bool) {
		if schema == tt.schema && id == "w" {
			select {
			case done <- wrote:
			default:
			}
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	var wrote bool
	for waiting := true; waiting; {
		select {
		case wrote = <-done:
			waiting = false
		default:
			if time.Now().After(deadline) {
				t.Fatal("no reload ran within 10 s of reads")
			}
			if _, err := strata.GetTyped[Account](ctx, ds, tt.schema, "w"); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if werr != nil {
		t.Fatal(werr)
	}
	if wrote {
		t.Error("the reload replaced the value in Redis after a write")
	}
	if got, err := strata.GetTyped[Account](ctx, tt.open(t), tt.schema, "w"); err != nil || got.Score != 2 {
		t.Errorf("a new instance after the reload: Get = %+v, %v; want the write (score 2)", got, err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		got, err := strata.GetTyped[Account](ctx, ds, tt.schema, "w")
		if err == nil && got.Score == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reloading instance 5 s after the write: Get = %+v, %v; want the write", got, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRefreshAheadReloadEndsOnClose: Close waits for a background reload
// in flight, which then ends (the package's goleak check sees no goroutine
// left behind).
func TestRefreshAheadReloadEndsOnClose(t *testing.T) {
	t.Parallel()
	tt := newTiered(t)
	ctx := ctxT(t)
	ds, err := strata.NewDataStore(strata.Config{PostgresDSN: tt.dsn, RedisAddr: tt.addr, EncryptionKey: testKey, InvalidationChannel: tt.channel})
	if err != nil {
		t.Fatal(err)
	}
	// With 0.9 of 3 s, reads 300 ms after the fill are in the window.
	if err := ds.Register(strata.Schema{Name: tt.schema, Model: &Account{}, RefreshAhead: 0.9, L1: strata.MemPolicy{TTL: 3 * time.Second}, L2: strata.RedisPolicy{TTL: 3 * time.Second}}); err != nil {
		t.Fatal(err)
	}
	if err := ds.Set(ctx, tt.schema, "c", &Account{ID: "c", Username: "c", Score: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := strata.GetTyped[Account](ctx, ds, tt.schema, "c"); err != nil { // fills L2 and L1
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	ds.SetTestHookAfterL3Read(func(schema, id string) {
		if schema == tt.schema && id == "c" {
			once.Do(func() { close(entered); <-release })
		}
	})
	// L1 hits in their window: the L1 reload reads L2, in its window too,
	// whose reload blocks in the hook.
	deadline := time.Now().Add(10 * time.Second)
	for waiting := true; waiting; {
		select {
		case <-entered:
			waiting = false
		default:
			if time.Now().After(deadline) {
				close(release)
				t.Fatal("no reload read PostgreSQL within 10 s of reads")
			}
			if got, err := strata.GetTyped[Account](ctx, ds, tt.schema, "c"); err != nil || got.Score != 1 {
				close(release)
				t.Fatalf("Get = %+v, %v", got, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	closed := make(chan error, 1)
	go func() { closed <- ds.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a reload was in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return within 10 s of the reload's end")
	}
}

// TestRefreshAheadOutsideZeroToOneIsRefused: RefreshAhead is a fraction
// of the TTL; anything else fails Register with ErrInvalidModel.
func TestRefreshAheadOutsideZeroToOneIsRefused(t *testing.T) {
	t.Parallel()
	for _, f := range []float64{-0.1, 1, 1.5, math.NaN(), math.Inf(1)} {
		ds, err := strata.NewDataStore(strata.Config{})
		if err != nil {
			t.Fatal(err)
		}
		err = ds.Register(strata.Schema{Name: "ra", Model: &Account{}, RefreshAhead: f})
		if !errors.Is(err, strata.ErrInvalidModel) || !strings.Contains(err.Error(), "RefreshAhead") {
			t.Errorf("RefreshAhead %v: Register = %v, want ErrInvalidModel naming RefreshAhead", f, err)
		}
		_ = ds.Close()
	}
	ds, err := strata.NewDataStore(strata.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	if err := ds.Register(strata.Schema{Name: "ra", Model: &Account{}, RefreshAhead: 0.25}); err != nil {
		t.Errorf("RefreshAhead 0.25: Register = %v", err)
	}
}

package l2redis_test

import (
	"context"
	"errors"

	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
)

// staleSet plays the stale-set race in a fixed order: a reader misses and
// takes its lease, loads the old row from the source, a writer updates the
// source and then L2, and the reader fills with what it loaded. It returns
// what L2 holds afterwards, and whether the fill reported a write.
func staleSet(t *testing.T, s *l2redis.Store, key string) ([]byte, bool) {
	t.Helper()
	ctx := testCtx(t)
	source := []byte("v1") // the row in the source of truth

	_, lease, err := s.GetOrLease(ctx, key) // reader: miss, lease granted
	if err != nil || !lease.Valid() {
		t.Fatalf("GetOrLease = %v, %v; want a lease", lease, err)
	}
	loaded := source // reader: loads v1 from the source

	source = []byte("v2") // writer: updates the source ...
	if err := s.Set(ctx, key, source, time.Minute); err != nil {
		t.Fatal(err) // ... then L2
	}

	wrote, err := s.Fill(ctx, lease, loaded, time.Minute) // reader: fills v1
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	return got, wrote
}

// TestFillStaleSetRace is the forced stale-set race. With the guard on, the
// late fill is refused and L2 keeps the writer's value. Run it with
// L2REDIS_DISABLE_FILL_GUARD=1 to see it fail: the fill then installs the
// old value.
func TestFillStaleSetRace(t *testing.T) {
	t.Parallel()
	forEachTopology(t, nil, func(t *testing.T, s *l2redis.Store, p string) {
		if os.Getenv("L2REDIS_DISABLE_FILL_GUARD") == "1" {
			l2redis.SetUnguardedFill(s, true)
		}
		got, wrote := staleSet(t, s, p+"row")
		if string(got) != "v2" || wrote {
			t.Errorf("after the race L2 holds %q (fill wrote: %v); want the writer's %q and a refused fill", got, wrote, "v2")
		}
	})
}

// TestFillStaleSetRaceUnguarded proves the race test has teeth: the same
// interleaving with the guard switched off leaves the stale value in L2.
func TestFillStaleSetRaceUnguarded(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	l2redis.SetUnguardedFill(s, true)
	if got, _ := staleSet(t, s, p+"row"); string(got) != "v1" {
		t.Errorf("unguarded fill left %q; want the stale %q (the race did not happen)", got, "v1")
	}
}

func TestLease(t *testing.T) {
	t.Parallel()
	forEachTopology(t, &l2redis.Options{LeaseTTL: 300 * time.Millisecond}, func(t *testing.T, s *l2redis.Store, p string) {
		tests := []struct {
			name      string
			interfere func(ctx context.Context, key string) error
			wantFill  bool
		}{
			{name: "nothing in between", interfere: func(context.Context, string) error { return nil }, wantFill: true},
			{name: "delete voids", interfere: func(ctx context.Context, k string) error { return s.Delete(ctx, k) }},
			{name: "delete many voids", interfere: func(ctx context.Context, k string) error {
				_, err := s.DeleteMany(ctx, []string{k})
				return err
			}},
			{name: "delete prefix voids", interfere: func(ctx context.Context, k string) error {
				_, err := s.DeletePrefix(ctx, k)
				return err
			}},
			{name: "set many voids", interfere: func(ctx context.Context, k string) error {
				return s.SetMany(ctx, []l2redis.Item{{Key: k, Value: []byte("new")}})
			}},
			{name: "expiry voids", interfere: func(context.Context, string) error {
				time.Sleep(400 * time.Millisecond)
				return nil
			}},
			{name: "release voids", interfere: func(ctx context.Context, k string) error { return nil }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := testCtx(t)
				key := p + tt.name
				_, lease, err := s.GetOrLease(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				if lease.Key() != key {
					t.Errorf("Lease.Key() = %q, want %q", lease.Key(), key)
				}
				// While the lease stands the key reads as absent everywhere.
				if _, err := s.Get(ctx, key); !errors.Is(err, l2redis.ErrNotFound) {
					t.Errorf("Get during lease = %v, want ErrNotFound", err)
				}
				if vals, err := s.MGet(ctx, []string{key}); err != nil || vals[0] != nil {
					t.Errorf("MGet during lease = %q, %v; want [nil]", vals, err)
				}
				if ok, err := s.Exists(ctx, key); err != nil || ok {
					t.Errorf("Exists during lease = %v, %v; want false", ok, err)
				}
				if _, _, err := s.GetOrLease(ctx, key); !errors.Is(err, l2redis.ErrLeaseBusy) && tt.name != "expiry voids" {
					t.Errorf("second GetOrLease = %v, want ErrLeaseBusy", err)
				}
				if tt.name == "release voids" {
					if err := s.Release(ctx, lease); err != nil {
						t.Fatal(err)
					}
				}
				if err := tt.interfere(ctx, key); err != nil {
					t.Fatal(err)
				}
				wrote, err := s.Fill(ctx, lease, []byte("filled"), time.Minute)
				if err != nil || wrote != tt.wantFill {
					t.Errorf("Fill = %v, %v; want %v, nil", wrote, err, tt.wantFill)
				}
			})
		}
	})
}

func TestLeaseHit(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	ctx := testCtx(t)
	if err := s.Set(ctx, p+"k", []byte("cached"), 0); err != nil {
		t.Fatal(err)
	}
	v, lease, err := s.GetOrLease(ctx, p+"k")
	if err != nil || string(v) != "cached" || lease.Valid() {
		t.Errorf("GetOrLease on a hit = %q, %v, %v; want the value and no lease", v, lease, err)
	}
	if wrote, err := s.Fill(ctx, lease, []byte("x"), 0); wrote || err != nil {
		t.Errorf("Fill(zero lease) = %v, %v; want false, nil", wrote, err)
	}
	if err := s.Release(ctx, lease); err != nil {
		t.Errorf("Release(zero lease) = %v", err)
	}
	_, lease, err = s.GetOrLease(ctx, p+"absent")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fill(ctx, lease, []byte(l2redis.LeaseMagic), 0); !errors.Is(err, l2redis.ErrReservedValue) {
		t.Errorf("Fill(reserved) = %v, want ErrReservedValue", err)
	}
}

// TestFillConcurrentSafe runs readers that fill through leases against
// writers that update a source of truth and then set or delete the key.
// Once the writers stop, L2 must hold the source's last value or nothing.
func TestFillConcurrentSafe(t *testing.T) {
	t.Parallel()
	forEachTopology(t, &l2redis.Options{LeaseTTL: time.Second}, func(t *testing.T, s *l2redis.Store, p string) {
		ctx := testCtx(t)
		const keys = 8
		var (
			mu     sync.Mutex
			source [keys]int // the source of truth: a version per key
			wg     sync.WaitGroup
			stop   = make(chan struct{})
		)
		key := func(i int) string { return p + strconv.Itoa(i) }
		for range 4 { // readers
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					i := rand.IntN(keys)
					_, lease, err := s.GetOrLease(ctx, key(i))
					if err != nil || !lease.Valid() {
						continue
					}
					mu.Lock()
					v := source[i]
					mu.Unlock()
					time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
					if _, err := s.Fill(ctx, lease, []byte(strconv.Itoa(v)), time.Minute); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		for range 2 { // writers
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; n < 300; n++ {
					i := rand.IntN(keys)
					mu.Lock()
					source[i]++
					v := source[i]
					// The L2 update happens under the source's lock so that
					// writes reach L2 in the source's order: this test is
					// about fills, not about racing writers.
					var err error
					if n%3 == 0 {
						err = s.Delete(ctx, key(i))
					} else {
						err = s.Set(ctx, key(i), []byte(strconv.Itoa(v)), time.Minute)
					}
					mu.Unlock()
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		// Let the writers finish, then stop the readers.
		time.Sleep(50 * time.Millisecond)
		for {
			mu.Lock()
			total := 0
			for _, v := range source {
				total += v
			}
			mu.Unlock()
			if total >= 600 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		close(stop)
		wg.Wait()
		for i := range keys {
			got, err := s.Get(ctx, key(i))
			if errors.Is(err, l2redis.ErrNotFound) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := strconv.Itoa(source[i]); string(got) != want {
				t.Errorf("key %d: L2 holds version %s, source has %s", i, got, want)
			}
		}
	})
}

package l1mem_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l1mem"
)

// negFixture is a cache with remembered misses whose loader finds key
// "gone" nowhere (or fails otherwise, with fail set) and counts its calls.
type negFixture struct {
	c     *l1mem.Cache[string, int]
	clk   *fakeClock
	loads atomic.Int32
	fail  atomic.Bool
	evict []string
}

func newNegFixture(t *testing.T, negTTL time.Duration) *negFixture {
	f := &negFixture{clk: newFakeClock()}
	f.c = mustNew(t, &l1mem.Options[string, int]{
		Shards: 4, MaxEntries: 8, NegativeTTL: negTTL, Clock: f.clk, DisableSweep: true,
		OnEvict: func(k string, _ int, r l1mem.EvictReason) { f.evict = append(f.evict, k+":"+r.String()) },
	})
	return f
}

// get calls GetOrLoad and says what came back: "v=N", "not found" or the
// error.
func (f *negFixture) get(key string) string {
	v, err := f.c.GetOrLoad(context.Background(), key, func(_ context.Context, k string) (int, error) {
		f.loads.Add(1)
		if f.fail.Load() {
			return 0, errors.New("source down")
		}
		if k == "gone" {
			return 0, fmt.Errorf("user %q: %w", k, l1mem.ErrNotFound)
		}
		return len(k), nil
	})
	switch {
	case errors.Is(err, l1mem.ErrNotFound):
		return "not found"
	case err != nil:
		return err.Error()
	}
	return fmt.Sprintf("v=%d", v)
}

func TestNegativeCaching(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		negTTL time.Duration
		// steps runs after a first get("gone") and returns what the next
		// get("gone") should say.
		steps     func(t *testing.T, f *negFixture) string
		wantLoads int32 // loader calls in all
	}{
		{"remembered within the TTL", time.Minute, func(t *testing.T, f *negFixture) string {
			f.clk.Advance(59 * time.Second)
			return "not found"
		}, 1},
		{"forgotten after the TTL", time.Minute, func(t *testing.T, f *negFixture) string {
			f.clk.Advance(time.Minute)
			return "not found"
		}, 2},
		{"off when NegativeTTL is 0", 0, func(t *testing.T, f *negFixture) string {
			return "not found"
		}, 2},
		{"ended by Set", time.Minute, func(t *testing.T, f *negFixture) string {
			f.c.Set("gone", 7)
			return "v=7"
		}, 1},
		{"ended by SetWithTTL", time.Minute, func(t *testing.T, f *negFixture) string {
			if err := f.c.SetWithTTL("gone", 8, time.Hour); err != nil {
				t.Fatal(err)
			}
			return "v=8"
		}, 1},
		{"ended by Delete", time.Minute, func(t *testing.T, f *negFixture) string {
			if f.c.Delete("gone") {
				t.Error("Delete of a remembered miss reported a present key")
			}
			return "not found"
		}, 2},
		{"ended by Clear", time.Minute, func(t *testing.T, f *negFixture) string {
			f.c.Clear()
			return "not found"
		}, 2},
		{"ended by a fill", time.Minute, func(t *testing.T, f *negFixture) string {
			if !f.c.SetIfEpoch("gone", 9, f.c.Epoch("gone")) {
				t.Fatal("SetIfEpoch refused")
			}
			return "v=9"
		}, 1},
		{"ended by SetIfAbsent", time.Minute, func(t *testing.T, f *negFixture) string {
			if v, stored := f.c.SetIfAbsent("gone", 10); !stored || v != 10 {
				t.Fatalf("SetIfAbsent over a remembered miss = %d, %v", v, stored)
			}
			return "v=10"
		}, 1},
		{"not a value to Get, Has, Range, All or OnEvict", time.Minute, func(t *testing.T, f *negFixture) string {
			if _, ok := f.c.Get("gone"); ok {
				t.Error("Get found a remembered miss")
			}
			if f.c.Has("gone") {
				t.Error("Has found a remembered miss")
			}
			f.c.Range(func(k string, _ int) bool { t.Errorf("Range visited %q", k); return true })
			for k := range f.c.All() {
				t.Errorf("All yielded %q", k)
			}
			if f.c.Len() != 1 {
				t.Errorf("Len = %d, want 1 (a remembered miss takes room)", f.c.Len())
			}
			f.clk.Advance(2 * time.Minute)
			if n := f.c.DeleteExpired(); n != 1 {
				t.Errorf("DeleteExpired removed %d, want the expired miss", n)
			}
			if len(f.evict) != 0 {
				t.Errorf("OnEvict saw %v", f.evict)
			}
			return "not found"
		}, 2},
		{"evicted for room without OnEvict", time.Minute, func(t *testing.T, f *negFixture) string {
			for i := range 200 {
				f.c.Set(fmt.Sprint(i), i)
			}
			for _, e := range f.evict {
				if e == "gone:capacity" {
					t.Error("OnEvict saw the remembered miss")
				}
			}
			return "not found"
		}, 2},
		{"other errors are not remembered", time.Minute, func(t *testing.T, f *negFixture) string {
			f.fail.Store(true)
			if got := f.get("other"); got != "source down" {
				t.Fatalf(`get("other") = %q`, got)
			}
			f.fail.Store(false)
			return "not found" // "gone" is still remembered: no load
		}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newNegFixture(t, tc.negTTL)
			if got := f.get("gone"); got != "not found" {
				t.Fatalf("first get = %q, want not found", got)
			}
			want := tc.steps(t, f)
			if got := f.get("gone"); got != want {
				t.Errorf("get after the steps = %q, want %q", got, want)
			}
			if n := f.loads.Load(); n != tc.wantLoads {
				t.Errorf("loader called %d times, want %d", n, tc.wantLoads)
			}
		})
	}
}

// A miss whose key is deleted (invalidated) while the load runs is not
// remembered: the loader may have looked before the key was created.
func TestNegativeCachingGuardedByEpoch(t *testing.T) {
	t.Parallel()
	c := mustNew(t, &l1mem.Options[string, int]{NegativeTTL: time.Minute})
	started, release := make(chan struct{}), make(chan struct{})
	res := make(chan error, 1)
	go func() {
		_, err := c.GetOrLoad(context.Background(), "k", func(context.Context, string) (int, error) {
			close(started)
			<-release
			return 0, l1mem.ErrNotFound
		})
		res <- err
	}()
	<-started
	c.Delete("k") // the key was written (created, then deleted) meanwhile
	close(release)
	if err := <-res; !errors.Is(err, l1mem.ErrNotFound) {
		t.Fatalf("the loading caller got %v, want ErrNotFound", err)
	}
	var loads int
	v, err := c.GetOrLoad(context.Background(), "k", func(context.Context, string) (int, error) {
		loads++
		return 5, nil
	})
	if err != nil || v != 5 || loads != 1 {
		t.Fatalf("after an invalidated miss: %d, %v with %d loads; want 5 from a new load", v, err, loads)
	}
}

func TestNegativeTTLMustNotBeNegative(t *testing.T) {
	_, err := l1mem.New(&l1mem.Options[string, int]{NegativeTTL: -time.Second})
	if !errors.Is(err, l1mem.ErrInvalidOptions) {
		t.Fatalf("New with a negative NegativeTTL: %v, want ErrInvalidOptions", err)
	}
}

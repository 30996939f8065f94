package l1mem_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l1mem"
)

func TestGetOrLoadSingleFlightConcurrentSafe(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := mustNew[string, int](t, nil)
	var calls atomic.Int32
	release := make(chan struct{})
	load := func(context.Context, string) (int, error) {
		calls.Add(1)
		<-release
		return 42, nil
	}
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := c.GetOrLoad(ctx, "k", load)
			if err == nil && v != 42 {
				err = errors.New("wrong value")
			}
			errs <- err
		}()
	}
	time.Sleep(20 * time.Millisecond) // let the callers pile up on the flight
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("loader called %d times, want 1", calls.Load())
	}
	if v, ok := c.Get("k"); !ok || v != 42 {
		t.Fatal("loaded value not cached")
	}
}

func TestGetOrLoadErrorsAreNotCached(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := mustNew[string, int](t, nil)
	boom := errors.New("boom")
	tests := []struct {
		name    string
		load    func(context.Context, string) (int, error)
		wantErr error
	}{
		{"error", func(context.Context, string) (int, error) { return 0, boom }, boom},
		{"panic", func(context.Context, string) (int, error) { panic("kaboom") }, l1mem.ErrLoaderPanic},
		{"nil loader", nil, l1mem.ErrNilLoader},
	}
	for _, tt := range tests {
		if _, err := c.GetOrLoad(ctx, "k", tt.load); !errors.Is(err, tt.wantErr) {
			t.Fatalf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
		}
		if c.Has("k") {
			t.Fatalf("%s: failed load was cached", tt.name)
		}
	}
	v, err := c.GetOrLoad(ctx, "k", func(context.Context, string) (int, error) { return 5, nil })
	if err != nil || v != 5 {
		t.Fatalf("retry after error = %v, %v", v, err)
	}
}

func TestGetOrLoadWaiterHonoursContext(t *testing.T) {
	t.Parallel()
	c := mustNew[string, int](t, nil)
	release := make(chan struct{})
	started := make(chan struct{})
	go func() {
		_, _ = c.GetOrLoad(context.Background(), "k", func(context.Context, string) (int, error) {
			close(started)
			<-release
			return 1, nil
		})
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.GetOrLoad(ctx, "k", func(context.Context, string) (int, error) { return 2, nil })
	close(release)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiter err = %v, want DeadlineExceeded", err)
	}
}

// A write that lands while the loader runs wins: the loaded value is
// returned to the caller but not cached over the newer write.
func TestGetOrLoadGuardedByEpoch(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := mustNew[string, int](t, nil)
	v, err := c.GetOrLoad(ctx, "k", func(context.Context, string) (int, error) {
		c.Set("k", 2) // a concurrent writer
		return 1, nil
	})
	if err != nil || v != 1 {
		t.Fatalf("GetOrLoad = %v, %v", v, err)
	}
	if got, _ := c.Get("k"); got != 2 {
		t.Fatalf("stale load overwrote a newer write: Get = %d", got)
	}
	c.Delete("k")
	_, _ = c.GetOrLoad(ctx, "k", func(context.Context, string) (int, error) {
		c.Delete("k") // a concurrent invalidation
		return 1, nil
	})
	if c.Has("k") {
		t.Fatal("load raced with an invalidation was cached")
	}
}

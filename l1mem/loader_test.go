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

type ctxKey struct{}

// Issue 11 item 12: the caller that starts a shared load cancels; the
// load goes on detached (with that caller's context values and a bounded
// timeout), the canceller alone gets context.Canceled, and the waiter gets
// the value, which is cached.
func TestGetOrLoadFirstCallerCancelDoesNotFailWaiters(t *testing.T) {
	t.Parallel()
	c := mustNew[string, int](t, nil)
	var calls atomic.Int32
	started, release := make(chan struct{}), make(chan struct{})
	type seen struct {
		value       any
		hasDeadline bool
	}
	loaderSaw := make(chan seen, 1)
	load := func(ctx context.Context, _ string) (int, error) {
		if calls.Add(1) == 1 {
			_, dl := ctx.Deadline()
			loaderSaw <- seen{ctx.Value(ctxKey{}), dl}
			close(started)
		}
		select {
		case <-release:
			return 42, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	type result struct {
		v   int
		err error
	}
	first, waiter := make(chan result, 1), make(chan result, 1)
	ctx1, cancel1 := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "trace-1"))
	defer cancel1()
	go func() {
		v, err := c.GetOrLoad(ctx1, "k", load)
		first <- result{v, err}
	}()
	<-started
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	go func() {
		v, err := c.GetOrLoad(ctx2, "k", load)
		waiter <- result{v, err}
	}()
	// Let the waiter join the flight: its Get counts a miss just before.
	for c.Stats().Misses < 2 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond)
	cancel1()
	if r := <-first; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("first caller after cancelling = %d, %v; want context.Canceled", r.v, r.err)
	}
	close(release)
	if r := <-waiter; r.err != nil || r.v != 42 {
		t.Fatalf("waiter = %d, %v; want 42 (the first caller's cancel must not fail it)", r.v, r.err)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("loader called %d times, want 1", n)
	}
	if v, ok := c.Get("k"); !ok || v != 42 {
		t.Fatalf("Get after the load = %d, %v; want the loaded 42 cached", v, ok)
	}
	s := <-loaderSaw
	if s.value != "trace-1" || !s.hasDeadline {
		t.Fatalf("loader ctx: value %v, deadline %v; want the first caller's value and a deadline", s.value, s.hasDeadline)
	}
}

// The detached load is bounded by Options.LoadTimeout.
func TestGetOrLoadLoadTimeoutBoundsTheLoad(t *testing.T) {
	t.Parallel()
	c := mustNew(t, &l1mem.Options[string, int]{LoadTimeout: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.GetOrLoad(ctx, "k", func(ctx context.Context, _ string) (int, error) {
		<-ctx.Done() // a source that never answers
		return 0, ctx.Err()
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded from the load timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("returned after %v, want about the 50ms load timeout", d)
	}
}

// Close cancels the loads in progress and waits for them, so no loader
// goroutine outlives it.
func TestCloseCancelsLoadsInProgress(t *testing.T) {
	t.Parallel()
	c, err := l1mem.New[string, int](nil)
	if err != nil {
		t.Fatal(err)
	}
	var running atomic.Bool
	started := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		_, err := c.GetOrLoad(context.Background(), "k", func(ctx context.Context, _ string) (int, error) {
			running.Store(true)
			defer running.Store(false)
			close(started)
			<-ctx.Done()
			return 0, ctx.Err()
		})
		errc <- err
	}()
	<-started
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if running.Load() {
		t.Fatal("a load was still running after Close returned")
	}
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("caller of the cancelled load got %v, want context.Canceled", err)
	}
	// Still usable.
	if v, err := c.GetOrLoad(context.Background(), "k", func(context.Context, string) (int, error) { return 3, nil }); err != nil || v != 3 {
		t.Fatalf("GetOrLoad after Close = %d, %v", v, err)
	}
}

func TestGetOrLoadBadContext(t *testing.T) {
	t.Parallel()
	c := mustNew[string, int](t, nil)
	load := func(context.Context, string) (int, error) {
		t.Error("loader called")
		return 1, nil
	}
	var nilCtx context.Context
	if _, err := c.GetOrLoad(nilCtx, "k", load); !errors.Is(err, l1mem.ErrNilContext) {
		t.Fatalf("nil ctx: err = %v, want ErrNilContext", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.GetOrLoad(ctx, "k", load); !errors.Is(err, context.Canceled) {
		t.Fatalf("ended ctx: err = %v, want context.Canceled", err)
	}
}

// Issue 11 item 29: a read that begins after a Delete (the invalidation a
// write does) returned must not join a load that began before it, which
// can only return the value the write replaced. The older load's waiter
// still gets its result, which is not cached. VoidFills, which a writer
// calls before its write, has the same effect.
func TestGetOrLoadAfterInvalidationDoesNotJoinOlderLoad(t *testing.T) {
	t.Parallel()
	for name, invalidate := range map[string]func(*l1mem.Cache[string, int]){
		"Delete":    func(c *l1mem.Cache[string, int]) { c.Delete("k") },
		"VoidFills": func(c *l1mem.Cache[string, int]) { c.VoidFills("k") },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			loadAfterInvalidation(t, invalidate)
		})
	}
}

func loadAfterInvalidation(t *testing.T, invalidate func(*l1mem.Cache[string, int])) {
	c := mustNew[string, int](t, nil)
	var source atomic.Int64 // the source of truth
	source.Store(1)
	startedA, releaseA := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(releaseA) }) }
	defer release()
	resA := make(chan int, 1)
	go func() {
		v, err := c.GetOrLoad(context.Background(), "k", func(context.Context, string) (int, error) {
			v := int(source.Load()) // reads version 1...
			close(startedA)
			<-releaseA // ...and is slow to return it
			return v, nil
		})
		if err != nil {
			t.Error(err)
		}
		resA <- v
	}()
	<-startedA
	source.Store(2) // the write: source first,
	invalidate(c)   // then invalidate; the write is acknowledged here

	resB := make(chan int, 1)
	go func() {
		v, err := c.GetOrLoad(context.Background(), "k", func(context.Context, string) (int, error) {
			return int(source.Load()), nil
		})
		if err != nil {
			t.Error(err)
		}
		resB <- v
	}()
	var b int
	select {
	case b = <-resB:
	case <-time.After(500 * time.Millisecond):
		// B is waiting for A's load: let A finish to see what B gets.
		release()
		b = <-resB
	}
	release()
	if b != 2 {
		t.Fatalf("read begun after the write was acknowledged = %d, want 2", b)
	}
	if a := <-resA; a != 1 {
		t.Fatalf("the earlier reader got %d, want its own load's 1", a)
	}
	if v, ok := c.Get("k"); !ok || v != 2 {
		t.Fatalf("cached after both loads = %d, %v; want 2 (the older load must not be cached)", v, ok)
	}
}

package l1mem_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l1mem"
)

// bulkSource is a loader for GetOrLoadMany over a map of existing keys,
// recording what each call was asked for.
type bulkSource struct {
	mu    sync.Mutex
	data  map[string]int
	calls [][]string
	err   error
	gate  chan struct{} // when set, each call waits for it
}

func (b *bulkSource) load(ctx context.Context, keys []string) (map[string]int, error) {
	b.mu.Lock()
	b.calls = append(b.calls, slices.Sorted(slices.Values(keys)))
	gate, err := b.gate, b.err
	b.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	out := map[string]int{"unasked": -1}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range keys {
		if v, ok := b.data[k]; ok {
			out[k] = v
		}
	}
	return out, nil
}

func (b *bulkSource) asked() [][]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.calls)
}

func TestGetOrLoadMany(t *testing.T) {
	t.Parallel()
	data := map[string]int{"a": 1, "b": 2, "c": 3, "d": 4}
	cases := []struct {
		name      string
		negTTL    time.Duration
		cached    map[string]int
		keys      []string
		want      map[string]int
		wantAsked [][]string
		// then, a second call for the same keys asks the loader for:
		againAsked [][]string
	}{
		{
			name: "one load for every missing key", cached: map[string]int{"a": 10},
			keys: []string{"a", "b", "c"}, want: map[string]int{"a": 10, "b": 2, "c": 3},
			wantAsked: [][]string{{"b", "c"}}, againAsked: nil,
		},
		{
			name: "all cached: no load", cached: map[string]int{"a": 1, "b": 2},
			keys: []string{"a", "b"}, want: map[string]int{"a": 1, "b": 2},
		},
		{
			name: "repeated keys asked once",
			keys: []string{"b", "a", "b", "a"}, want: map[string]int{"a": 1, "b": 2},
			wantAsked: [][]string{{"a", "b"}},
		},
		{
			name: "a key left out is not found and not cached",
			keys: []string{"a", "x"}, want: map[string]int{"a": 1},
			wantAsked: [][]string{{"a", "x"}}, againAsked: [][]string{{"x"}},
		},
		{
			name: "with NegativeTTL a key left out is remembered", negTTL: time.Minute,
			keys: []string{"a", "x"}, want: map[string]int{"a": 1},
			wantAsked: [][]string{{"a", "x"}}, againAsked: nil,
		},
		{
			name: "no keys", keys: nil, want: map[string]int{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := mustNew(t, &l1mem.Options[string, int]{NegativeTTL: tc.negTTL})
			for k, v := range tc.cached {
				c.Set(k, v)
			}
			src := &bulkSource{data: data}
			got, err := c.GetOrLoadMany(context.Background(), tc.keys, src.load)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("result = %v, want %v", got, tc.want)
			}
			if a := src.asked(); !slices.EqualFunc(a, tc.wantAsked, slices.Equal) {
				t.Errorf("loader asked %v, want %v", a, tc.wantAsked)
			}
			src2 := &bulkSource{data: data}
			again, err := c.GetOrLoadMany(context.Background(), tc.keys, src2.load)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(again, tc.want) {
				t.Errorf("second result = %v, want %v", again, tc.want)
			}
			if a := src2.asked(); !slices.EqualFunc(a, tc.againAsked, slices.Equal) {
				t.Errorf("second call asked %v, want %v", a, tc.againAsked)
			}
		})
	}
}

func TestGetOrLoadManyErrors(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	boom := errors.New("source down")
	cases := []struct {
		name   string
		ctx    context.Context
		load   func(context.Context, []string) (map[string]int, error)
		cached bool // "a" is cached beforehand
		keys   []string
		want   error
	}{
		{"nil loader", context.Background(), nil, false, []string{"a"}, l1mem.ErrNilLoader},
		{"nil loader, all cached", context.Background(), nil, true, []string{"a"}, nil},
		{"nil context", nil, (&bulkSource{}).load, false, []string{"a"}, l1mem.ErrNilContext},
		{"ended context", canceled, (&bulkSource{}).load, false, []string{"a"}, context.Canceled},
		{"loader error", context.Background(), (&bulkSource{err: boom}).load, true, []string{"a", "b"}, boom},
		{"loader panic", context.Background(), func(context.Context, []string) (map[string]int, error) { panic("bad row") }, false, []string{"a"}, l1mem.ErrLoaderPanic},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := mustNew[string, int](t, nil)
			if tc.cached {
				c.Set("a", 1)
			}
			got, err := c.GetOrLoadMany(tc.ctx, tc.keys, tc.load)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err != nil && got != nil {
				t.Errorf("result %v with an error", got)
			}
			if tc.want != nil && c.Has("b") {
				t.Error("a failed load cached a value")
			}
		})
	}
}

// A bulk load joins a GetOrLoad already under way for one of its keys,
// and a GetOrLoad joins a bulk load under way: one source call per key.
func TestGetOrLoadManyJoinsFlights(t *testing.T) {
	t.Parallel()
	c := mustNew[string, int](t, nil)
	single := make(chan struct{})
	started := make(chan struct{})
	var singleCalls int
	go func() {
		_, _ = c.GetOrLoad(context.Background(), "a", func(context.Context, string) (int, error) {
			singleCalls++
			close(started)
			<-single
			return 100, nil
		})
	}()
	<-started
	src := &bulkSource{data: map[string]int{"a": 1, "b": 2}, gate: make(chan struct{})}
	res := make(chan map[string]int, 1)
	go func() {
		m, err := c.GetOrLoadMany(context.Background(), []string{"a", "b"}, src.load)
		if err != nil {
			t.Error(err)
		}
		res <- m
	}()
	waitFor(t, func() bool { return len(src.asked()) == 1 })
	// A GetOrLoad of "b" now joins the bulk load.
	joined := make(chan int, 1)
	go func() {
		v, err := c.GetOrLoad(context.Background(), "b", func(context.Context, string) (int, error) {
			t.Error("GetOrLoad of b loaded instead of joining the bulk load")
			return 0, nil
		})
		if err != nil {
			t.Error(err)
		}
		joined <- v
	}()
	close(single)
	close(src.gate)
	m := <-res
	if want := map[string]int{"a": 100, "b": 2}; !maps.Equal(m, want) {
		t.Errorf("bulk result = %v, want %v", m, want)
	}
	if a := src.asked(); !slices.EqualFunc(a, [][]string{{"b"}}, slices.Equal) {
		t.Errorf("bulk loader asked %v, want [[b]] (a was already loading)", a)
	}
	if v := <-joined; v != 2 {
		t.Errorf("GetOrLoad joined the bulk load and got %d, want 2", v)
	}
	if singleCalls != 1 {
		t.Errorf("single loader called %d times", singleCalls)
	}
}

// A key deleted (invalidated) after a load of it began is not joined by
// a later GetOrLoadMany, which loads it again; the older load's value is
// not cached.
func TestGetOrLoadManyDoesNotJoinLoadOlderThanWrite(t *testing.T) {
	t.Parallel()
	c := mustNew[string, int](t, nil)
	old := &bulkSource{data: map[string]int{"k": 1}, gate: make(chan struct{})}
	first := make(chan map[string]int, 1)
	go func() {
		m, err := c.GetOrLoadMany(context.Background(), []string{"k"}, old.load)
		if err != nil {
			t.Error(err)
		}
		first <- m
	}()
	waitFor(t, func() bool { return len(old.asked()) == 1 })
	c.Delete("k") // the source now has version 2

	fresh := &bulkSource{data: map[string]int{"k": 2}}
	m, err := c.GetOrLoadMany(context.Background(), []string{"k"}, fresh.load)
	if err != nil {
		t.Fatal(err)
	}
	if m["k"] != 2 {
		t.Fatalf("read begun after the Delete got %v, want k=2", m)
	}
	close(old.gate)
	if m := <-first; m["k"] != 1 {
		t.Errorf("the earlier caller got %v, want its own load's k=1", m)
	}
	if v, ok := c.Get("k"); !ok || v != 2 {
		t.Errorf("cached k = %d, %v; want 2 (the older load must not be cached)", v, ok)
	}
}

// The load runs detached: a caller whose context ends leaves with its
// error, the load goes on, fills the cache and serves the other waiters.
func TestGetOrLoadManyCallerCancelDoesNotFailOthers(t *testing.T) {
	t.Parallel()
	c := mustNew[string, int](t, nil)
	src := &bulkSource{data: map[string]int{"a": 1, "b": 2}, gate: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		_, err := c.GetOrLoadMany(ctx, []string{"a", "b"}, src.load)
		firstErr <- err
	}()
	waitFor(t, func() bool { return len(src.asked()) == 1 })
	second := make(chan map[string]int, 1)
	go func() {
		m, err := c.GetOrLoadMany(context.Background(), []string{"a", "b"}, src.load)
		if err != nil {
			t.Error(err)
		}
		second <- m
	}()
	cancel()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled caller got %v", err)
	}
	close(src.gate)
	if m := <-second; !maps.Equal(m, map[string]int{"a": 1, "b": 2}) {
		t.Errorf("other caller got %v", m)
	}
	if len(src.asked()) != 1 {
		t.Errorf("loader asked %v, want one call", src.asked())
	}
	waitFor(t, func() bool { return c.Has("a") && c.Has("b") })
}

// A key deleted while its bulk load runs gets the value in the result
// but not in the cache.
func TestGetOrLoadManyGuardedByEpoch(t *testing.T) {
	t.Parallel()
	c := mustNew[string, int](t, nil)
	src := &bulkSource{data: map[string]int{"a": 1, "b": 2}, gate: make(chan struct{})}
	res := make(chan map[string]int, 1)
	go func() {
		m, err := c.GetOrLoadMany(context.Background(), []string{"a", "b"}, src.load)
		if err != nil {
			t.Error(err)
		}
		res <- m
	}()
	waitFor(t, func() bool { return len(src.asked()) == 1 })
	c.Delete("b")
	close(src.gate)
	if m := <-res; !maps.Equal(m, map[string]int{"a": 1, "b": 2}) {
		t.Errorf("result = %v", m)
	}
	if !c.Has("a") || c.Has("b") {
		t.Errorf("cached a=%v b=%v, want only a", c.Has("a"), c.Has("b"))
	}
}

func TestCloseCancelsBulkLoads(t *testing.T) {
	t.Parallel()
	c, err := l1mem.New[string, int](nil)
	if err != nil {
		t.Fatal(err)
	}
	src := &bulkSource{data: map[string]int{"a": 1}, gate: make(chan struct{})} // never opened
	res := make(chan error, 1)
	go func() {
		_, err := c.GetOrLoadMany(context.Background(), []string{"a"}, src.load)
		res <- err
	}()
	waitFor(t, func() bool { return len(src.asked()) == 1 })
	_ = c.Close()
	select {
	case err := <-res:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("waiter got %v, want the canceled load's error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close returned but the bulk load's waiter is still waiting")
	}
}

// waitFor polls cond until it holds, failing after 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}

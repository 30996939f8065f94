package l1mem_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/l1mem"
)

// A GetOrLoad of a key written after a GetOrLoadMany load of it began
// does not join that bulk load: it loads the key anew, and the bulk
// load's older value is not cached.
func TestGetOrLoadAfterWriteDoesNotJoinOlderBulkLoad(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		write func(c *l1mem.Cache[string, int])
	}{
		{"Delete", func(c *l1mem.Cache[string, int]) { c.Delete("k") }},
		{"Clear", func(c *l1mem.Cache[string, int]) { c.Clear() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
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
			tc.write(c) // the source now holds version 2

			got := make(chan int, 1)
			go func() {
				v, err := c.GetOrLoad(context.Background(), "k", func(context.Context, string) (int, error) { return 2, nil })
				if err != nil {
					t.Error(err)
				}
				got <- v
			}()
			var v int
			select {
			case v = <-got:
			case <-time.After(10 * time.Second):
				close(old.gate) // it joined the older load: see what it gets
				v = <-got
				t.Fatalf("GetOrLoad begun after the write waited for the bulk load begun before it, and got %d", v)
			}
			if v != 2 {
				t.Fatalf("GetOrLoad begun after the write = %d, want 2", v)
			}
			close(old.gate)
			if m := <-first; !maps.Equal(m, map[string]int{"k": 1}) {
				t.Errorf("the bulk caller got %v, want its own load's k=1", m)
			}
			if v, ok := c.Get("k"); !ok || v != 2 {
				t.Errorf("cached k = %d, %v; want 2 (the older bulk load must not be cached)", v, ok)
			}
		})
	}
}

type bulkCtxKey struct{}

// The bulk load runs detached from its caller's context: it sees the
// caller's values, but neither its cancellation nor its deadline; its
// own deadline is Options.LoadTimeout.
func TestGetOrLoadManyLoadContextIsDetached(t *testing.T) {
	t.Parallel()
	const loadTimeout = time.Hour
	c := mustNew(t, &l1mem.Options[string, int]{LoadTimeout: loadTimeout})
	parent, cancel := context.WithTimeout(context.WithValue(context.Background(), bulkCtxKey{}, "v"), time.Minute)
	cancel() // this caller's context has ended
	type seen struct {
		value    any
		err      error
		deadline time.Duration
	}
	saw := make(chan seen, 1)
	load := func(ctx context.Context, keys []string) (map[string]int, error) {
		d, _ := ctx.Deadline()
		saw <- seen{ctx.Value(bulkCtxKey{}), ctx.Err(), time.Until(d)}
		return map[string]int{"a": 1}, nil
	}
	// A caller whose context is still live, with a short deadline of its own.
	live, stop := context.WithTimeout(context.WithValue(context.Background(), bulkCtxKey{}, "v"), time.Minute)
	defer stop()
	m, err := c.GetOrLoadMany(live, []string{"a"}, load)
	if err != nil || !maps.Equal(m, map[string]int{"a": 1}) {
		t.Fatalf("GetOrLoadMany = %v, %v", m, err)
	}
	s := <-saw
	if s.value != "v" {
		t.Errorf("load's context value = %v, want the caller's v", s.value)
	}
	if s.err != nil {
		t.Errorf("load's context ended before the load: %v", s.err)
	}
	if s.deadline < loadTimeout-time.Minute {
		t.Errorf("load's deadline in %v, want about LoadTimeout %v (not the caller's minute)", s.deadline, loadTimeout)
	}
	// A caller whose context has already ended starts no load.
	if _, err := c.GetOrLoadMany(parent, []string{"b"}, load); err == nil {
		t.Errorf("GetOrLoadMany with an ended context = nil error")
	}
	select {
	case s := <-saw:
		t.Errorf("a load ran for a caller whose context had ended: %+v", s)
	default:
	}
}

package l2redis_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/l2redis/internal/redistest"
	"github.com/AndrewDonelson/strata/l2redis/internal/slot"
)

// wireLog records, per server address, the round trips a client makes and
// the commands in them.
type wireLog struct {
	mu    sync.Mutex
	trips map[string]int
	cmds  map[string][]redis.Cmder
}

func (l *wireLog) hook(addr string) redis.Hook {
	return wireHook{l: l, addr: addr}
}

func (l *wireLog) add(addr string, cmds ...redis.Cmder) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.trips[addr]++
	l.cmds[addr] = append(l.cmds[addr], cmds...)
}

type wireHook struct {
	l    *wireLog
	addr string
}

func (h wireHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h wireHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.l.add(h.addr, cmd)
		return next(ctx, cmd)
	}
}

func (h wireHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.l.add(h.addr, cmds...)
		return next(ctx, cmds)
	}
}

// TestMGetRoundTrips checks what MGet sends: on a standalone server one MGET
// with exactly the keys asked; on a cluster one MGET per hash slot, holding
// only that slot's keys, and one round trip per master.
func TestMGetRoundTrips(t *testing.T) {
	t.Parallel()
	keysFor := func(p string) []string {
		var keys []string
		for i := range 60 {
			keys = append(keys, p+strconv.Itoa(i))
		}
		return keys
	}
	t.Run("standalone", func(t *testing.T) {
		t.Parallel()
		log := &wireLog{trips: map[string]int{}, cmds: map[string][]redis.Cmder{}}
		c := redistest.Client(t)
		s, err := l2redis.New(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		keys := keysFor(redistest.Prefix(t, c))
		if err := c.Ping(testCtx(t)).Err(); err != nil { // opens the connection first
			t.Fatal(err)
		}
		c.AddHook(log.hook("standalone"))
		if _, err := s.MGet(testCtx(t), keys); err != nil {
			t.Fatal(err)
		}
		cmds := log.cmds["standalone"]
		if log.trips["standalone"] != 1 || len(cmds) != 1 || cmds[0].Name() != "mget" || len(cmds[0].Args()) != 1+len(keys) {
			t.Fatalf("MGet sent %d round trips: %v; want one MGET of %d keys", log.trips["standalone"], cmds, len(keys))
		}
	})
	t.Run("cluster", func(t *testing.T) {
		t.Parallel()
		cl := redistest.SharedCluster(t)
		log := &wireLog{trips: map[string]int{}, cmds: map[string][]redis.Cmder{}}
		var recording atomic.Bool
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs})
		t.Cleanup(func() { _ = c.Close() })
		c.OnNewNode(func(n *redis.Client) {
			addr := n.Options().Addr
			n.AddHook(filterHook{on: recording.Load, next: log.hook(addr)})
		})
		s, err := l2redis.New(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := testCtx(t)
		keys := keysFor(redistest.Prefix(t, c))
		if _, err := s.MGet(ctx, keys); err != nil { // warms the slot map and connections
			t.Fatal(err)
		}
		recording.Store(true)
		if _, err := s.MGet(ctx, keys); err != nil {
			t.Fatal(err)
		}
		recording.Store(false)

		wantSlots := map[int]int{}
		for _, k := range keys {
			wantSlots[slot.Of(k)]++
		}
		gotSlots := map[int]int{}
		for addr, trips := range log.trips {
			if trips != 1 {
				t.Errorf("master %s: %d round trips, want 1", addr, trips)
			}
			for _, cmd := range log.cmds[addr] {
				if cmd.Name() != "mget" {
					t.Errorf("master %s: unexpected command %v", addr, cmd)
					continue
				}
				args := cmd.Args()[1:]
				s0 := slot.Of(args[0].(string))
				for _, a := range args {
					if slot.Of(a.(string)) != s0 {
						t.Errorf("one MGET spans slots: %v", args)
					}
				}
				if _, dup := gotSlots[s0]; dup {
					t.Errorf("slot %d read by two MGETs", s0)
				}
				gotSlots[s0] = len(args)
			}
		}
		if len(log.trips) < 2 {
			t.Errorf("%d masters visited; the keys span %d slots on several masters", len(log.trips), len(wantSlots))
		}
		for sl, n := range wantSlots {
			if gotSlots[sl] != n {
				t.Errorf("slot %d: MGET carried %d keys, want %d", sl, gotSlots[sl], n)
			}
		}
		if len(gotSlots) != len(wantSlots) {
			t.Errorf("%d MGETs for %d slots", len(gotSlots), len(wantSlots))
		}
	})
}

// filterHook passes calls to next only while on() is true.
type filterHook struct {
	on   func() bool
	next redis.Hook
}

func (f filterHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (f filterHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	hooked := f.next.ProcessHook(next)
	return func(ctx context.Context, cmd redis.Cmder) error {
		if f.on() {
			return hooked(ctx, cmd)
		}
		return next(ctx, cmd)
	}
}

func (f filterHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	hooked := f.next.ProcessPipelineHook(next)
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if f.on() {
			return hooked(ctx, cmds)
		}
		return next(ctx, cmds)
	}
}

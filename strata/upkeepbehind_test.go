package strata_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// TestSetWithChangeFeedReturnsBeforeItsRedisUpkeep: with the change feed
// on, a Set returns once PostgreSQL has committed; its Redis refresh
// follows. Meanwhile the writer reads its own write, from L1 and, once L1
// has lost it, from PostgreSQL, even while Redis holds the older value
// (put back here as another instance's late fill would); Close waits for
// the refresh. Without the in-flight guard that read returns Redis's older
// value.
func TestSetWithChangeFeedReturnsBeforeItsRedisUpkeep(t *testing.T) {
	t.Parallel()
	for _, guard := range []string{"on", "off"} {
		t.Run("guard="+guard, func(t *testing.T) {
			t.Parallel()
			e := newFeedEnv(t, testenv.RedisAddr(t))
			ctx := ctxT(t)
			w := e.open(t, true)
			if err := w.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			w.SetInFlightGuardForTest(e.Schema, guard)
			rdb := redis.NewClient(&redis.Options{Addr: e.Redis})
			defer rdb.Close()
			key := "strata:" + e.Schema + ":k"
			if err := w.Set(ctx, e.Schema, "k", &feedRec{ID: "k", V: 1}); err != nil {
				t.Fatal(err)
			}
			// Another instance's read fills Redis (a Set never creates
			// the key, and the feed deletes it after each commit).
			r := e.open(t, true)
			if err := r.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			var old []byte
			waitFor(t, "redis to hold the first value", func() bool {
				r.DropL1(e.Schema, "k")
				if read(t, r, e.Schema, "k") != 1 {
					return false
				}
				var err error
				old, err = rdb.Get(ctx, key).Bytes()
				return err == nil
			})

			held, unhold := holdBeforeRefresh(w, e.Schema, "k")
			release := sync.OnceFunc(unhold)
			defer release()
			set := make(chan error, 1)
			go func() { set <- w.Set(ctx, e.Schema, "k", &feedRec{ID: "k", V: 2}) }()
			<-held
			select {
			case err := <-set:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Set did not return while its Redis refresh was held")
			}
			// (Without the guard, this read too may return Redis's 1: the
			// feed's message for the first Set, arriving late, can drop
			// the entry the second Set refreshed.)
			if got := read(t, w, e.Schema, "k"); guard == "on" && got != 2 {
				t.Fatalf("the writer reads %d after its Set of 2", got)
			}
			if err := rdb.Set(ctx, key, old, 0).Err(); err != nil { // a late fill of the older row
				t.Fatal(err)
			}
			w.DropL1(e.Schema, "k")
			got := read(t, w, e.Schema, "k")
			switch {
			case guard == "on" && got != 2:
				t.Fatalf("with its refresh under way the writer reads %d, want its own 2 from PostgreSQL", got)
			case guard == "off" && got != 1:
				t.Fatalf("without the guard the writer should read Redis's older 1 (proving the test forces it), got %d", got)
			}

			closed := make(chan error, 1)
			go func() { closed <- w.Close() }()
			select {
			case <-closed:
				t.Fatal("Close returned while a Set's Redis refresh was still held")
			case <-time.After(200 * time.Millisecond):
			}
			release()
			if err := <-closed; err != nil {
				t.Fatal(err)
			}
			if data, err := rdb.Get(ctx, key).Bytes(); err == nil && string(data) == string(old) {
				t.Error("Redis still holds the older value after Close")
			}
		})
	}
}

// scriptCounter counts the script calls that carry any of keys.
type scriptCounter struct {
	keys map[string]bool
	n    atomic.Int64
}

func (s *scriptCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (s *scriptCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		s.count(cmd)
		return next(ctx, cmd)
	}
}

func (s *scriptCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			s.count(c)
		}
		return next(ctx, cmds)
	}
}

func (s *scriptCounter) count(cmd redis.Cmder) {
	if n := cmd.Name(); n != "eval" && n != "evalsha" {
		return
	}
	for _, a := range cmd.Args() {
		if k, ok := a.(string); ok && s.keys[k] {
			s.n.Add(1)
			return
		}
	}
}

// TestSetRefreshesLeftToTheBackgroundShareAScriptCall: the Sets made while
// an earlier Set's background refresh is held go to Redis together, in one
// script call, once it is released; Close waits for both calls.
func TestSetRefreshesLeftToTheBackgroundShareAScriptCall(t *testing.T) {
	t.Parallel()
	e := newFeedEnv(t, testenv.RedisAddr(t))
	ctx := ctxT(t)
	consumer := e.open(t, true) // streams the slot, so that w's own feed work is not counted
	if err := consumer.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	waitConsumer(t, consumer)
	w := e.open(t, true)
	if err := w.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	later := []string{"b", "c", "d"}
	calls := &scriptCounter{keys: map[string]bool{}}
	for _, id := range later {
		calls.keys["strata:"+e.Schema+":"+id] = true
	}
	w.AddRedisHookForTest(calls)
	held, unhold := holdBeforeRefresh(w, e.Schema, "a")
	release := sync.OnceFunc(unhold)
	defer release()
	if err := w.Set(ctx, e.Schema, "a", &feedRec{ID: "a", V: 1}); err != nil {
		t.Fatal(err)
	}
	<-held
	for i, id := range later {
		if err := w.Set(ctx, e.Schema, id, &feedRec{ID: id, V: i}); err != nil {
			t.Fatal(err)
		}
	}
	release()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := calls.n.Load(); n != 1 {
		t.Fatalf("the refreshes of %v went in %d script calls, want 1", later, n)
	}
}

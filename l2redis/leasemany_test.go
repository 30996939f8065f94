package l2redis_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/l2redis"
)

// TestLeaseManyFillMany: LeaseMany leases exactly the absent keys; FillMany
// writes only under leases that still stand, releases on a nil value, and
// survives a flushed script cache.
func TestLeaseManyFillMany(t *testing.T) {
	t.Parallel()
	forEachTopology(t, nil, func(t *testing.T, s *l2redis.Store, p string) {
		ctx := testCtx(t)
		present, absent, busy, raced, released := p+"present", p+"absent", p+"busy", p+"raced", p+"released"
		if err := s.Set(ctx, present, []byte("old"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.GetOrLease(ctx, busy); err != nil { // another caller's lease
			t.Fatal(err)
		}
		keys := []string{present, absent, busy, raced, released}
		leases, err := s.LeaseMany(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		var valid []bool
		for _, l := range leases {
			valid = append(valid, l.Valid())
		}
		if d := cmp.Diff([]bool{false, true, false, true, true}, valid); d != "" {
			t.Fatalf("leases granted (-want +got):\n%s", d)
		}
		if err := s.Set(ctx, raced, []byte("writer"), time.Minute); err != nil { // voids the lease
			t.Fatal(err)
		}
		if err := s.Client().ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		values := [][]byte{[]byte("x"), []byte("filled"), []byte("x"), []byte("stale"), nil}
		wrote, err := s.FillMany(ctx, leases, values, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]bool{false, true, false, false, false}, wrote); d != "" {
			t.Errorf("fills that wrote (-want +got):\n%s", d)
		}
		want := map[string]string{present: "old", absent: "filled", raced: "writer"}
		for k, v := range want {
			if got, err := s.Get(ctx, k); err != nil || string(got) != v {
				t.Errorf("%s = %q, %v; want %q", k, got, err, v)
			}
		}
		// Released: the next reader is granted a lease at once.
		if _, l, err := s.GetOrLease(ctx, released); err != nil || !l.Valid() {
			t.Errorf("GetOrLease after a release = %v, %v; want a lease", l, err)
		}
		if _, err := s.FillMany(ctx, leases, values[:1], time.Minute); !errors.Is(err, l2redis.ErrLengthMismatch) {
			t.Errorf("short values: %v, want ErrLengthMismatch", err)
		}
		if _, err := s.LeaseMany(ctx, []string{""}); !errors.Is(err, l2redis.ErrEmptyKey) {
			t.Errorf("empty key: %v, want ErrEmptyKey", err)
		}
	})
}

// roundTrips counts the round trips a client makes for its callers: one per
// command sent alone, one per pipeline. The handshake of a new connection
// (HELLO, CLIENT SETINFO, AUTH, SELECT) is not counted.
type roundTrips struct{ n atomic.Int64 }

func handshake(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "client", "auth", "select":
		return true
	}
	return false
}

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !handshake(cmd) {
			r.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && !handshake(cmds[0]) {
			r.n.Add(1)
		}
		return next(ctx, cmds)
	}
}

// TestLeaseManyOneRoundTrip: leasing and filling 500 keys costs one round
// trip each on a standalone server.
func TestLeaseManyOneRoundTrip(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	ctx := testCtx(t)
	keys := make([]string, 500)
	values := make([][]byte, len(keys))
	for i := range keys {
		keys[i] = fmt.Sprintf("%sk%03d", p, i)
		values[i] = []byte(keys[i])
	}
	if err := s.Ping(ctx); err != nil { // connect first: not counted
		t.Fatal(err)
	}
	var rt roundTrips
	s.Client().AddHook(&rt)
	leases, err := s.LeaseMany(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	afterLease := rt.n.Load()
	if _, err := s.FillMany(ctx, leases, values, time.Minute); err != nil {
		t.Fatal(err)
	}
	total := rt.n.Load()
	t.Logf("500 keys: LeaseMany %d round trip(s), FillMany %d", afterLease, total-afterLease)
	// FillMany may need a second pipeline once, if the script is not cached.
	if afterLease != 1 || total-afterLease > 2 {
		t.Errorf("LeaseMany took %d round trips and FillMany %d; want 1 and at most 2", afterLease, total-afterLease)
	}
	got, err := s.MGet(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		if string(got[i]) != keys[i] {
			t.Fatalf("%s = %q after FillMany", keys[i], got[i])
		}
	}
}

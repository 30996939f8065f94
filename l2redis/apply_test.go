package l2redis_test

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/l2redis/internal/redistest"
)

// TestApplyRefreshNeverGoesBackInVersion: a refresh replaces only an older
// versioned value, so two writers reaching Redis in either order leave the
// newer one; it removes an unversioned value and a lease marker (the lease
// is void) and never creates a key; a plain put sets; the generation
// counter is not created, and the message is sent — on every topology.
func TestApplyRefreshNeverGoesBackInVersion(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, c redis.UniversalClient) {
		ctx := testCtx(t)
		s, prefix, pub, events := publisherFixture(t, c)
		ns := prefix + "ns"
		refresh := func(key string, ver uint64, v string) l2redis.Change {
			return l2redis.Change{Key: prefix + key, Value: l2redis.Versioned(ver, []byte(v)), TTL: time.Minute, Refresh: true}
		}
		get := func(key string) string {
			t.Helper()
			b, err := s.Get(ctx, prefix+key)
			if errors.Is(err, l2redis.ErrNotFound) {
				return "(absent)"
			}
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		if ok, err := s.Fill(ctx, mustLease(t, s, prefix+"newer"), l2redis.Versioned(5, []byte("v5")), time.Minute); err != nil || !ok {
			t.Fatal(ok, err)
		}
		if err := s.Set(ctx, prefix+"plain", []byte("old"), time.Minute); err != nil {
			t.Fatal(err)
		}
		lease := mustLease(t, s, prefix+"leased")
		// The older write reaches Redis second: it must lose.
		for _, ch := range [][]l2redis.Change{
			{refresh("newer", 9, "v9"), refresh("plain", 2, "p2"), refresh("absent", 1, "a1"), refresh("leased", 3, "l3"),
				{Key: prefix + "put", Value: []byte("put"), TTL: time.Minute}},
			{refresh("newer", 7, "v7")},
		} {
			if err := s.Apply(ctx, pub, ch, ns, l2redis.OpSet, "s", "x"); err != nil {
				t.Fatal(err)
			}
		}
		for key, want := range map[string]string{"newer": "v9", "plain": "(absent)", "absent": "(absent)", "leased": "(absent)", "put": "put"} {
			if got := get(key); got != want {
				t.Errorf("%s after Apply = %q, want %q", key, got, want)
			}
		}
		if ok, err := s.Fill(ctx, lease, l2redis.Versioned(1, []byte("stale")), time.Minute); err != nil || ok {
			t.Errorf("Fill under a lease a refresh voided = %v, %v; want false", ok, err)
		}
		if n, err := c.Exists(ctx, l2redis.KeyRoot+":"+l2redis.ReservedMark+"gen:"+ns).Result(); err != nil || n != 0 {
			t.Errorf("the generation counter exists after Apply (%d, %v): it was not created by SearchCached", n, err)
		}
		for range 2 {
			if ev := next(t, events, 5*time.Second); ev.msg == nil {
				t.Fatalf("no message after Apply: %+v", ev.resub)
			}
		}
		// An invalidation that knows its version removes only older values.
		for _, below := range []uint64{8, 9} {
			if err := s.Apply(ctx, nil, []l2redis.Change{{Key: prefix + "newer", Below: below}}, "", l2redis.OpSet, "s"); err != nil {
				t.Fatal(err)
			}
			if got := get("newer"); got != "v9" {
				t.Fatalf("after an invalidation below version %d the key holds %q, want v9 kept", below, got)
			}
		}
		if err := s.Apply(ctx, nil, []l2redis.Change{{Key: prefix + "put", Below: 1}}, "", l2redis.OpSet, "s"); err != nil {
			t.Fatal(err)
		}
		if got := get("put"); got != "(absent)" {
			t.Errorf("an unversioned value after an invalidation below version 1 = %q, want removed", got)
		}
		if err := s.Apply(ctx, nil, []l2redis.Change{{Key: prefix + "newer", Below: 10}}, "", l2redis.OpSet, "s"); err != nil {
			t.Fatal(err)
		}
		if got := get("newer"); got != "(absent)" {
			t.Errorf("v9 after an invalidation below version 10 = %q, want removed", got)
		}
		if ok, err := s.Fill(ctx, mustLease(t, s, prefix+"newer"), l2redis.Versioned(11, []byte("v11")), time.Minute); err != nil || !ok {
			t.Fatal(ok, err)
		}
		if ok, err := s.DeleteIfValue(ctx, prefix+"newer", []byte("v11")); err != nil || !ok {
			t.Errorf("DeleteIfValue of a versioned value = %v, %v; want true", ok, err)
		}
		if err := s.Apply(ctx, nil, []l2redis.Change{{Key: prefix + "x", Value: []byte("unversioned"), Refresh: true}}, "", l2redis.OpSet, "s"); !errors.Is(err, l2redis.ErrUnversionedValue) {
			t.Errorf("Apply of an unversioned refresh = %v, want ErrUnversionedValue", err)
		}
	})
}

func mustLease(t *testing.T, s *l2redis.Store, key string) l2redis.Lease {
	t.Helper()
	_, l, err := s.GetOrLease(testCtx(t), key)
	if err != nil || !l.Valid() {
		t.Fatalf("GetOrLease(%s) = %v, %v; want a lease", key, l, err)
	}
	return l
}

func TestVersionedRoundTrip(t *testing.T) {
	t.Parallel()
	for _, v := range []uint64{0, 1, 42, 1<<63 + 5} {
		b := l2redis.Versioned(v, []byte("x"))
		got, rest, ok := l2redis.SplitVersion(b)
		if !ok || got != v || string(rest) != "x" {
			t.Errorf("SplitVersion(Versioned(%d)) = %d, %q, %v", v, got, rest, ok)
		}
	}
	if _, rest, ok := l2redis.SplitVersion([]byte("plain")); ok || string(rest) != "plain" {
		t.Errorf("SplitVersion of a plain value = %q, %v", rest, ok)
	}
}

// publisherFixture returns a Store on c, a key prefix of the test's own, a
// publishing bus and the events of a subscribed one on the same channel.
func publisherFixture(t *testing.T, c redis.UniversalClient) (*l2redis.Store, string, *l2redis.Bus, <-chan busEvent) {
	t.Helper()
	s, err := l2redis.New(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	channel := "l2redis-test:bus:" + redistest.RandomID()
	pub, _ := startBus(t, c, l2redis.BusOptions{Channel: channel})
	_, events := startBus(t, c, l2redis.BusOptions{Channel: channel})
	wantResub(t, events, l2redis.Subscribed, 10*time.Second)
	return s, redistest.Prefix(t, c), pub, events
}

// TestGetVersionedReturnsTheStoredVersion: a reader that fills L1 records
// the version Redis holds, which a writer's L1 refresh compares against.
func TestGetVersionedReturnsTheStoredVersion(t *testing.T) {
	t.Parallel()
	s, prefix := newStore(t, nil)
	ctx := testCtx(t)
	if err := s.Set(ctx, prefix+"v", l2redis.Versioned(42, []byte("x")), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, prefix+"plain", []byte("y"), time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key, want string
		ver       uint64
	}{{"v", "x", 42}, {"plain", "y", 0}} {
		b, ver, err := s.GetVersioned(ctx, prefix+c.key)
		if err != nil || string(b) != c.want || ver != c.ver {
			t.Errorf("GetVersioned(%s) = %q, %d, %v; want %q, %d", c.key, b, ver, err, c.want, c.ver)
		}
	}
	if _, _, err := s.GetVersioned(ctx, prefix+"none"); !errors.Is(err, l2redis.ErrNotFound) {
		t.Errorf("GetVersioned of an absent key = %v, want ErrNotFound", err)
	}
}

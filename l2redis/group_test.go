package l2redis_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/l2redis/internal/redistest"
)

// groupFixture is a Store and a publishing Bus on the devstack server whose
// first Apply script call is held until release is closed; scripts counts
// the script calls; events is another instance's view of the channel.
type groupFixture struct {
	s       *l2redis.Store
	pub     *l2redis.Bus
	events  <-chan busEvent
	prefix  string
	held    chan struct{} // closed once the first script call is held
	release chan struct{}
	scripts atomic.Int32
}

func newGroupFixture(t *testing.T) *groupFixture {
	t.Helper()
	c := redistest.Client(t)
	s, prefix, pub, events := publisherFixture(t, c)
	f := &groupFixture{s: s, pub: pub, events: events, prefix: prefix, held: make(chan struct{}), release: make(chan struct{})}
	l2redis.SetBeforeApplyScript(s, func() {
		if f.scripts.Add(1) == 1 {
			close(f.held)
			<-f.release
		}
	})
	return f
}

// put is one Set's upkeep: a put of key's value and a message naming key.
func (f *groupFixture) put(ctx context.Context, key string) error {
	ch := []l2redis.Change{{Key: f.prefix + key, Value: []byte("v-" + key), TTL: time.Minute}}
	return f.s.Apply(ctx, f.pub, ch, "", l2redis.OpSet, "s", key)
}

// async runs f.put(ctx, key) on a goroutine; its result comes on the
// returned channel.
func (f *groupFixture) async(ctx context.Context, key string) <-chan error {
	done := make(chan error, 1)
	go func() { done <- f.put(ctx, key) }()
	return done
}

// waitQueued waits until n calls are queued behind the held script.
func (f *groupFixture) waitQueued(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); l2redis.QueuedApplies(f.s) != n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d Apply calls queued behind the held script after 20s, want %d (script calls so far: %d)", l2redis.QueuedApplies(f.s), n, f.scripts.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

// message returns the next message the other instance receives, failing
// on anything else.
func (f *groupFixture) message(t *testing.T) l2redis.Invalidation {
	t.Helper()
	ev := next(t, f.events, 10*time.Second)
	if ev.msg == nil {
		t.Fatalf("bus event = OnResubscribe(%+v), want a message", ev.resub)
	}
	slices.Sort(ev.msg.IDs)
	return *ev.msg
}

func (f *groupFixture) get(t *testing.T, key string) string {
	t.Helper()
	b, err := f.s.Get(testCtx(t), f.prefix+key)
	if errors.Is(err, l2redis.ErrNotFound) {
		return "(absent)"
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestApplyCallsQueuedWhileOneIsInFlightGoAsOneScript: while one write's
// upkeep is in flight, the upkeep of the writes that arrive go as one
// script call with one message naming all their ids, and each call returns
// only after that script has been answered; a call with bad input is
// refused alone, at once.
func TestApplyCallsQueuedWhileOneIsInFlightGoAsOneScript(t *testing.T) {
	t.Parallel()
	f := newGroupFixture(t)
	ctx := testCtx(t)
	first := f.async(ctx, "k0")
	<-f.held
	var queued []<-chan error
	for i := 1; i <= 4; i++ {
		queued = append(queued, f.async(ctx, fmt.Sprintf("k%d", i)))
	}
	f.waitQueued(t, 4)
	bad := f.s.Apply(ctx, f.pub, []l2redis.Change{{Key: f.prefix + "bad", Value: []byte(l2redis.LeaseMagic + "x")}}, "", l2redis.OpSet, "s", "bad")
	if !errors.Is(bad, l2redis.ErrReservedValue) {
		t.Fatalf("Apply of a reserved value while a script is in flight = %v, want ErrReservedValue at once", bad)
	}
	for i, done := range queued {
		select {
		case err := <-done:
			t.Fatalf("queued call k%d returned (%v) before its script was sent", i+1, err)
		default:
		}
	}
	close(f.release)
	for i, done := range append([]<-chan error{first}, queued...) {
		if err := <-done; err != nil {
			t.Fatalf("Apply k%d: %v", i, err)
		}
		if got, want := f.get(t, fmt.Sprintf("k%d", i)), fmt.Sprintf("v-k%d", i); got != want {
			t.Errorf("k%d after Apply returned = %q, want %q", i, got, want)
		}
	}
	if got := f.get(t, "bad"); got != "(absent)" {
		t.Errorf("the refused call's key holds %q", got)
	}
	if n := f.scripts.Load(); n != 2 {
		t.Errorf("%d script calls for 5 writes (1 in flight, 4 queued behind it), want 2", n)
	}
	m1, m2 := f.message(t), f.message(t)
	want := []l2redis.Invalidation{
		{Schema: "s", IDs: []string{"k0"}, Op: l2redis.OpSet, Source: f.pub.InstanceID(), Seq: m1.Seq},
		{Schema: "s", IDs: []string{"k1", "k2", "k3", "k4"}, Op: l2redis.OpSet, Source: f.pub.InstanceID(), Seq: m1.Seq + 1},
	}
	if diff := cmp.Diff(want, []l2redis.Invalidation{m1, m2}); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

// TestApplyBatchErrorReachesEveryCallItCarriedAndNoOther: a batch's script
// that fails fails every call it carried — any of their changes may or may
// not be done — and no other call; subscribers see a sequence gap at the
// next message, as for any failed publish.
func TestApplyBatchErrorReachesEveryCallItCarriedAndNoOther(t *testing.T) {
	t.Parallel()
	f := newGroupFixture(t)
	ctx := testCtx(t)
	c := redistest.Client(t)
	if err := c.HSet(ctx, f.prefix+"hash", "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	first := f.async(ctx, "k0")
	<-f.held
	good := f.async(ctx, "k1")
	f.waitQueued(t, 1)
	wrong := make(chan error, 1)
	go func() { // a refresh reads the key: WRONGTYPE fails the script
		ch := []l2redis.Change{{Key: f.prefix + "hash", Value: l2redis.Versioned(1, []byte("x")), Refresh: true}}
		wrong <- f.s.Apply(ctx, f.pub, ch, "", l2redis.OpSet, "s", "hash")
	}()
	f.waitQueued(t, 2)
	close(f.release)
	if err := <-first; err != nil {
		t.Fatalf("the call in flight before the failing batch: %v", err)
	}
	for name, done := range map[string]<-chan error{"k1": good, "hash": wrong} {
		if err := <-done; err == nil {
			t.Errorf("Apply %s, carried by the failing script, returned nil", name)
		}
	}
	if err := f.put(ctx, "k2"); err != nil {
		t.Fatalf("Apply after the failed batch: %v", err)
	}
	if m := f.message(t); !slices.Equal(m.IDs, []string{"k0"}) {
		t.Fatalf("first message names %v, want [k0]", m.IDs)
	}
	if ev := next(t, f.events, 10*time.Second); ev.resub == nil || ev.resub.Reason != l2redis.SequenceGap {
		t.Fatalf("after the failed batch the subscriber saw %+v / %+v, want a sequence gap", ev.msg, ev.resub)
	}
	if m := f.message(t); !slices.Equal(m.IDs, []string{"k2"}) {
		t.Fatalf("message after the gap names %v, want [k2]", m.IDs)
	}
}

// TestApplyQueuedCallWhoseContextEndsIsWithdrawn: a queued call whose
// context ends before its batch leaves returns the context's error and
// nothing of it is sent; the others of its batch go as usual.
func TestApplyQueuedCallWhoseContextEndsIsWithdrawn(t *testing.T) {
	t.Parallel()
	f := newGroupFixture(t)
	ctx := testCtx(t)
	first := f.async(ctx, "k0")
	<-f.held
	short, cancel := context.WithCancel(ctx)
	gone := f.async(short, "gone")
	f.waitQueued(t, 1)
	stays := f.async(ctx, "k1")
	f.waitQueued(t, 2)
	cancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Fatalf("queued Apply whose context was cancelled = %v, want context.Canceled", err)
	}
	f.waitQueued(t, 1)
	close(f.release)
	var wg sync.WaitGroup
	for _, done := range []<-chan error{first, stays} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := f.get(t, "gone"); got != "(absent)" {
		t.Errorf("the withdrawn call's key holds %q", got)
	}
	if got := f.get(t, "k1"); got != "v-k1" {
		t.Errorf("k1 = %q, want v-k1", got)
	}
	f.message(t)
	if m := f.message(t); !slices.Equal(m.IDs, []string{"k1"}) {
		t.Errorf("the batch's message names %v, want [k1] (the withdrawn call's id left out)", m.IDs)
	}
}

// TestApplyBatchKeepsTheNewerOfTwoRefreshesOfOneKey: two writers of one
// key whose refreshes share a batch in the opposite order to their commits
// leave the newer version, as two script calls would.
func TestApplyBatchKeepsTheNewerOfTwoRefreshesOfOneKey(t *testing.T) {
	t.Parallel()
	f := newGroupFixture(t)
	ctx := testCtx(t)
	if err := f.s.Set(ctx, f.prefix+"row", l2redis.Versioned(4, []byte("v4")), time.Minute); err != nil {
		t.Fatal(err)
	}
	refresh := func(ver uint64) <-chan error {
		done := make(chan error, 1)
		go func() {
			ch := []l2redis.Change{{Key: f.prefix + "row", Value: l2redis.Versioned(ver, []byte(fmt.Sprintf("v%d", ver))), TTL: time.Minute, Refresh: true}}
			done <- f.s.Apply(ctx, f.pub, ch, "", l2redis.OpSet, "s", "row")
		}()
		return done
	}
	first := f.async(ctx, "k0")
	<-f.held
	newer := refresh(6)
	f.waitQueued(t, 1)
	older := refresh(5)
	f.waitQueued(t, 2)
	close(f.release)
	for _, done := range []<-chan error{first, newer, older} {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	b, ver, err := f.s.GetVersioned(ctx, f.prefix+"row")
	if err != nil || ver != 6 || string(b) != "v6" {
		t.Fatalf("after both refreshes the key holds %q at version %d (%v), want v6 at 6", b, ver, err)
	}
	if n := f.scripts.Load(); n != 2 {
		t.Errorf("%d script calls, want 2 (the two refreshes in one)", n)
	}
}

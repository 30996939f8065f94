package l2redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/l2redis"
)

// TestInvalidate checks a write's upkeep on every topology: the keys are
// gone, the generation advances only once its counter exists, the messages
// arrive numbered 1, 2, … in order, and a publish that failed shows as a
// gap at the next message.
func TestInvalidate(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, c redis.UniversalClient) {
		ctx := testCtx(t)
		s, prefix, pub, events := publisherFixture(t, c)
		ns := prefix + "ns"
		keys := []string{prefix + "a", prefix + "b", prefix + "c"} // several slots on a cluster
		for _, k := range keys {
			if err := s.Set(ctx, k, []byte("v"), time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		msg := func(seq uint64, ids ...string) l2redis.Invalidation {
			return l2redis.Invalidation{Schema: "s", IDs: ids, Op: l2redis.OpSet, Source: pub.InstanceID(), Seq: seq}
		}

		if err := s.Invalidate(ctx, pub, keys, ns, l2redis.OpSet, "s", "a", "b", "c"); err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if _, err := s.Get(ctx, k); err != l2redis.ErrNotFound {
				t.Errorf("Get(%s) after Invalidate = %v, want ErrNotFound", k, err)
			}
		}
		wantMsg(t, events, msg(1, "a", "b", "c"))
		g, err := s.Generation(ctx, ns) // creates the counter: nothing advanced it
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Invalidate(ctx, pub, keys[:1], ns, l2redis.OpSet, "s", "a"); err != nil {
			t.Fatal(err)
		}
		if g2, err := s.Generation(ctx, ns); err != nil || g2 != g+1 {
			t.Errorf("generation after Invalidate = %d (%v), want %d", g2, err, g+1)
		}
		wantMsg(t, events, msg(2, "a"))

		gone, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Invalidate(gone, pub, keys[:1], ns, l2redis.OpSet, "s", "a"); err == nil {
			t.Fatal("Invalidate with a cancelled context succeeded")
		}
		if err := pub.Publish(ctx, l2redis.OpSet, "s", "b"); err != nil {
			t.Fatal(err)
		}
		ev := next(t, events, 5*time.Second)
		want := l2redis.ResubscribeEvent{Reason: l2redis.SequenceGap, Source: pub.InstanceID(), Expected: 3, Got: 4}
		if ev.resub == nil || *ev.resub != want {
			t.Fatalf("after a failed publish: event = %+v / %+v, want %+v", ev.msg, ev.resub, want)
		}
		wantMsg(t, events, msg(4, "b"))
	})
}

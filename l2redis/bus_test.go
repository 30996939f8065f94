package l2redis_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/l2redis/internal/redistest"
)

// busEvent is either a message or a resubscribe event, in the order the bus
// produced them.
type busEvent struct {
	msg   *l2redis.Invalidation
	resub *l2redis.ResubscribeEvent
}

// startBus starts a Bus on c that records what it sees, closed when t ends.
func startBus(t *testing.T, c redis.UniversalClient, opts l2redis.BusOptions) (*l2redis.Bus, <-chan busEvent) {
	t.Helper()
	events := make(chan busEvent, 100)
	opts.OnMessage = func(m l2redis.Invalidation) { events <- busEvent{msg: &m} }
	opts.OnResubscribe = func(ev l2redis.ResubscribeEvent) { events <- busEvent{resub: &ev} }
	b, err := l2redis.NewBus(c, &opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b, events
}

func next(t *testing.T, events <-chan busEvent, within time.Duration) busEvent {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(within):
		t.Fatalf("no bus event within %v", within)
		return busEvent{}
	}
}

func wantResub(t *testing.T, events <-chan busEvent, reason l2redis.ResubscribeReason, within time.Duration) {
	t.Helper()
	ev := next(t, events, within)
	if ev.resub == nil || ev.resub.Reason != reason {
		t.Fatalf("bus event = %+v / %+v, want OnResubscribe(%v)", ev.msg, ev.resub, reason)
	}
}

func wantMsg(t *testing.T, events <-chan busEvent, want l2redis.Invalidation) {
	t.Helper()
	ev := next(t, events, 5*time.Second)
	if ev.msg == nil {
		t.Fatalf("bus event = OnResubscribe(%+v), want message %+v", ev.resub, want)
	}
	if diff := cmp.Diff(want, *ev.msg); diff != "" {
		t.Fatalf("message (-want +got):\n%s", diff)
	}
}

func TestBusDelivers(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, c redis.UniversalClient) {
		ctx := testCtx(t)
		channel := "l2redis-test:bus:" + redistest.RandomID()
		a, aEvents := startBus(t, c, l2redis.BusOptions{Channel: channel, InstanceID: "instance-a"})
		b, bEvents := startBus(t, c, l2redis.BusOptions{Channel: channel})
		wantResub(t, aEvents, l2redis.Subscribed, 10*time.Second)
		wantResub(t, bEvents, l2redis.Subscribed, 10*time.Second)
		if err := b.WaitSubscribed(ctx); err != nil || b.Subscriptions() != 1 {
			t.Fatalf("WaitSubscribed = %v, Subscriptions = %d", err, b.Subscriptions())
		}

		if err := a.Publish(ctx, l2redis.OpSet, "players", "42", "43"); err != nil {
			t.Fatal(err)
		}
		if err := a.Publish(ctx, l2redis.OpFlush, "guilds"); err != nil {
			t.Fatal(err)
		}
		wantMsg(t, bEvents, l2redis.Invalidation{Schema: "players", IDs: []string{"42", "43"}, Op: l2redis.OpSet, Source: "instance-a", Seq: 1})
		wantMsg(t, bEvents, l2redis.Invalidation{Schema: "guilds", Op: l2redis.OpFlush, Source: "instance-a", Seq: 2})
		// a skips its own messages, b's message reaches a.
		if err := b.Publish(ctx, l2redis.OpDelete, "players", "7"); err != nil {
			t.Fatal(err)
		}
		wantMsg(t, aEvents, l2redis.Invalidation{Schema: "players", IDs: []string{"7"}, Op: l2redis.OpDelete, Source: b.InstanceID(), Seq: 1})
		// A burst arrives complete, in order, without gap reports.
		for i := range 100 {
			if err := a.Publish(ctx, l2redis.OpDelete, "burst", strconv.Itoa(i)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 100 {
			wantMsg(t, bEvents, l2redis.Invalidation{Schema: "burst", IDs: []string{strconv.Itoa(i)}, Op: l2redis.OpDelete, Source: "instance-a", Seq: uint64(3 + i)})
		}
		if a.Channel() != channel {
			t.Errorf("Channel() = %q", a.Channel())
		}
	})
}

func TestBusDeliverOwn(t *testing.T) {
	t.Parallel()
	c := redistest.Client(t)
	ctx := testCtx(t)
	a, events := startBus(t, c, l2redis.BusOptions{Channel: "l2redis-test:bus:" + redistest.RandomID(), DeliverOwn: true})
	wantResub(t, events, l2redis.Subscribed, 10*time.Second)
	if err := a.Publish(ctx, l2redis.OpSet, "s", "1"); err != nil {
		t.Fatal(err)
	}
	wantMsg(t, events, l2redis.Invalidation{Schema: "s", IDs: []string{"1"}, Op: l2redis.OpSet, Source: a.InstanceID(), Seq: 1})
}

// TestBusReportsGaps publishes, through the raw client, messages whose
// sequence skips and one that cannot be decoded.
func TestBusReportsGaps(t *testing.T) {
	t.Parallel()
	c := redistest.Client(t)
	ctx := testCtx(t)
	channel := "l2redis-test:bus:" + redistest.RandomID()
	_, events := startBus(t, c, l2redis.BusOptions{Channel: channel})
	wantResub(t, events, l2redis.Subscribed, 10*time.Second)

	publish := func(src string, seq uint64) l2redis.Invalidation {
		m := l2redis.Invalidation{Schema: "s", IDs: []string{"1"}, Op: l2redis.OpSet, Source: src, Seq: seq}
		b, _ := m.MarshalBinary()
		if err := c.Publish(ctx, channel, b).Err(); err != nil {
			t.Fatal(err)
		}
		return m
	}
	wantMsg(t, events, publish("x", 5)) // first from a source: no gap
	wantMsg(t, events, publish("y", 1))
	wantMsg(t, events, publish("x", 6))
	m := publish("x", 9) // 7 and 8 were lost
	ev := next(t, events, 5*time.Second)
	want := l2redis.ResubscribeEvent{Reason: l2redis.SequenceGap, Source: "x", Expected: 7, Got: 9}
	if ev.resub == nil || *ev.resub != want {
		t.Fatalf("event = %+v / %+v, want %+v", ev.msg, ev.resub, want)
	}
	wantMsg(t, events, m) // the message itself still arrives, after the gap report
	wantMsg(t, events, publish("y", 2))

	if err := c.Publish(ctx, channel, "garbage").Err(); err != nil {
		t.Fatal(err)
	}
	wantResub(t, events, l2redis.Unreadable, 5*time.Second)
}

// TestBusResubscribes disrupts a private redis-server in the ways a
// subscriber meets in production and checks that after each one Redis
// acknowledges a new subscription, OnResubscribe fires, and messages flow
// again.
func TestBusResubscribes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		disrupt func(t *testing.T, srv *redistest.Server, admin *redis.Client)
	}{
		{name: "client kill type pubsub", disrupt: func(t *testing.T, _ *redistest.Server, admin *redis.Client) {
			if err := admin.ClientKillByFilter(context.Background(), "TYPE", "pubsub").Err(); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "server restart", disrupt: func(t *testing.T, srv *redistest.Server, _ *redis.Client) {
			srv.Stop()
			time.Sleep(300 * time.Millisecond)
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "unresponsive server", disrupt: func(t *testing.T, _ *redistest.Server, admin *redis.Client) {
			// The connection stays open but nothing answers: only the
			// health check can notice.
			if err := admin.Do(context.Background(), "CLIENT", "PAUSE", 600, "ALL").Err(); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.StartServer(t)
			c := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: 5})
			admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
			t.Cleanup(func() { _ = c.Close(); _ = admin.Close() })
			channel := "l2redis-test:bus:" + redistest.RandomID()
			pub, _ := startBus(t, c, l2redis.BusOptions{Channel: channel, InstanceID: "pub"})
			_, events := startBus(t, c, l2redis.BusOptions{
				Channel:             channel,
				HealthCheckInterval: 100 * time.Millisecond,
				MinBackoff:          10 * time.Millisecond,
				MaxBackoff:          100 * time.Millisecond,
			})
			wantResub(t, events, l2redis.Subscribed, 10*time.Second)
			for round := 1; round <= 2; round++ {
				tt.disrupt(t, srv, admin)
				wantResub(t, events, l2redis.Resubscribed, 15*time.Second)
				ctx := testCtx(t)
				publish := func() {
					if err := pub.Publish(ctx, l2redis.OpSet, "s", "after"); err != nil {
						t.Fatalf("round %d: Publish: %v", round, err)
					}
				}
				publish()
				// On a loaded machine the health check can fire once more
				// while the new subscription settles (the paused server
				// answers late): the bus then resubscribes again, and says
				// so, and a message published in between may be lost — which
				// is what the event is for. Publish again after each one.
				deadline := time.Now().Add(15 * time.Second)
				for {
					ev := next(t, events, time.Until(deadline))
					if ev.msg != nil {
						if ev.msg.IDs[0] != "after" {
							t.Fatalf("round %d: message after resubscribe = %+v, want the new one", round, ev.msg)
						}
						break
					}
					if ev.resub == nil || ev.resub.Reason != l2redis.Resubscribed {
						t.Fatalf("round %d: event after resubscribe = %+v, want the new message or another resubscription", round, ev.resub)
					}
					publish()
				}
			}
		})
	}
}

// TestBusStartsWhileRedisDown starts a Bus before its server exists: start-up
// must not fail, and the first subscription completes once Redis is up.
func TestBusStartsWhileRedisDown(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	srv.Stop()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	b, events := startBus(t, c, l2redis.BusOptions{
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		BreakerCooldown: 100 * time.Millisecond,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := b.WaitSubscribed(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitSubscribed with Redis down = %v, want DeadlineExceeded", err)
	}
	for i := range 3 {
		if err := b.Publish(context.Background(), l2redis.OpSet, "s", "1"); !errors.Is(err, l2redis.ErrUnavailable) {
			t.Errorf("Publish %d with Redis down = %v, want ErrUnavailable", i, err)
		}
	}
	// Publish's breaker is open now: it fails at once.
	start := time.Now()
	if err := b.Publish(context.Background(), l2redis.OpSet, "s", "1"); !errors.Is(err, l2redis.ErrBreakerOpen) {
		t.Errorf("Publish after 3 failures = %v, want ErrBreakerOpen", err)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("Publish with the breaker open took %v", d)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	wantResub(t, events, l2redis.Subscribed, 10*time.Second)
	// Past the cool-down the breaker lets a probe through, and it succeeds.
	time.Sleep(150 * time.Millisecond)
	if err := b.Publish(context.Background(), l2redis.OpSet, "s", "2"); err != nil {
		t.Errorf("Publish after recovery = %v", err)
	}
}

func TestBusClose(t *testing.T) {
	t.Parallel()
	// No server needed: the bus only retries against a closed port.
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	b, err := l2redis.NewBus(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Channel() != l2redis.DefaultChannel || len(b.InstanceID()) != 16 {
		t.Errorf("defaults: channel %q, instance %q", b.Channel(), b.InstanceID())
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := b.Publish(context.Background(), l2redis.OpSet, "s", "1"); !errors.Is(err, l2redis.ErrClosed) {
		t.Errorf("Publish after Close = %v, want ErrClosed", err)
	}
	if err := b.WaitSubscribed(context.Background()); !errors.Is(err, l2redis.ErrClosed) {
		t.Errorf("WaitSubscribed after Close = %v, want ErrClosed", err)
	}
}

func TestNewBusErrors(t *testing.T) {
	t.Parallel()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = c.Close() })
	tests := []struct {
		name   string
		client redis.UniversalClient
		opts   *l2redis.BusOptions
		want   error
	}{
		{"nil client", nil, nil, l2redis.ErrNilClient},
		{"health check too short", c, &l2redis.BusOptions{HealthCheckInterval: time.Millisecond}, l2redis.ErrInvalidOptions},
		{"backoff inverted", c, &l2redis.BusOptions{MinBackoff: time.Second, MaxBackoff: time.Millisecond}, l2redis.ErrInvalidOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := l2redis.NewBus(tt.client, tt.opts); !errors.Is(err, tt.want) {
				t.Errorf("NewBus error = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestBusPublishConcurrentSafe publishes from several goroutines through one
// Bus: subscribers must still see its sequence numbers in order, so no
// spurious gap is reported.
func TestBusPublishConcurrentSafe(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, c redis.UniversalClient) {
		ctx := testCtx(t)
		channel := "l2redis-test:bus:" + redistest.RandomID()
		a, _ := startBus(t, c, l2redis.BusOptions{Channel: channel})
		_, events := startBus(t, c, l2redis.BusOptions{Channel: channel})
		wantResub(t, events, l2redis.Subscribed, 10*time.Second)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 50 {
					if err := a.Publish(ctx, l2redis.OpSet, "s", strconv.Itoa(g*100+i)); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		for want := uint64(1); want <= 200; want++ {
			ev := next(t, events, 5*time.Second)
			if ev.msg == nil || ev.msg.Seq != want {
				t.Fatalf("event %d = %+v / %+v, want the message with that sequence number", want, ev.msg, ev.resub)
			}
		}
	})
}

// TestBusLiveTracksTheSubscription checks Live over a bus's life on a
// private server: false until the first subscription's OnResubscribe has
// returned, false within the documented bound (2 × HealthCheckInterval)
// after the server stops answering, with OnLost told once, true again after
// the resubscription, and false after Close.
func TestBusLiveTracksTheSubscription(t *testing.T) {
	t.Parallel()
	const interval = 100 * time.Millisecond
	srv := redistest.StartServer(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = c.Close(); _ = admin.Close() })
	var (
		bus          *l2redis.Bus
		liveInNotify = make(chan bool, 10)
		lost         = make(chan error, 10)
	)
	ready := make(chan struct{})
	bus, err := l2redis.NewBus(c, &l2redis.BusOptions{
		Channel:             "l2redis-test:bus:" + redistest.RandomID(),
		HealthCheckInterval: interval,
		MinBackoff:          10 * time.Millisecond,
		MaxBackoff:          50 * time.Millisecond,
		OnResubscribe: func(l2redis.ResubscribeEvent) {
			<-ready
			liveInNotify <- bus.Live()
		},
		OnLost: func(err error) { lost <- err },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bus.Close() })
	if bus.Live() {
		t.Fatal("Live before the first subscription")
	}
	close(ready)
	if err := bus.WaitSubscribed(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if <-liveInNotify {
		t.Error("Live was true inside OnResubscribe: a cache would serve entries it has not dropped yet")
	}
	if !bus.Live() {
		t.Fatal("not Live after the first subscription")
	}

	// A server that stops answering: only the health check can notice.
	start := time.Now()
	if err := admin.Do(context.Background(), "CLIENT", "PAUSE", 1500, "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	for bus.Live() {
		if time.Since(start) > 5*time.Second {
			t.Fatal("still Live 5s after the server stopped answering")
		}
		time.Sleep(2 * time.Millisecond)
	}
	detected := time.Since(start)
	// 2 intervals, plus slack for the goroutine's wake-up on a busy machine.
	if bound := 2*interval + 250*time.Millisecond; detected > bound {
		t.Errorf("Live turned false %v after the server stopped answering; documented bound 2 × %v", detected, interval)
	}
	t.Logf("silent loss noticed after %v (bound 2 × %v)", detected, interval)
	select {
	case err := <-lost:
		if err == nil {
			t.Error("OnLost got a nil error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnLost was not called")
	}
	waitLive := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !bus.Live() {
			if time.Now().After(deadline) {
				t.Fatalf("not Live 10s after %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitLive("the pause ended")
	if <-liveInNotify {
		t.Error("Live was true inside OnResubscribe after the resubscription")
	}

	// A server that goes away: the failed connection is noticed at once.
	start = time.Now()
	srv.Stop()
	for bus.Live() {
		if time.Since(start) > 5*time.Second {
			t.Fatal("still Live 5s after the server stopped")
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Logf("closed connection noticed after %v", time.Since(start))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	waitLive("the server restarted")
	if got := len(lost); got != 1 {
		t.Errorf("OnLost calls for the stop = %d, want 1 (once per loss)", got)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
	if bus.Live() {
		t.Error("Live after Close")
	}
}

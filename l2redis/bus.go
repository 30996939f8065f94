package l2redis

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ResubscribeReason says why a [Bus] called OnResubscribe.
type ResubscribeReason uint8

const (
	// Subscribed: Redis acknowledged the bus's first subscription.
	Subscribed ResubscribeReason = iota + 1
	// Resubscribed: Redis acknowledged a subscription made again after the
	// connection was lost; messages published meanwhile were not received.
	Resubscribed
	// SequenceGap: a source's sequence number skipped, so at least one of
	// its messages was not received (or its Publish failed).
	SequenceGap
	// Unreadable: a message on the channel could not be decoded, so what it
	// invalidated is unknown.
	Unreadable
)

// String returns the reason's name.
func (r ResubscribeReason) String() string {
	switch r {
	case Subscribed:
		return "subscribed"
	case Resubscribed:
		return "resubscribed"
	case SequenceGap:
		return "sequence-gap"
	case Unreadable:
		return "unreadable"
	}
	return "unknown"
}

// ResubscribeEvent is what OnResubscribe receives.
type ResubscribeEvent struct {
	Reason ResubscribeReason
	// Source, Expected and Got describe a SequenceGap: the instance whose
	// sequence skipped, the number that was due and the one that came.
	Source   string
	Expected uint64
	Got      uint64
}

// maxSources bounds how many publishers' sequence numbers a Bus tracks; past
// it the table is cleared (an instance restarted with a fresh InstanceID is
// a new source, so old entries would otherwise pile up).
const maxSources = 1 << 16

// Bus publishes and receives invalidation messages on one pub/sub channel.
//
// The subscriber runs on a goroutine of its own, over a dedicated
// connection from the client, from NewBus until Close. It pings the
// connection after HealthCheckInterval without traffic and replaces it if the
// ping goes unanswered, subscribes again (with backoff) whenever the
// connection is lost, and calls OnResubscribe after Redis acknowledges each
// subscription.
//
// [Bus.Live] tells a caching layer whether it can hear invalidations right
// now; see it for the detection bound.
type Bus struct {
	c     redis.UniversalClient
	opt   BusOptions
	pubMu sync.Mutex // serialises publishLocked
	seq   atomic.Uint64
	// seqKey is the Redis counter that numbers this bus's messages (see
	// applyScript); skip counts publishes that failed since the last
	// one that succeeded, so the next number skips them and subscribers see
	// a gap.
	seqKey string
	skip   atomic.Uint64
	brk    breaker      // Publish's
	acks   atomic.Int64 // subscriptions Redis has acknowledged
	live   atomic.Bool  // see Live
	first  chan struct{}

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	ps     *redis.PubSub
	closed bool

	// sources maps a publisher's InstanceID to the last sequence number
	// received from it; only the subscriber goroutine touches it.
	sources map[string]uint64
}

// NewBus starts a Bus on client with opts (nil means defaults). It returns at
// once; the first subscription completes in the background (see
// [Bus.WaitSubscribed]), so a Redis that is down does not stop start-up.
func NewBus(client redis.UniversalClient, opts *BusOptions) (*Bus, error) {
	if client == nil {
		return nil, ErrNilClient
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Bus{
		c:       client,
		opt:     o,
		first:   make(chan struct{}),
		ctx:     ctx,
		cancel:  cancel,
		done:    make(chan struct{}),
		sources: make(map[string]uint64),
		brk:     newBreaker(o.BreakerFailures, o.BreakerCooldown),
		seqKey:  seqKeyFor(o.Channel, o.InstanceID),
	}
	go b.run()
	return b, nil
}

// InstanceID returns the ID this Bus puts in the messages it publishes.
func (b *Bus) InstanceID() string { return b.opt.InstanceID }

// Channel returns the pub/sub channel of the Bus.
func (b *Bus) Channel() string { return b.opt.Channel }

// Subscriptions returns how many subscriptions Redis has acknowledged so far:
// one for the first, one more per resubscription.
func (b *Bus) Subscriptions() int64 { return b.acks.Load() }

// Live reports whether the subscription is known to be working: true from
// the moment OnResubscribe has returned for an acknowledged subscription
// until the subscriber notices that its connection is lost, then false
// until the next acknowledged subscription's OnResubscribe has returned
// (and after Close). While it is false, messages published by other
// instances may be missed, so a cache kept coherent by this bus must not
// be trusted.
//
// The loss is noticed at once when the connection fails (closed, reset,
// refused) and, when it goes silent instead (a frozen server, a network
// that drops packets), at most 2 × [BusOptions.HealthCheckInterval] after
// the last reply the subscriber received: the bound between an outage's
// start and Live turning false, plus the subscriber goroutine's
// scheduling delay.
//
// Live is one atomic load: cheap enough for a cache's hit path.
func (b *Bus) Live() bool { return b.live.Load() }

// WaitSubscribed blocks until Redis has acknowledged the first subscription
// (and OnResubscribe has returned for it), ctx ends, or the Bus is closed.
func (b *Bus) WaitSubscribed(ctx context.Context) error {
	select {
	case <-b.first:
		return nil
	case <-b.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Publish sends one message naming ids of schema, stamped with this Bus's
// InstanceID and next sequence number. A Publish that fails makes the next
// one skip a number, so subscribers see a gap and resynchronise.
//
// The number comes from a counter in Redis (strata:#seq:{channel}:instance,
// expiring a week after its last use), incremented by the same script that
// publishes, so messages reach subscribers in sequence order without
// Publish calls waiting for each other; on a cluster the script runs on the
// master of the channel's hash slot, the node cluster subscribers listen
// on, since a cluster may reorder messages published on different nodes.
// Name many ids in one call rather than making many calls.
func (b *Bus) Publish(ctx context.Context, op Op, schema string, ids ...string) error {
	if schema == "" {
		return ErrEmptyKey
	}
	if b.ctx.Err() != nil {
		return ErrClosed
	}
	if b.seqKey == "" {
		return b.publishLocked(ctx, op, schema, ids)
	}
	head, tail, err := b.message(op, schema, ids)
	if err != nil {
		return err // checked before a sequence number is used up
	}
	if err := b.brk.allow(); err != nil {
		b.skip.Add(1)
		return err
	}
	skip := b.skip.Swap(0)
	err = applyScript.Run(ctx, b.c, []string{b.seqKey, b.seqKey},
		"0", "1", b.opt.Channel, head, tail, strconv.FormatUint(skip, 10), seqTTLSeconds, versionMagic, versionHeaderLen).Err()
	if err != nil {
		b.skip.Add(skip + 1) // subscribers see a gap at the next message
	}
	return b.brk.result(ctx, err)
}

// publishLocked publishes with a sequence number of the client's own,
// holding a lock across the round trip to keep the numbers in order; only
// for a cluster channel whose slot no key can share (see seqKeyFor).
func (b *Bus) publishLocked(ctx context.Context, op Op, schema string, ids []string) error {
	msg := Invalidation{Schema: schema, IDs: ids, Op: op, Source: b.opt.InstanceID}
	if _, err := msg.MarshalBinary(); err != nil {
		return err // checked before a sequence number is used up
	}
	b.pubMu.Lock()
	defer b.pubMu.Unlock()
	msg.Seq = b.seq.Add(1)
	if err := b.brk.allow(); err != nil {
		return err
	}
	payload, _ := msg.MarshalBinary()
	var target redis.Cmdable = b.c
	if cc, ok := b.c.(*redis.ClusterClient); ok {
		node, err := cc.MasterForKey(ctx, b.opt.Channel)
		if err != nil {
			return b.brk.result(ctx, err)
		}
		target = node
	}
	return b.brk.result(ctx, target.Publish(ctx, b.opt.Channel, payload).Err())
}

// Close stops the subscriber and waits for its goroutine to end. It does not
// close the client. Calling it again does nothing.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	ps := b.ps
	b.mu.Unlock()
	b.live.Store(false)
	b.cancel()
	if ps != nil {
		_ = ps.Close() // interrupts a blocked receive
	}
	<-b.done
	return nil
}

// run is the subscriber loop.
func (b *Bus) run() {
	defer close(b.done)
	var (
		backoff  = b.opt.MinBackoff
		pingSent bool
		ps       = b.renew(nil)
	)
	for {
		msg, err := ps.ReceiveTimeout(b.ctx, b.opt.HealthCheckInterval)
		if b.ctx.Err() != nil {
			return
		}
		if err != nil {
			if isTimeout(err) {
				if pingSent {
					// Nothing, not even the PONG, for two intervals: the
					// connection is dead without having said so.
					b.lost(errSilent)
					ps = b.renew(ps)
					pingSent = false
				} else {
					pingSent = ps.Ping(b.ctx) == nil
				}
				continue
			}
			// The connection failed (go-redis reconnects and subscribes
			// again on the next receive) or could not be made.
			b.lost(err)
			pingSent = false
			if !b.sleep(backoff) {
				return
			}
			backoff = min(2*backoff, b.opt.MaxBackoff)
			continue
		}
		pingSent = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" && m.Channel == b.opt.Channel {
				backoff = b.opt.MinBackoff
				b.acknowledged()
			}
		case *redis.Message:
			b.deliver(m.Payload)
		}
	}
}

// renew closes old (if any) and subscribes on a fresh PubSub, which Close
// will close if it has not already.
func (b *Bus) renew(old *redis.PubSub) *redis.PubSub {
	if old != nil {
		_ = old.Close()
	}
	ps := b.c.Subscribe(b.ctx, b.opt.Channel)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ps = ps
	if b.closed {
		_ = ps.Close()
	}
	return ps
}

func (b *Bus) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-b.ctx.Done():
		return false
	}
}

// errSilent is what OnLost receives for a connection that stopped answering.
var errSilent = errors.New("l2redis: bus: the subscription connection did not answer a PING within the health-check interval")

// lost marks the subscription as not live and, on the transition, tells
// OnLost.
func (b *Bus) lost(err error) {
	if b.live.Swap(false) && b.opt.OnLost != nil {
		b.opt.OnLost(err)
	}
}

// acknowledged handles Redis's acknowledgement of a subscription. Sequence
// tracking restarts: whatever was missed is covered by the callback, after
// which the bus is live.
func (b *Bus) acknowledged() {
	clear(b.sources)
	reason := Resubscribed
	if b.acks.Add(1) == 1 {
		reason = Subscribed
	}
	b.notify(ResubscribeEvent{Reason: reason})
	b.live.Store(true)
	if reason == Subscribed {
		close(b.first)
	}
}

func (b *Bus) deliver(payload string) {
	if !b.opt.DeliverOwn && sourceIs(payload, b.opt.InstanceID) {
		return // this instance's own message: nothing to decode or track
	}
	m, err := DecodeInvalidation([]byte(payload))
	if err != nil {
		b.notify(ResubscribeEvent{Reason: Unreadable})
		return
	}
	if m.Source == b.opt.InstanceID {
		if b.opt.DeliverOwn && b.opt.OnMessage != nil {
			b.opt.OnMessage(m)
		}
		return
	}
	last, seen := b.sources[m.Source]
	if seen && m.Seq != last+1 {
		b.notify(ResubscribeEvent{Reason: SequenceGap, Source: m.Source, Expected: last + 1, Got: m.Seq})
	}
	if !seen && len(b.sources) >= maxSources {
		clear(b.sources)
	}
	b.sources[m.Source] = m.Seq
	if b.opt.OnMessage != nil {
		b.opt.OnMessage(m)
	}
}

func (b *Bus) notify(ev ResubscribeEvent) {
	if b.opt.OnResubscribe != nil {
		b.opt.OnResubscribe(ev)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

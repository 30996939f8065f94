package l2redis

import (
	"context"

	"github.com/AndrewDonelson/strata/l2redis/internal/slot"
)

// seqTTLSeconds is how long a publisher's sequence counter outlives its last
// message. A counter that expired restarts at 1, which subscribers that still
// remember the publisher see as a gap: safe, at the cost of one resync.
const seqTTLSeconds = 7 * 24 * 3600

// Invalidate is the upkeep after a write, in one round trip on a standalone
// or Sentinel server: it UNLINKs keys, advances namespace's generation if
// its counter exists (namespace "" advances none), and, when bus is not nil,
// publishes bus's message naming ids of schema. bus must use the Store's
// client for the single round trip; otherwise the publish is a second one.
//
// On a cluster, where the keys, the counter and the channel hash to
// different slots, the UNLINKs run first (one pipeline), then the
// generation and the publish on the master of the channel's slot, so that
// an instance told by the message no longer finds the keys.
//
// An error means any part may or may not have happened: redo all of it.
func (s *Store) Invalidate(ctx context.Context, bus *Bus, keys []string, namespace string, op Op, schema string, ids ...string) error {
	changes := make([]Change, len(keys))
	for i, k := range keys {
		changes[i] = Change{Key: k}
	}
	return s.Apply(ctx, bus, changes, namespace, op, schema, ids...)
}

// noKey stands for a key the script is told not to touch.
const noKey = KeyRoot + ":" + ReservedMark + "none"

func orNoKey(k string) string {
	if k == "" {
		return noKey
	}
	return k
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// bumpIfExists advances namespace's generation only if its counter exists.
func (s *Store) bumpIfExists(ctx context.Context, namespace string) error {
	if err := s.brk.allow(); err != nil {
		return err
	}
	k := s.generationKey(namespace)
	err := applyScript.Run(ctx, s.c, []string{k, k}, "1", "0", "", "", "", "0", seqTTLSeconds, versionMagic, versionHeaderLen).Err()
	return s.result(ctx, err)
}

// message encodes the message naming ids of schema around its sequence
// number, which the publishing script fills in.
func (b *Bus) message(op Op, schema string, ids []string) (head, tail []byte, err error) {
	if err := b.canPublish(schema); err != nil {
		return nil, nil, err
	}
	msg := Invalidation{Schema: schema, IDs: ids, Op: op, Source: b.opt.InstanceID}
	full, err := msg.MarshalBinary() // Seq 0: one byte
	if err != nil {
		return nil, nil, err
	}
	return full[:2], full[3:], nil
}

// checkMessage is message's checks without the encoding: what a call
// whose message goes out merged with others' must pass on its own.
func (b *Bus) checkMessage(op Op, schema string, ids []string) error {
	if err := b.canPublish(schema); err != nil {
		return err
	}
	return Invalidation{Schema: schema, IDs: ids, Op: op, Source: b.opt.InstanceID}.check()
}

// canPublish is what message and checkMessage require before the message
// itself: a schema, and a bus that is not closed.
func (b *Bus) canPublish(schema string) error {
	if schema == "" {
		return ErrEmptyKey
	}
	if b.ctx.Err() != nil {
		return ErrClosed
	}
	return nil
}

// seqKeyFor names the sequence counter of instance on channel, in the
// channel's hash slot so that a cluster master can run the publishing
// script; "" when no key can share the channel's slot.
func seqKeyFor(channel, instance string) string {
	k := KeyRoot + ":" + ReservedMark + "seq:{" + slot.Tag(channel) + "}:" + instance
	if slot.Of(k) != slot.Of(channel) {
		return ""
	}
	return k
}

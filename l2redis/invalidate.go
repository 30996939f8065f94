package l2redis

import (
	"context"
	"errors"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/l2redis/internal/slot"
)

// invalidateScript is a write's whole Redis upkeep in one round trip:
//
//	KEYS[1]    generation counter; advanced only if it exists
//	KEYS[2]    the publisher's sequence counter
//	KEYS[3..]  record keys to UNLINK
//	ARGV[1]    "1" to advance the generation, "0" not to
//	ARGV[2]    "1" to publish, "0" not to
//	ARGV[3]    channel
//	ARGV[4]    the message's bytes before its sequence number
//	ARGV[5]    the message's bytes after it
//	ARGV[6]    sequence numbers to skip first (publishes that failed)
//	ARGV[7]    sequence counter TTL in seconds
//
// A generation counter that does not exist guards no cached result set
// (SearchCached creates it before it caches one), so there is nothing to
// advance. The sequence number comes from the counter, incremented in the
// same atomic script that publishes, so the messages of one publisher reach
// the channel in sequence order with no lock held in the client.
var invalidateScript = redis.NewScript(`
local n = 0
for i = 3, #KEYS, 500 do
  n = n + redis.call('UNLINK', unpack(KEYS, i, math.min(i + 499, #KEYS)))
end
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCR', KEYS[1])
end
if ARGV[2] == '1' then
  local seq = redis.call('INCRBY', KEYS[2], 1 + tonumber(ARGV[6]))
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[7]))
  local v, t = seq, {}
  while v >= 128 do
    t[#t + 1] = string.char(v % 128 + 128)
    v = math.floor(v / 128)
  end
  t[#t + 1] = string.char(v)
  redis.call('PUBLISH', ARGV[3], ARGV[4] .. table.concat(t) .. ARGV[5])
end
return n
`)

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
// different slots, the parts run concurrently: one UNLINK per slot in a
// pipeline, the generation, and the publish on the master of the channel's
// slot — one round trip of latency, several of work.
//
// An error means any part may or may not have happened: redo all of it.
func (s *Store) Invalidate(ctx context.Context, bus *Bus, keys []string, namespace string, op Op, schema string, ids ...string) error {
	for _, k := range keys {
		if k == "" {
			return ErrEmptyKey
		}
	}
	if bus != nil && (bus.c != s.c || s.cluster != nil) {
		return s.invalidateApart(ctx, bus, keys, namespace, op, schema, ids)
	}
	var head, tail []byte
	if bus != nil {
		var err error
		if head, tail, err = bus.message(op, schema, ids); err != nil {
			return err
		}
	}
	if err := s.brk.allow(); err != nil {
		if bus != nil {
			bus.skip.Add(1)
		}
		return err
	}
	skip, seqKey, channel := uint64(0), "", ""
	if bus != nil {
		skip, seqKey, channel = bus.skip.Swap(0), bus.seqKey, bus.opt.Channel
	}
	genKey := noKey
	if namespace != "" {
		genKey = s.generationKey(namespace)
	}
	all := make([]string, 0, 2+len(keys))
	all = append(all, genKey, orNoKey(seqKey))
	all = append(all, keys...)
	err := invalidateScript.Run(ctx, s.c, all,
		flag(namespace != ""), flag(bus != nil), channel, head, tail,
		strconv.FormatUint(skip, 10), seqTTLSeconds).Err()
	if err != nil && bus != nil {
		bus.skip.Add(skip + 1) // subscribers see a gap at the next message
	}
	return s.result(ctx, err)
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

// invalidateApart runs the three parts of Invalidate concurrently, for a
// cluster or a bus on another client.
func (s *Store) invalidateApart(ctx context.Context, bus *Bus, keys []string, namespace string, op Op, schema string, ids []string) error {
	var (
		wg         sync.WaitGroup
		e1, e2, e3 error
	)
	if len(keys) > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); _, e1 = s.DeleteMany(ctx, keys) }()
	}
	if namespace != "" {
		wg.Add(1)
		go func() { defer wg.Done(); e2 = s.bumpIfExists(ctx, namespace) }()
	}
	e3 = bus.Publish(ctx, op, schema, ids...)
	wg.Wait()
	return errors.Join(e1, e2, e3)
}

// bumpIfExists advances namespace's generation only if its counter exists.
func (s *Store) bumpIfExists(ctx context.Context, namespace string) error {
	if err := s.brk.allow(); err != nil {
		return err
	}
	k := s.generationKey(namespace)
	err := invalidateScript.Run(ctx, s.c, []string{k, k}, "1", "0", "", "", "", "0", seqTTLSeconds).Err()
	return s.result(ctx, err)
}

// message encodes the message naming ids of schema around its sequence
// number, which the publishing script fills in.
func (b *Bus) message(op Op, schema string, ids []string) (head, tail []byte, err error) {
	if schema == "" {
		return nil, nil, ErrEmptyKey
	}
	if b.ctx.Err() != nil {
		return nil, nil, ErrClosed
	}
	msg := Invalidation{Schema: schema, IDs: ids, Op: op, Source: b.opt.InstanceID}
	full, err := msg.MarshalBinary() // Seq 0: one byte
	if err != nil {
		return nil, nil, err
	}
	return full[:2], full[3:], nil
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

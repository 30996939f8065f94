package l2redis

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Change is one key's part of a write's upkeep for [Store.Apply].
type Change struct {
	// Key is the record key.
	Key string

	// Value nil removes the key (UNLINK), voiding any fill lease on it —
	// unless Below is set. Otherwise the key is set to Value, with TTL as
	// for Set.
	Value []byte

	// Below, with a nil Value, keeps a versioned value of version Below or
	// higher: the key is removed only if it holds anything else (an older
	// version, an unversioned value, a lease). An invalidation that knows
	// the version it stands for (a change feed's) thus never removes a
	// newer refresh.
	Below uint64

	// TTL is the time to live of Value: 0 means Options.DefaultTTL,
	// NoExpiry means none.
	TTL time.Duration

	// Refresh makes the change a refresh rather than a plain SET: Value
	// must be [Versioned], and it replaces only a versioned value of a
	// lower version. A value of the same or a higher version stays; a
	// value without a version, or a lease marker, is removed (the lease is
	// void); an absent key stays absent. A refresh therefore never creates
	// a key and never puts an older version over a newer one, whatever
	// order concurrent writers reach Redis in.
	Refresh bool
}

// applyScript is a write's whole Redis upkeep in one round trip: the
// changes, the generation, the message.
//
//	KEYS[1]    generation counter; advanced only if it exists
//	KEYS[2]    the publisher's sequence counter
//	KEYS[3..]  the changes' keys
//	ARGV[1]    "1" to advance the generation, "0" not to
//	ARGV[2]    "1" to publish, "0" not to
//	ARGV[3]    channel
//	ARGV[4]    the message's bytes before its sequence number
//	ARGV[5]    the message's bytes after it
//	ARGV[6]    sequence numbers to skip first (publishes that failed)
//	ARGV[7]    sequence counter TTL in seconds
//	ARGV[8]    versionMagic
//	ARGV[9]    the length of a version prefix
//	ARGV[10..] three per change: 'u' (unlink), 'p' (put), 'r' (refresh) or
//	           'b' (unlink unless versioned at or above), the value (for
//	           'b' the version's twenty digits), its PX in ms ('0': none)
//
// A refresh reads only the first ARGV[9] bytes of the stored value
// (GETRANGE), so its cost does not grow with the record. Versions are
// twenty zero-padded digits, so comparing them as strings compares them as
// numbers.
//
// A generation counter that does not exist guards no cached result set
// (SearchCached creates it before it caches one), so there is nothing to
// advance. The sequence number comes from the counter, incremented in the
// same atomic script that publishes, so the messages of one publisher reach
// the channel in sequence order with no lock held in the client.
var applyScript = redis.NewScript(`
local mg, hl = ARGV[8], tonumber(ARGV[9])
local function put(k, v, ms)
  if ms == '0' then redis.call('SET', k, v) else redis.call('SET', k, v, 'PX', ms) end
end
for i = 3, #KEYS do
  local a = 10 + (i - 3) * 3
  local k, mode, v, ms = KEYS[i], ARGV[a], ARGV[a + 1], ARGV[a + 2]
  if mode == 'u' then
    redis.call('UNLINK', k)
  elseif mode == 'p' then
    put(k, v, ms)
  else
    local cur = redis.call('GETRANGE', k, 0, hl - 1)
    local versioned = #cur == hl and string.sub(cur, 1, #mg) == mg
    if mode == 'b' then
      if not (versioned and string.sub(cur, #mg + 1) >= v) and (cur ~= '' or redis.call('EXISTS', k) == 1) then
        redis.call('UNLINK', k)
      end
    elseif versioned then
      if string.sub(cur, #mg + 1) < string.sub(v, #mg + 1, hl) then put(k, v, ms) end
    elseif cur ~= '' or redis.call('EXISTS', k) == 1 then
      redis.call('UNLINK', k)
    end
  end
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
return 0
`)

// applyKeyScript is one change of applyScript alone, for a cluster.
var applyKeyScript = redis.NewScript(`
local mg, hl, k, mode, v, ms = ARGV[1], tonumber(ARGV[2]), KEYS[1], ARGV[3], ARGV[4], ARGV[5]
local function put() if ms == '0' then redis.call('SET', k, v) else redis.call('SET', k, v, 'PX', ms) end end
if mode == 'u' then return redis.call('UNLINK', k) end
if mode == 'p' then put() return 1 end
local cur = redis.call('GETRANGE', k, 0, hl - 1)
local versioned = #cur == hl and string.sub(cur, 1, #mg) == mg
if mode == 'b' then
  if not (versioned and string.sub(cur, #mg + 1) >= v) and (cur ~= '' or redis.call('EXISTS', k) == 1) then
    redis.call('UNLINK', k)
  end
elseif versioned then
  if string.sub(cur, #mg + 1) < string.sub(v, #mg + 1, hl) then put() end
elseif cur ~= '' or redis.call('EXISTS', k) == 1 then
  redis.call('UNLINK', k)
end
return 1
`)

// Apply is [Store.Invalidate] with a change per key instead of a plain
// UNLINK: a write's whole Redis upkeep — removals, plain sets (a schema
// whose truth is Redis), version-guarded refreshes (see [Change.Refresh]),
// the generation of namespace if its counter exists, and bus's message —
// in one round trip on a standalone or Sentinel server. On a cluster the
// changes run first (one pipeline), then the generation and the message,
// so another instance told by the message reads the changed keys.
//
// Concurrent calls that publish the same message (one bus, op and schema)
// and advance the same generation share script calls on a standalone or
// Sentinel server: a call made while another's script is in flight waits
// for it, and then every call that arrived meanwhile goes in one script
// call (their changes in arrival order, one generation advance, one
// message naming all their ids). A call never waits for others to arrive,
// and returns only once the script carrying its own changes has been
// answered; see group.go.
//
// An error means any part may or may not have happened.
func (s *Store) Apply(ctx context.Context, bus *Bus, changes []Change, namespace string, op Op, schema string, ids ...string) error {
	// all: applyScript's two fixed keys, set below, then the changes' keys;
	// argv: its fixed arguments, set below, then three per change.
	all := make([]string, 2, 2+len(changes))
	argv := make([]any, applyFixedArgs, applyFixedArgs+3*len(changes))
	for _, c := range changes {
		if c.Key == "" {
			return ErrEmptyKey
		}
		all = append(all, c.Key)
		if c.Value == nil && c.Below > 0 {
			argv = append(argv, "b", versionDigitsOf(c.Below), "0")
			continue
		}
		if c.Value == nil {
			argv = append(argv, "u", "", "0")
			continue
		}
		if isLeaseMarker(c.Value) {
			return ErrReservedValue
		}
		mode := argPut
		if c.Refresh {
			if _, _, ok := SplitVersion(c.Value); !ok {
				return ErrUnversionedValue
			}
			mode = argRefresh
		}
		exp, err := s.expiry(c.TTL)
		if err != nil {
			return err
		}
		argv = append(argv, mode, c.Value, strconv.FormatInt(exp.Milliseconds(), 10))
	}
	if s.cluster != nil || (bus != nil && bus.c != s.c) {
		return s.applyApart(ctx, bus, all[2:], argv[applyFixedArgs:], namespace, op, schema, ids)
	}
	if bus != nil {
		if err := bus.checkMessage(op, schema, ids); err != nil {
			return err
		}
	}
	return s.applyGrouped(ctx, bus, all, argv, groupKey{bus: bus, namespace: namespace, op: op, schema: schema}, ids)
}

// applyOnce is one call of applyScript: all and argv as Apply builds them
// (the two fixed keys and the fixed arguments left for it to fill in),
// publishing one message that names ids.
func (s *Store) applyOnce(ctx context.Context, all []string, argv []any, k groupKey, ids []string) error {
	bus, namespace := k.bus, k.namespace
	var head, tail []byte
	if bus != nil {
		var err error
		if head, tail, err = bus.message(k.op, k.schema, ids); err != nil {
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
	all[0], all[1] = noKey, orNoKey(seqKey)
	if namespace != "" {
		all[0] = s.generationKey(namespace)
	}
	var skipArg any = "0" // (a constant: nothing to allocate in the common case)
	if skip > 0 {
		skipArg = strconv.FormatUint(skip, 10)
	}
	copy(argv, []any{flagArg(namespace != ""), flagArg(bus != nil), channel, head, tail, skipArg, seqTTLArg, versionMagic, versionHeaderLen})
	if s.beforeScript != nil {
		s.beforeScript()
	}
	err := applyScript.Run(ctx, s.c, all, argv...).Err()
	if err != nil && bus != nil {
		bus.skip.Add(skip + 1) // subscribers see a gap at the next message
	}
	return s.result(ctx, err)
}

// applyFixedArgs is how many of applyScript's arguments precede the
// changes' (ARGV[1..9]).
const applyFixedArgs = 9

// Script arguments converted to interfaces once rather than per call.
var (
	seqTTLArg          any = seqTTLSeconds
	argPut, argRefresh any = "p", "r"
	argTrue, argFalse  any = "1", "0"
)

// flagArg is flag as a script argument.
func flagArg(b bool) any {
	if b {
		return argTrue
	}
	return argFalse
}

// applyApart runs Apply's changes in one pipeline, then the generation and
// the publish, for a cluster or a bus on another client.
func (s *Store) applyApart(ctx context.Context, bus *Bus, keys []string, args []any, namespace string, op Op, schema string, ids []string) error {
	if len(keys) > 0 {
		calls := make([]scriptCall, len(keys))
		for i, k := range keys {
			calls[i] = scriptCall{applyKeyScript, []string{k}, []any{versionMagic, versionHeaderLen, args[3*i], args[3*i+1], args[3*i+2]}}
		}
		err := s.brk.allow()
		if err == nil {
			if _, err = s.runScripts(ctx, calls); err != nil {
				err = s.result(ctx, err)
			} else {
				s.brk.record(nil)
			}
		}
		if err != nil {
			if bus != nil {
				bus.skip.Add(1) // not published: subscribers see a gap at the next message
			}
			return err
		}
	}
	var e1 error
	if namespace != "" {
		e1 = s.bumpIfExists(ctx, namespace)
	}
	var e2 error
	if bus != nil {
		e2 = bus.Publish(ctx, op, schema, ids...)
	}
	return errors.Join(e1, e2)
}

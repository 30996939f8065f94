package l2redis

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// LeaseMany takes a fill lease on every key of keys that is absent, in one
// round trip (one pipeline; on a cluster, one per master, sent
// concurrently), and returns the leases position for position. A key that
// holds a value, or another caller's lease, gets the zero Lease: a bulk
// loader leaves it alone. The leases follow the rules of [Store.GetOrLease]:
// take them before reading the source, then pass them to [Store.FillMany].
//
// Each lease is one SET NX with LeaseTTL, so nothing else is read or
// returned: use [Store.MGet] for the values that are present.
func (s *Store) LeaseMany(ctx context.Context, keys []string) ([]Lease, error) {
	for _, k := range keys {
		if k == "" {
			return nil, ErrEmptyKey
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	if err := s.brk.allow(); err != nil {
		return nil, err
	}
	leases := make([]Lease, len(keys))
	cmds := make([]*redis.BoolCmd, len(keys))
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			leases[i] = Lease{key: k, marker: leaseMagic + randomID()}
			cmds[i] = p.SetNX(ctx, k, leases[i].marker, s.opt.LeaseTTL)
		}
		return nil
	})
	if err != nil {
		return nil, s.result(ctx, err)
	}
	s.brk.record(nil)
	for i, c := range cmds {
		if !c.Val() { // present: a value or another lease
			leases[i] = Lease{}
		}
	}
	return leases, nil
}

// FillMany is [Store.Fill] for many leases in one round trip: values[i]
// (with ttl, as for Set) is stored under leases[i]'s key only while that
// lease still stands. A nil values[i] releases the lease instead, as
// [Store.Release] does (an empty non-nil slice stores an empty value). It
// reports, position for position, which fills wrote; zero Leases are
// skipped. The check and the write of each key are one Lua script, all sent
// in one pipeline.
func (s *Store) FillMany(ctx context.Context, leases []Lease, values [][]byte, ttl time.Duration) ([]bool, error) {
	if len(values) != len(leases) {
		return nil, ErrLengthMismatch
	}
	for _, v := range values {
		if isReserved(v) {
			return nil, ErrReservedValue
		}
	}
	exp, err := s.expiry(ttl)
	if err != nil {
		return nil, err
	}
	ms := strconv.FormatInt(exp.Milliseconds(), 10)
	var calls []scriptCall
	var at []int // position in leases of each call
	for i, l := range leases {
		if !l.Valid() {
			continue
		}
		switch {
		case values[i] == nil:
			calls = append(calls, scriptCall{releaseScript, []string{l.key}, []any{l.marker}})
		case s.unguardedFill:
			calls = append(calls, scriptCall{plainSetScript, []string{l.key}, []any{values[i], ms}})
		default:
			calls = append(calls, scriptCall{fillScript, []string{l.key}, []any{l.marker, values[i], ms}})
		}
		at = append(at, i)
	}
	wrote := make([]bool, len(leases))
	if len(calls) == 0 {
		return wrote, nil
	}
	if err := s.brk.allow(); err != nil {
		return nil, err
	}
	cmds, err := s.runScripts(ctx, calls)
	if err != nil {
		return nil, s.result(ctx, err)
	}
	s.brk.record(nil)
	for j, c := range cmds {
		n, _ := c.Int64()
		wrote[at[j]] = n == 1 && values[at[j]] != nil
	}
	return wrote, nil
}

// plainSetScript is the fill without its guard, for tests (see
// unguardedFill).
var plainSetScript = redis.NewScript(`
if ARGV[2] == '0' then redis.call('SET', KEYS[1], ARGV[1]) else redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 1
`)

// scriptCall is one run of a script in a pipeline.
type scriptCall struct {
	script *redis.Script
	keys   []string
	args   []any
}

// runScripts runs calls in one pipeline by EVALSHA. The calls the server
// answers NOSCRIPT (its script cache was flushed, or a cluster master has
// not seen the script) are sent again with EVAL in a second pipeline; no
// call runs twice. It returns the first error reply or transport error.
func (s *Store) runScripts(ctx context.Context, calls []scriptCall) ([]*redis.Cmd, error) {
	cmds := make([]*redis.Cmd, len(calls))
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range calls {
			cmds[i] = c.script.EvalSha(ctx, p, c.keys, c.args...)
		}
		return nil
	})
	var again []int
	for i, c := range cmds {
		if redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			again = append(again, i)
		}
	}
	if len(again) > 0 {
		_, err = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, i := range again {
				c := calls[i]
				cmds[i] = c.script.Eval(ctx, p, c.keys, c.args...)
			}
			return nil
		})
	}
	if err != nil {
		return nil, err
	}
	for _, c := range cmds {
		if err := c.Err(); err != nil && err != redis.Nil {
			return nil, err
		}
	}
	return cmds, nil
}

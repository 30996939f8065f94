package l2redis

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/l2redis/internal/slot"
)

// Delete removes key with UNLINK (the memory is reclaimed in the
// background). Deleting an absent key is not an error. Like every write it
// voids any fill lease on the key.
func (s *Store) Delete(ctx context.Context, key string) error {
	if key == "" {
		return ErrEmptyKey
	}
	if err := s.brk.allow(); err != nil {
		return err
	}
	return s.result(ctx, s.c.Unlink(ctx, key).Err())
}

// deleteValueScript removes KEYS[1] only while it holds exactly ARGV[1],
// or ARGV[1] behind a version prefix (ARGV[2] is versionMagic, ARGV[3] the
// prefix's length).
var deleteValueScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then return redis.call('UNLINK', KEYS[1]) end
if v and string.sub(v, 1, #ARGV[2]) == ARGV[2] and string.sub(v, tonumber(ARGV[3]) + 1) == ARGV[1] then
  return redis.call('UNLINK', KEYS[1])
end
return 0
`)

// DeleteIfValue removes key only while it still holds exactly value, and
// reports whether it did: a compare-and-delete in one Lua script. Use it to
// drop a value found to be bad (one that no longer decodes) without losing a
// good value another caller stored since it was read. Like Delete it voids
// nothing else: a key holding a lease marker is never equal to a record.
func (s *Store) DeleteIfValue(ctx context.Context, key string, value []byte) (bool, error) {
	if key == "" {
		return false, ErrEmptyKey
	}
	if err := s.brk.allow(); err != nil {
		return false, err
	}
	n, err := deleteValueScript.Run(ctx, s.c, []string{key}, value, versionMagic, versionHeaderLen).Int64()
	if err != nil {
		return false, s.result(ctx, err)
	}
	s.brk.record(nil)
	return n == 1, nil
}

// DeleteMany removes keys with UNLINK and returns how many existed: one
// command on a standalone server, one per hash slot in a single pipeline on a
// cluster.
func (s *Store) DeleteMany(ctx context.Context, keys []string) (int64, error) {
	for _, k := range keys {
		if k == "" {
			return 0, ErrEmptyKey
		}
	}
	if len(keys) == 0 {
		return 0, nil
	}
	if err := s.brk.allow(); err != nil {
		return 0, err
	}
	if s.cluster == nil {
		n, err := s.c.Unlink(ctx, keys...).Result()
		return n, s.result(ctx, err)
	}
	n, err := unlinkBySlot(ctx, s.cluster, keys)
	return n, s.result(ctx, err)
}

// unlinkBySlot sends one UNLINK per hash slot of keys through one pipeline
// of c, which may be a cluster client or one node's client.
func unlinkBySlot(ctx context.Context, c redis.Cmdable, keys []string) (int64, error) {
	groups := slot.GroupKeys(keys)
	cmds := make([]*redis.IntCmd, len(groups))
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, g := range groups {
			cmds[i] = p.Unlink(ctx, pick(keys, g.Indexes)...)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	var n int64
	for _, c := range cmds {
		n += c.Val()
	}
	return n, nil
}

// DeletePrefix removes every key that starts with prefix and returns how
// many it removed. It walks the keyspace with SCAN (on every master of a
// cluster, concurrently) and UNLINKs each page as it goes, so it never
// blocks Redis for long; keys written while it runs may survive. Use
// [KeyPrefix] to name all records of one schema.
func (s *Store) DeletePrefix(ctx context.Context, prefix string) (int64, error) {
	if prefix == "" {
		return 0, ErrEmptyKey
	}
	if err := s.brk.allow(); err != nil {
		return 0, err
	}
	match := escapeGlob(prefix) + "*"
	if s.cluster == nil {
		n, err := s.deleteMatching(ctx, s.c, match, false)
		return n, s.result(ctx, err)
	}
	var total atomic.Int64
	err := s.cluster.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		n, err := s.deleteMatching(ctx, node, match, true)
		total.Add(n)
		return err
	})
	return total.Load(), s.result(ctx, err)
}

// deleteMatching SCANs one server (or a non-cluster client) for match and
// unlinks each page; bySlot splits pages by hash slot, which a cluster node
// requires of multi-key commands.
func (s *Store) deleteMatching(ctx context.Context, c redis.Cmdable, match string, bySlot bool) (int64, error) {
	var (
		cursor uint64
		total  int64
	)
	for {
		keys, next, err := c.Scan(ctx, cursor, match, int64(s.opt.ScanCount)).Result()
		if err != nil {
			return total, err
		}
		for len(keys) > 0 {
			batch := keys[:min(len(keys), s.opt.ScanCount)]
			keys = keys[len(batch):]
			var n int64
			if bySlot {
				n, err = unlinkBySlot(ctx, c, batch)
			} else {
				n, err = c.Unlink(ctx, batch...).Result()
			}
			total += n
			if err != nil {
				return total, err
			}
		}
		if next == 0 {
			return total, nil
		}
		cursor = next
	}
}

// escapeGlob quotes the characters SCAN MATCH treats specially.
func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\^`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\', '^':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

package l2redis

import (
	"context"
	"unsafe"

	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/l2redis/internal/slot"
)

// Get returns the value stored under key, or ErrNotFound when the key is
// absent (or holds only a fill lease). It is one GET.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	b, _, err := s.GetVersioned(ctx, key)
	return b, err
}

// GetVersioned is [Store.Get] that also returns the version the value was
// stored with ([Versioned]), 0 when it has none.
func (s *Store) GetVersioned(ctx context.Context, key string) ([]byte, uint64, error) {
	if key == "" {
		return nil, 0, ErrEmptyKey
	}
	if err := s.brk.allow(); err != nil {
		return nil, 0, err
	}
	b, err := s.c.Get(ctx, key).Bytes()
	if err != nil {
		return nil, 0, s.result(ctx, err)
	}
	s.brk.record(nil)
	if isLeaseMarker(b) {
		return nil, 0, ErrNotFound
	}
	if isAbsentMarker(b) {
		return nil, 0, ErrAbsent
	}
	if b == nil {
		b = []byte{} // present but empty
	}
	ver, b, _ := SplitVersion(b)
	return b, ver, nil
}

// MGet returns the values of keys, position for position; a nil element
// means that key is absent (a present empty value is a non-nil empty slice).
// Only the keys asked are read: one MGET on a standalone server, and on a
// cluster one MGET per hash slot, all sent in a single pipeline so each
// master is visited once.
func (s *Store) MGet(ctx context.Context, keys []string) ([][]byte, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	for _, k := range keys {
		if k == "" {
			return nil, ErrEmptyKey
		}
	}
	if err := s.brk.allow(); err != nil {
		return nil, err
	}
	out := make([][]byte, len(keys))
	if s.cluster == nil {
		vals, err := s.c.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, s.result(ctx, err)
		}
		s.brk.record(nil)
		fillValues(out, vals, nil)
		return out, nil
	}
	if err := s.clusterMGet(ctx, keys, out); err != nil {
		return nil, s.result(ctx, err)
	}
	s.brk.record(nil)
	return out, nil
}

func (s *Store) clusterMGet(ctx context.Context, keys []string, out [][]byte) error {
	groups := slot.GroupKeys(keys)
	cmds := make([]*redis.SliceCmd, len(groups))
	_, err := s.cluster.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, g := range groups {
			cmds[i] = p.MGet(ctx, pick(keys, g.Indexes)...)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, g := range groups {
		fillValues(out, cmds[i].Val(), g.Indexes)
	}
	return nil
}

// fillValues stores MGET replies into out, at idx[i] when idx is given and at
// i otherwise. Lease markers read as absent.
func fillValues(out [][]byte, vals []any, idx []int) {
	for i, v := range vals {
		str, ok := v.(string)
		if !ok || isLeaseMarkerString(str) || isAbsentMarkerString(str) {
			continue
		}
		j := i
		if idx != nil {
			j = idx[i]
		}
		out[j] = stripVersion(replyBytes(str))
	}
}

// replyBytes returns the bytes of a string go-redis decoded from a reply
// without copying them, as go-redis's own StringCmd.Bytes does: the string
// was allocated for this reply and nothing else refers to it once the
// command is dropped, so the caller may keep and even modify the slice. An
// empty value gives a non-nil empty slice.
func replyBytes(s string) []byte {
	if len(s) == 0 {
		return []byte{}
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

func pick(keys []string, idx []int) []string {
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = keys[j]
	}
	return out
}

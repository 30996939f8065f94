package l2redis

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// Item is one key and value for [Store.SetMany].
type Item struct {
	Key   string
	Value []byte
	// TTL is the item's time to live: 0 means Options.DefaultTTL,
	// NoExpiry means none.
	TTL time.Duration
}

// Set stores value under key with ttl (0 means Options.DefaultTTL, NoExpiry
// means no expiry; jitter applies). It is one SET, and like every write it
// voids any fill lease on the key.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if key == "" {
		return ErrEmptyKey
	}
	if isReserved(value) {
		return ErrReservedValue
	}
	exp, err := s.expiry(ttl)
	if err != nil {
		return err
	}
	if err := s.brk.allow(); err != nil {
		return err
	}
	return s.result(ctx, s.c.Set(ctx, key, value, exp).Err())
}

// SetMany stores every item in one pipeline (on a cluster, one pipeline per
// master, sent concurrently). Items are checked before anything is sent; a
// failure part-way may leave some items written.
func (s *Store) SetMany(ctx context.Context, items []Item) error {
	exps := make([]time.Duration, len(items))
	for i, it := range items {
		if it.Key == "" {
			return ErrEmptyKey
		}
		if isReserved(it.Value) {
			return ErrReservedValue
		}
		exp, err := s.expiry(it.TTL)
		if err != nil {
			return err
		}
		exps[i] = exp
	}
	if len(items) == 0 {
		return nil
	}
	if err := s.brk.allow(); err != nil {
		return err
	}
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, it := range items {
			p.Set(ctx, it.Key, it.Value, exps[i])
		}
		return nil
	})
	return s.result(ctx, err)
}

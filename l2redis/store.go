package l2redis

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Store is the Redis tier: byte values under string keys, with the fill,
// generation and deletion primitives described in the package overview. It
// is safe for concurrent use.
type Store struct {
	c       redis.UniversalClient
	cluster *redis.ClusterClient // non-nil when c is a cluster client
	owned   bool                 // Close closes c
	opt     Options
	brk     breaker
	groups  groupTable // Apply's group commit (group.go)

	// unguardedFill turns Fill into a plain SET; only tests set it, to show
	// that the stale-set test catches a fill without its guard.
	unguardedFill bool
	// beforeScript, when set (tests only), runs before each applyScript
	// call of Apply's.
	beforeScript func()
}

// New returns a Store over a client the caller owns: standalone
// (*redis.Client), Sentinel (redis.NewFailoverClient) or Cluster
// (*redis.ClusterClient). Close does not close the client. A nil opts means
// defaults. New does not contact Redis; use [Store.Ping] for that.
//
// Build the client with ContextTimeoutEnabled set if a call's context
// deadline should bound its socket waits; otherwise go-redis applies only
// its ReadTimeout and WriteTimeout.
func New(client redis.UniversalClient, opts *Options) (*Store, error) {
	if client == nil {
		return nil, ErrNilClient
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Store{c: client, opt: o, brk: newBreaker(o.BreakerFailures, o.BreakerCooldown)}
	s.brk.onChange = o.OnBreakerChange
	s.cluster, _ = client.(*redis.ClusterClient)
	return s, nil
}

// Own is [New] for a client the Store takes over: Close closes it. Use it
// for a client built only for the Store (with options [Config] does not
// have, such as TLS), so the Store's Close releases it.
func Own(client redis.UniversalClient, opts *Options) (*Store, error) {
	s, err := New(client, opts)
	if err != nil {
		return nil, err
	}
	s.owned = true
	return s, nil
}

// Open builds a client from cfg and returns a Store that owns it: Close
// closes the client. Like New, it does not contact Redis.
func Open(cfg Config, opts *Options) (*Store, error) {
	if strings.TrimSpace(cfg.Addr) == "" {
		return nil, fmt.Errorf("%w: Config.Addr is empty", ErrInvalidOptions)
	}
	if _, err := opts.withDefaults(); err != nil {
		return nil, err
	}
	addrs := strings.Split(cfg.Addr, ",")
	for i := range addrs {
		addrs[i] = strings.TrimSpace(addrs[i])
	}
	client := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:        addrs,
		MasterName:   cfg.MasterName,
		Username:     cfg.Username,
		Password:     cfg.Password,
		DB:           cfg.DB,
		PoolSize:     cfg.PoolSize,
		MinIdleConns: cfg.MinIdleConns,
		DialTimeout:  cfg.DialTimeout,
		ReadTimeout:  cfg.ReadTimeout,
		WriteTimeout: cfg.WriteTimeout,
		PoolTimeout:  cfg.PoolTimeout,
		MaxRetries:   cfg.MaxRetries,

		ContextTimeoutEnabled: true,
	})
	s, err := New(client, opts)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// Client returns the client the Store uses, for commands this package does
// not wrap and for building a [Bus] on the same connection settings.
func (s *Store) Client() redis.UniversalClient { return s.c }

// Ping checks that Redis answers (every master, for a cluster).
func (s *Store) Ping(ctx context.Context) error {
	if s.cluster != nil {
		return s.result(ctx, s.cluster.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			return c.Ping(ctx).Err()
		}))
	}
	return s.result(ctx, s.c.Ping(ctx).Err())
}

// Close closes the client if the Store opened it (see [Open]); a Store from
// [New] leaves the caller's client open. Close does not stop a [Bus].
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	if err := s.c.Close(); err != nil {
		return fmt.Errorf("l2redis: close: %w", err)
	}
	return nil
}

package strata

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/AndrewDonelson/strata/migrate"
)

// l2TTLJitter spreads L2 expiries by ±10% so that keys written together
// (a SetMany, a WarmCache) do not all expire, and miss, at the same moment.
const l2TTLJitter = 0.1

// connect opens the tiers cfg names. Neither server needs to be up: calls
// fail (or, for Redis, fall through) until it answers.
func (ds *DataStore) connect() error {
	c := ds.cfg
	if c.hasPostgres() {
		opts := &l3postgres.Options{
			MaxConns:        c.L3Pool.MaxConns,
			MinConns:        c.L3Pool.MinConns,
			MaxConnLifetime: c.L3Pool.MaxConnLifetime,
			MaxConnIdleTime: c.L3Pool.MaxConnIdleTime,
			Logger:          slogFor(ds.cfg.Logger),
		}
		var db *l3postgres.DB
		var err error
		if c.PostgresPool != nil {
			db, err = l3postgres.New(c.PostgresPool, opts) // caller-owned: Close leaves it open
		} else {
			db, err = l3postgres.Open(context.Background(), c.PostgresDSN, opts)
		}
		if err != nil {
			field := "PostgresDSN"
			if c.PostgresPool != nil {
				field = "PostgresPool"
			}
			return fmt.Errorf("%w: %s: %w", ErrInvalidConfig, field, err)
		}
		ds.l3 = db
		if ds.mig, err = migrate.New(db.Pool(), &migrate.Options{Logger: slogFor(ds.cfg.Logger)}); err != nil {
			db.Close()
			return fmt.Errorf("%w: migrate: %w", ErrInvalidConfig, err)
		}
	}
	if c.hasRedis() {
		store, err := ds.openL2() // see lifecycle_clients.go
		if err != nil {
			ds.closeTiers()
			return err
		}
		ds.l2 = store
		ds.bus, err = l2redis.NewBus(store.Client(), &l2redis.BusOptions{
			Channel:             c.InvalidationChannel,
			OnMessage:           ds.onInvalidation,
			OnResubscribe:       ds.onResubscribe,
			OnLost:              ds.onBusLost,
			HealthCheckInterval: c.InvalidationHealthCheck,
		})
		if err != nil {
			ds.closeTiers()
			return fmt.Errorf("%w: InvalidationChannel: %w", ErrInvalidConfig, err)
		}
	}
	return nil
}

// replicaDB returns a DB on the primary's pool whose queries and counts go
// to the read replica dsn, one per distinct replica; every schema shares
// the one primary pool. Writes and reads by key (Get, GetMany, WarmCache's
// rows) stay on the primary, and what Search and SearchCached read from the
// replica fills no cache, so a lagging replica never puts an old row in a
// cache.
func (ds *DataStore) replicaDB(dsn string) (*l3postgres.DB, error) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if db, ok := ds.replicas[dsn]; ok {
		return db, nil
	}
	db, err := ds.l3.WithReplica(dsn)
	if err != nil {
		return nil, err
	}
	if ds.replicas == nil {
		ds.replicas = map[string]*l3postgres.DB{}
	}
	ds.replicas[dsn] = db
	return db, nil
}

func (ds *DataStore) closeTiers() error {
	var errs []error
	for _, db := range ds.replicas {
		db.Close()
	}
	if ds.bus != nil {
		errs = append(errs, ds.bus.Close())
	}
	if ds.l2 != nil {
		errs = append(errs, ds.l2.Close())
	}
	if ds.l3 != nil {
		ds.l3.Close()
	}
	return errors.Join(errs...)
}

// loggerHandler adapts a Logger to slog for the tier modules.
type loggerHandler struct{ l Logger }

func (h loggerHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h loggerHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h loggerHandler) WithGroup(string) slog.Handler            { return h }
func (h loggerHandler) Handle(_ context.Context, r slog.Record) error {
	kv := make([]any, 0, 2*r.NumAttrs())
	r.Attrs(func(a slog.Attr) bool { kv = append(kv, a.Key, a.Value.Any()); return true })
	switch {
	case r.Level >= slog.LevelError:
		h.l.Error(r.Message, kv...)
	case r.Level >= slog.LevelWarn:
		h.l.Warn(r.Message, kv...)
	case r.Level >= slog.LevelInfo:
		h.l.Info(r.Message, kv...)
	default:
		h.l.Debug(r.Message, kv...)
	}
	return nil
}

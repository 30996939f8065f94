package strata

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/l3postgres/changefeed"
	"github.com/AndrewDonelson/strata/strata/internal/model"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// The change feed (Config.ChangeFeed) makes PostgreSQL's commit log the
// guarantee behind cache invalidation: one instance at a time streams the
// logical replication slot and, for every committed change of a watched
// table — written through Strata or not — deletes the L2 key, advances the
// schema's search generation, drops its own L1 entry and tells the other
// instances to drop theirs. The slot's position advances only after all of
// that succeeded, so a Redis outage or a crash delays invalidation and
// never loses it. Writers still invalidate at once (read-your-writes);
// the feed covers what they cannot: writes made outside Strata, writes
// whose call failed after the commit, writers that crashed or lost Redis.

// ErrChangeFeed wraps what keeps the change feed from running: Migrate and
// Ping return it with the reason (wal_level not logical, no REPLICATION
// privilege, no free replication slot), also reachable through the
// changefeed package's sentinels.
var ErrChangeFeed = errors.New("strata: change feed unavailable")

// feedGrace is how long after NewDataStore the feed waits for a table's
// schema to be registered before it skips that table's changes.
const feedGrace = 10 * time.Second

// feedState is the DataStore's part of the change feed.
type feedState struct {
	feed    *changefeed.Feed // nil unless Config.ChangeFeed with PostgreSQL
	started time.Time
	warned  sync.Map // table name -> struct{}: unknown tables logged once
}

// DefaultChangeFeedSlot returns the replication slot (and publication)
// name that Config.ChangeFeedSlot defaults to for an InvalidationChannel:
// "strata_" and a hash of the channel, so that services sharing a database
// but not a channel do not share a slot. Tools that inspect a deployment's
// feed (the strata command's feed status) derive the name with it.
func DefaultChangeFeedSlot(channel string) string { return defaultFeedSlot(channel) }

// defaultFeedSlot derives the slot (and publication) name from the
// invalidation channel.
func defaultFeedSlot(channel string) string {
	h := fnv.New64a()
	h.Write([]byte(channel))
	return "strata_" + strconv.FormatUint(h.Sum64(), 16)
}

// checkFeedConfig validates and defaults the change-feed fields of c.
func (c *Config) checkFeedConfig() error {
	if c.ChangeFeedSlot == "" {
		c.ChangeFeedSlot = defaultFeedSlot(c.InvalidationChannel)
	}
	if !changefeed.ValidSlotName(c.ChangeFeedSlot) {
		return fmt.Errorf("%w: ChangeFeedSlot %q: a replication slot name is 1-63 characters of [a-z0-9_]", ErrInvalidConfig, c.ChangeFeedSlot)
	}
	if c.ChangeFeedReleaseAfter < 0 {
		return fmt.Errorf("%w: ChangeFeedReleaseAfter %v is negative", ErrInvalidConfig, c.ChangeFeedReleaseAfter)
	}
	if c.ChangeFeed && !c.hasPostgres() {
		return fmt.Errorf("%w: ChangeFeed: it streams PostgreSQL's commit log and needs PostgresDSN or PostgresPool", ErrInvalidConfig)
	}
	return nil
}

// startFeed starts the consumer. It needs no server: the feed connects in
// the background, and waits for Migrate to create the slot.
func (ds *DataStore) startFeed() error {
	if !ds.cfg.ChangeFeed || ds.l3 == nil {
		return nil
	}
	pc := ds.l3.Pool().Config()
	f, err := changefeed.Start(changefeed.Config{
		Conn:          pc.ConnConfig,
		BeforeConnect: pc.BeforeConnect,
		Slot:          ds.cfg.ChangeFeedSlot,
		Publication:   ds.cfg.ChangeFeedSlot,
		Handler:       ds.applyFeed,
		VersionColumn: model.VersionColumn, // invalidations keep newer refreshes (truth_versioned.go)
		// Retry soon after Redis answers again (the L2 breaker adds up to
		// its one-second cooldown).
		MinRetry:     20 * time.Millisecond,
		MaxRetry:     250 * time.Millisecond,
		ReleaseAfter: ds.cfg.ChangeFeedReleaseAfter,
		Ready:        ds.feedReady,
		Logger:       slogFor(ds.cfg.Logger),
	})
	if err != nil {
		return fmt.Errorf("%w: ChangeFeed: %w", ErrInvalidConfig, err)
	}
	ds.cf.feed, ds.cf.started = f, time.Now()
	return nil
}

// feedReady tells the feed whether this instance can apply changes: its
// Redis must answer. An instance that cannot reach Redis leaves the slot
// to one that can.
func (ds *DataStore) feedReady(ctx context.Context) error {
	if ds.l2 == nil {
		return nil
	}
	if err := ds.l2.Ping(ctx); err != nil {
		return fmt.Errorf("redis does not answer: %w", err)
	}
	return nil
}

// closeFeed stops the consumer; what it had not applied is replayed by the
// next one.
func (ds *DataStore) closeFeed() {
	if ds.cf.feed != nil {
		ds.cf.feed.Close()
	}
}

// ensureFeed creates the publication of tables and then, outside any
// transaction and after their DDL committed, the slot.
func (ds *DataStore) ensureFeed(ctx context.Context, tables []string) error {
	if !ds.cfg.ChangeFeed {
		return nil
	}
	pool := ds.l3.Pool()
	name := ds.cfg.ChangeFeedSlot
	if err := changefeed.Check(ctx, pool, name); err != nil && !onlySlotMissing(err) {
		return fmt.Errorf("%w: %w", ErrChangeFeed, err)
	}
	if err := changefeed.EnsurePublication(ctx, pool, name, tables); err != nil {
		return fmt.Errorf("%w: %w", ErrChangeFeed, err)
	}
	if err := changefeed.EnsureSlot(ctx, pool, name); err != nil {
		return fmt.Errorf("%w: %w", ErrChangeFeed, err)
	}
	return nil
}

// onlySlotMissing reports whether err says nothing but that the slot is
// not created yet.
func onlySlotMissing(err error) bool {
	if !errors.Is(err, changefeed.ErrSlotMissing) {
		return false
	}
	for _, s := range []error{changefeed.ErrNotLogical, changefeed.ErrNoReplicationPrivilege, changefeed.ErrNoFreeSlot} {
		if errors.Is(err, s) {
			return false
		}
	}
	return true
}

// pingFeed explains what keeps the change feed from running, or nil.
func (ds *DataStore) pingFeed(ctx context.Context) error {
	if !ds.cfg.ChangeFeed || ds.l3 == nil {
		return nil
	}
	if err := changefeed.Check(ctx, ds.l3.Pool(), ds.cfg.ChangeFeedSlot); err != nil {
		if onlySlotMissing(err) {
			return fmt.Errorf("%w: %w; run Migrate", ErrChangeFeed, err)
		}
		return fmt.Errorf("%w: %w", ErrChangeFeed, err)
	}
	return nil
}

// feedTarget is one schema's share of a batch.
type feedTarget struct {
	ids   map[string]int64 // id → the row version its last change wrote, 0 if unknown (a delete)
	flush bool             // TRUNCATE, or a change whose key the stream lacked
}

// touch records a change of id at version ver (0: unknown). A key is kept
// in Redis only if it holds a version at least as new as every change of
// it in the batch, so an unknown version anywhere makes it go.
func (t *feedTarget) touch(id string, ver int64) {
	if old, seen := t.ids[id]; seen && (old == 0 || ver == 0) {
		ver = 0
	} else if seen && old > ver {
		ver = old
	}
	t.ids[id] = ver
}

// applyFeed invalidates what a batch of committed changes touched. An
// error makes the feed offer the same batch again (invalidation is
// idempotent), so nothing is acknowledged before Redis and the other
// instances have been told.
func (ds *DataStore) applyFeed(ctx context.Context, b *changefeed.Batch) error {
	schemas := *ds.schemas.Load()
	targets := map[*schemaState]*feedTarget{}
	for i := range b.Changes {
		c := &b.Changes[i]
		found := false
		for _, st := range schemas {
			if st.l3 == nil || st.table != c.Table {
				continue
			}
			found = true
			t := targets[st]
			if t == nil {
				t = &feedTarget{ids: map[string]int64{}}
				targets[st] = t
			}
			pk := indexOfString(c.KeyColumns, st.model.PKField().Column)
			switch {
			case c.Op == changefeed.OpTruncate || c.Key == nil || pk < 0:
				t.flush = true
			default:
				t.touch(c.Key[pk], c.Version)
				if c.OldKey != nil {
					t.touch(c.OldKey[pk], 0) // that row is gone
				}
			}
		}
		if !found {
			if time.Since(ds.cf.started) < feedGrace {
				return fmt.Errorf("strata: change feed: table %q has no registered schema yet", c.Table)
			}
			if _, seen := ds.cf.warned.LoadOrStore(c.Table, struct{}{}); !seen {
				ds.cfg.Logger.Warn("strata: change feed: skipping changes of a table no schema of this instance uses", "table", c.Table)
			}
		}
	}
	for st, t := range targets {
		if err := ds.invalidateFromFeed(ctx, st, t); err != nil {
			return err
		}
	}
	if !b.CommitTime.IsZero() { // commit → every cache told, per schema touched
		lag := time.Since(b.CommitTime)
		for st := range targets {
			ds.cfg.Metrics.Latency(st.Name, metrics.TierL3, "changefeed_lag", lag)
		}
	}
	return nil
}

// invalidateFromFeed applies one schema's share of a batch: the L2 keys
// (voiding fill leases), the search generation, the local L1, then the
// other instances.
func (ds *DataStore) invalidateFromFeed(ctx context.Context, st *schemaState, t *feedTarget) error {
	defer st.writes.enter()()
	if t.flush {
		if ds.l2 != nil {
			if _, err := ds.l2.BumpGeneration(ctx, st.prefix); err != nil {
				return fmt.Errorf("strata: change feed: %s: bump search generation: %w", st.Name, err)
			}
			if _, err := ds.l2.DeletePrefix(ctx, l2redis.KeyPrefix(st.prefix)); err != nil {
				return fmt.Errorf("strata: change feed: %s: delete keys: %w", st.Name, err)
			}
		}
		st.l1.Clear()
		ds.test.runL1Dropped(st.Name, nil)
		if ds.bus != nil {
			if err := ds.bus.Publish(ctx, l2redis.OpFlush, st.Name); err != nil {
				return fmt.Errorf("strata: change feed: %s: publish: %w", st.Name, err)
			}
			ds.invalidationSent(st.Name, l2redis.OpFlush, 0)
		}
		return nil
	}
	ids := make([]string, 0, len(t.ids))
	changes := make([]l2redis.Change, 0, len(t.ids))
	for id, ver := range t.ids {
		ids = append(ids, id)
		// A key that holds the change's version or a newer one (a writer's
		// refresh, a fill) is kept: see truth_versioned.go.
		if ds.test.noVersionGuard.Load() {
			ver = 0 // tests: delete whatever the key holds
		}
		changes = append(changes, l2redis.Change{Key: st.key(id), Below: uint64(max(ver, 0))})
	}
	if ds.l2 != nil {
		// One round trip: the keys, the search generation (if a cached
		// search exists) and the message, which leaves after the keys.
		if err := ds.l2.Apply(ctx, ds.bus, changes, st.prefix, l2redis.OpSet, st.Name, ids...); err != nil {
			ds.cfg.Metrics.Error(st.Name, metrics.TierL2, "changefeed")
			return fmt.Errorf("strata: change feed: %s: invalidate: %w", st.Name, err)
		}
	}
	// This instance's L1 follows the same rule (the writer's own refresh
	// of a Set it made here stays); the other instances drop theirs on the
	// message, which carries no versions, and refill from Redis.
	for i, id := range ids {
		st.l1.DeleteBelow(id, changes[i].Below)
	}
	ds.test.runL1Dropped(st.Name, ids)
	if ds.bus != nil && ds.l2 != nil {
		ds.invalidationSent(st.Name, l2redis.OpSet, len(ids))
	}
	return nil
}

func indexOfString(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// ChangeFeedStats describes this instance's change-feed consumer.
type ChangeFeedStats struct {
	// Enabled is Config.ChangeFeed (with PostgreSQL configured).
	Enabled bool
	// Active is set while this instance holds the slot (one instance of a
	// deployment does).
	Active bool
	// AppliedLSN is the WAL position up to which every change has been
	// invalidated, e.g. "0/1A2B3C4".
	AppliedLSN string
	// LagBytes is how far the server's WAL is ahead of AppliedLSN.
	LagBytes int64
	// Lag is how long ago the oldest committed change not yet invalidated
	// committed (an upper bound; 0 when caught up).
	Lag time.Duration
	// LastApplyLatency is, for the last batch, the time from its commit to
	// every cache having been told.
	LastApplyLatency time.Duration
	// Changes counts the changes applied; Retries the batches that failed
	// and were offered again; Takeovers the times this instance took the
	// slot from a consumer that had stopped reporting; Releases the times
	// it gave the slot up after failing to apply for
	// Config.ChangeFeedReleaseAfter.
	Changes, Retries, Takeovers, Releases int64
}

// ChangeFeedStats returns a snapshot of the change feed's figures.
func (ds *DataStore) ChangeFeedStats() ChangeFeedStats {
	if ds.cf.feed == nil {
		return ChangeFeedStats{}
	}
	s := ds.cf.feed.Stats()
	return ChangeFeedStats{
		Enabled:          true,
		Active:           s.Active,
		AppliedLSN:       s.AppliedLSN.String(),
		LagBytes:         s.LagBytes,
		Lag:              s.Lag,
		LastApplyLatency: s.LastApplyLatency,
		Changes:          s.Changes,
		Retries:          s.HandlerErrors,
		Takeovers:        s.Takeovers,
		Releases:         s.Releases,
	}
}

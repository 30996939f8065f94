package l3postgres

import (
	"context"
	"time"
)

// onReader runs fn on the replica when there is one that is not marked
// down, and on the primary otherwise. A connection-level failure on the
// replica marks it down for ReplicaRetryInterval, logs a warning and
// repeats fn on the primary.
func (db *DB) onReader(ctx context.Context, fn func(querier) error) error {
	if db.replica != nil && time.Now().UnixNano() >= db.replicaDownUntil.Load() {
		err := fn(db.replica)
		if err == nil || !isUnavailable(err) || ctx.Err() != nil {
			return err
		}
		db.replicaDownUntil.Store(time.Now().Add(db.opts.ReplicaRetryInterval).UnixNano())
		db.opts.Logger.WarnContext(ctx, "l3postgres: read replica unavailable, reading from the primary",
			"error", err, "retry_after", db.opts.ReplicaRetryInterval)
	}
	return fn(db.primary)
}

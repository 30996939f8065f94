package strata

import (
	"context"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// Shared negative caching: a reader that holds the fill lease of an id and
// finds it missing in PostgreSQL records the absence in Redis, under the
// lease, for Config.NegativeCacheTTL; every instance's reads of the id then
// stop at Redis until it expires. The marker lives in the record's own key,
// so every write path ends it by the delete it already makes (Set, SetMany,
// Tx, Delete, the write-behind flusher, FlushCache, the change feed), and
// a write that lands while the reader is still reading voids the lease, so
// the marker is never written over it.

// sharedNegative reports whether absences of st's ids are recorded in L2.
func (ds *DataStore) sharedNegative(st *schemaState) bool {
	return ds.l2 != nil && st.l3 != nil && ds.cfg.NegativeCacheTTL > 0
}

// missedUnderLease ends the lease of an id PostgreSQL does not hold: it
// records the absence in L2 (only while the lease stands), or, with
// negative caching off or the marker refused, gives the lease up so the
// next reader can take one at once. The marker is written before the Get
// returns, so the instances waiting on the lease see it on their next poll.
func (ds *DataStore) missedUnderLease(ctx context.Context, st *schemaState, id string, lease l2redis.Lease) {
	if f := ds.test.beforeAbsentFill.Load(); f != nil {
		(*f)(st.Name, id)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), postCommitTimeout)
	defer cancel()
	if ds.sharedNegative(st) {
		wrote, err := ds.l2.FillAbsent(ctx, lease, ds.cfg.NegativeCacheTTL)
		if err != nil {
			ds.cfg.Metrics.Error(st.Name, metrics.TierL2, "fill")
		}
		if wrote || err != nil {
			return
		}
	}
	_ = ds.l2.Release(ctx, lease)
}

// absentInL2 is the answer to a read that found the absence marker of id
// in Redis: the id is missing, without asking PostgreSQL.
func (ds *DataStore) absentInL2(ctx context.Context, st *schemaState, id string) error {
	ds.cfg.Metrics.Hit(st.Name, metrics.TierL2)
	ds.served(ctx, metrics.TierL2)
	return notFound(st, id)
}

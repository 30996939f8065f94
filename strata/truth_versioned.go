package strata

import (
	"context"
	"reflect"
	"time"

	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata/internal/model"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// Versioned writes: how a Set refreshes the caches instead of clearing them.
//
// Migrate gives every table a row version (model.VersionColumn) that a
// trigger sets from a sequence on every INSERT and UPDATE, whoever makes
// it, once the row is locked: of two writes of a row, the later commit has
// the higher version. The upsert returns it (RETURNING, same round trip),
// and Get's L3 read selects it. Every value a versioned schema puts in
// Redis carries its version (l2redis.Versioned).
//
// After its commit, a Set refreshes its L2 key instead of deleting it, in
// the same one-script round trip as the generation and the message: the
// script replaces only a versioned value of a lower version; it leaves a
// value of the same or a higher version; it deletes an unversioned value or
// a fill lease (voiding the lease, as a delete does); and it never creates
// a key that is absent. (Concurrent Sets of a schema may share that
// script call — l2redis's group commit — but each returns only once the
// call carrying its own refresh is answered, so nothing below changes.)
// Hence:
//   - two writers that commit in one order and reach Redis in the other
//     leave the newer value: the older refresh finds a higher version;
//   - a Set racing a Delete cannot resurrect the row: the Delete removed
//     the key, and a refresh never creates one — no tombstone, and no
//     assumption about how long a refresh may be delayed;
//   - a lease-guarded reader fill writes only over its own lease marker,
//     which any refresh or delete voids, and what it writes carries the
//     version it read, so a later refresh of an older write loses to it;
//   - the same holds when Redis evicts or loses keys: absent keys are only
//     filled under a lease, by a read that began after the lease.
//
// The writer's own L1 follows the same rules (refreshL1): every L1 fill
// of a versioned schema records the row version it read (from Redis's
// prefix or PostgreSQL's column), and the writer replaces its entry only
// if that version is lower, creates one only under the fill guard of an
// epoch taken before the write (truth_l1own.go: a concurrent Delete, which
// advances it, cannot be undone), and advances the key's fill epoch as a
// Delete does, so a fill begun before the write cannot land after it.
// The message still drops the other instances' entries (they hold no
// newer value than the one they would read next from Redis), so their next
// read is an L2 hit (one GET) instead of GET, lease, SELECT and fill; the
// writer's next read is an L1 hit.
//
// Why the refresh follows the commit instead of overlapping it (a
// "write-intent" mark set in Redis while the upsert runs, readers that
// find it reading PostgreSQL without filling, and the refresh completed in
// the background after the Set has returned): such a Set would return
// before anything in Redis reflects its commit, so it is only safe while
// the mark survives until the completion — and Redis does not promise
// that. A failover to a replica that had not received the mark, a restart
// without persistence, an eviction (volatile-ttl evicts the short-lived
// mark first) or an InvalidateAll on another instance removes it; a reader
// then takes a fill lease on the absent key, reads the row before the
// commit and fills it, nothing voids that lease (the writer's only Redis
// work before returning is gone), and every other instance reads the older
// row after the Set has returned until the completion lands — seconds, if
// Redis is failing over (the writer's own reads could bypass Redis until
// then; the other instances have no way to know). The refresh run
// after the commit, before Set returns, voids that lease or replaces that
// fill whatever Redis lost before it. (Nor did the overlap pay where it
// was measured, a loaded 2-core VM: one script beside the upsert on a
// second goroutine, with the completion in the background, was not
// measurably faster than the upsert and then the script. BenchmarkSetRatio
// shows where a Set's time goes.)
//
// With the change feed on, the refresh still follows the commit, but the
// Set does not wait for it (upkeepBehind): nothing is marked in Redis
// before the commit, so nothing can be lost there, and what the paragraph
// above feared from a late completion — other instances reading the older
// row until it lands, or for good if the writer dies first — is what the
// feed bounds: it invalidates every commit, whoever wrote it and whether
// or not the writer lives. The writer refreshes its own L1 first and keeps
// the id registered as in flight until the refresh is done, so its reads
// that miss L1 read PostgreSQL, never Redis's older row (inflight.go).
//
// A schema is versioned once this process's Migrate has installed the
// column and trigger (schemaState.versioned); a process that did not
// migrate writes and fills unversioned values, which versioned writers
// delete rather than refresh — the two mix safely.

// versionedTable returns the schema's table handle that reads and returns
// row versions, when the schema is versioned.
func (st *schemaState) versionedTable() l3Table {
	if st.l3v == nil || !st.versioned.Load() {
		return nil
	}
	return st.l3v
}

// upsertVersioned is writeTiers' upsert on a versioned table: rec's
// insert-only fields and the committed version are read back in the same
// statement.
func (ds *DataStore) upsertVersioned(ctx context.Context, st *schemaState, tbl l3Table, vals []any, rec reflect.Value) (uint64, error) {
	var ver int64
	err := tbl.UpsertGrouped(ctx, vals, append(st.insertOnlyTargets(rec), &ver)...)
	return uint64(ver), err
}

// refreshAfterWrite is invalidateAfterWrite for a Set of a versioned
// schema: the L2 key is refreshed with rec at version ver (see above)
// rather than deleted. Should Redis fail, it falls back to the unversioned
// upkeep's repair, which deletes: always safe.
//
// With the change feed on, the Redis part runs after Set has returned
// (see upkeepBehind): the writer's L1 is refreshed first, and leave, which
// ends the write's registration (inflight.go), is called once Redis is
// done; it reports whether it handed leave over.
func (ds *DataStore) refreshAfterWrite(ctx context.Context, st *schemaState, id string, rec reflect.Value, ver uint64, epoch writerEpoch, leave func()) (handed bool) {
	data, err := ds.encodeL2(st, rec)
	if err != nil || ds.l2 == nil {
		ds.invalidateAfterWrite(ctx, st, l2redis.OpSet, true, id)
		return false
	}
	change := l2redis.Change{Key: st.key(id), Value: l2redis.Versioned(ver, data), TTL: st.l2TTL, Refresh: !ds.test.noVersionGuard.Load()}
	if ds.upkeepBehind() {
		ds.refreshL1(st, id, rec, ver, epoch)
		ds.queueRefresh(st, id, change, leave)
		return true
	}
	if ds.refreshL2(ctx, st, []l2redis.Change{change}, []string{id}) {
		ds.refreshL1(st, id, rec, ver, epoch)
	}
	return false
}

// refreshL2 applies a versioned Set's refresh of Redis and tells the other
// instances; a failure goes to the repairer. It reports whether Redis was
// told.
func (ds *DataStore) refreshL2(ctx context.Context, st *schemaState, changes []l2redis.Change, ids []string) bool {
	for _, id := range ids {
		ds.test.runBeforeRefresh(st.Name, id)
	}
	ctx, cancel := context.WithTimeout(ctx, postCommitTimeout)
	defer cancel()
	start := time.Now()
	err := ctx.Err()
	if err == nil {
		err = ds.l2.Apply(ctx, ds.bus, changes, st.prefix, l2redis.OpSet, st.Name, ids...)
	}
	ds.cfg.Metrics.Latency(st.Name, metrics.TierL2, "invalidate", time.Since(start))
	if err != nil {
		ds.afterUpkeepFailed(ctx, st, true, err, ids...)
		return false
	}
	if ds.bus != nil {
		ds.invalidationSent(st.Name, l2redis.OpSet, len(ids))
	}
	ds.startRepairerIfStale()
	return true
}

// refreshL1 is the writer's own L1 after a versioned Set: the entry is
// replaced by rec only if it holds a lower version the read that filled it
// recorded (l1mem.Cache.Refresh); one of the same or a higher version
// stays, one of unknown version is dropped, an absent one is created only
// if the key's epoch is still the one taken before the write (see
// truth_l1own.go). Like Delete, it voids the fills in flight. Without the
// version guard (a test switch) it stores rec as a writer without
// versions would.
func (ds *DataStore) refreshL1(st *schemaState, id string, rec reflect.Value, ver uint64, epoch writerEpoch) {
	switch {
	case !st.useL1 || ds.doubts.has(st, id):
		st.l1.Delete(id)
	case ds.test.noVersionGuard.Load():
		st.l1.Set(id, st.snapshot(rec))
	case epoch.taken:
		st.l1.RefreshIfEpoch(id, st.snapshot(rec), ver, epoch.n)
	default:
		st.l1.Refresh(id, st.snapshot(rec), ver)
	}
}

// versionedFill returns data as L2 should hold a row read at version ver:
// versioned when the read was.
func versionedFill(data []byte, ver int64, versioned bool) []byte {
	if !versioned {
		return data
	}
	return l2redis.Versioned(uint64(ver), data)
}

// markVersioned makes the schemas Migrate gave a row version refresh the
// caches on write from now on.
func (ds *DataStore) markVersioned() {
	for _, st := range *ds.schemas.Load() {
		if st.l3v != nil {
			st.versioned.Store(true)
		}
	}
}

// rowVersion is the row version column Migrate adds to a schema's table,
// or "" when the model has a column of that name (the schema then stays
// unversioned).
func rowVersion(m *model.Model) string {
	if _, taken := m.ByColumn[model.VersionColumn]; taken {
		return ""
	}
	return model.VersionColumn
}

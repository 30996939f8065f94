package strata

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The write-behind journal (Config.WriteBehindJournal): the durable log of
// the write-behind truth (behindTruth, truth_behind.go), hence a truth file.
//
// Without it a write-behind Set lives only in this process's memory until
// the flusher writes it to PostgreSQL: a crash loses it. With it, a Set is
// acknowledged only once it is in a Redis Stream, one per schema, and the
// flusher acknowledges the stream entries (XACK, then XDEL) after
// PostgreSQL has committed them. Entries nobody acknowledged for
// Config.WriteBehindJournalClaimIdle — their instance died, or could not
// reach PostgreSQL for that long — are claimed by another instance (or a new
// one) with XAUTOCLAIM and flushed by it.
//
// Keys: the stream "strata:#journal:{<L2 prefix>}", with one consumer group
// ("strata") whose consumers are the instances; and the hash
// "strata:#journal:{<L2 prefix>}:latest", which maps a record id to the
// stream id of its newest journaled write. (The braces keep both in one
// Cluster slot.)
//
// Order per key. A claimed entry is older than anything written after it,
// and must never overwrite a newer value PostgreSQL has committed. Three
// rules give that:
//
//  1. One Lua script appends a Set: XADD, HSET latest[id] = the new stream
//     id, XREADGROUP (which puts the entry in the appending instance's
//     pending list). Scripts run one at a time, so latest[id] is always the
//     stream id of the newest journaled write of id, and stream ids order
//     the writes of one key.
//  2. A journal flush writes a record only if latest[id] still equals the
//     stream id of the value it holds; otherwise a newer write exists, whose
//     owner (live, or whoever claims it) writes it, and the older entry is
//     acknowledged without being written. After the commit, the
//     acknowledgement deletes latest[id] if it still names that entry;
//     an entry of id that is still pending then finds latest[id] missing,
//     which means "a newer write of id has been committed", and is skipped.
//     Delete removes latest[id] the same way before it deletes the row.
//  3. The check and the commit must not be split by another writer of the
//     key: a journal flush (and a Delete on a journal schema) holds a
//     PostgreSQL advisory lock of the schema's table from the check until
//     the acknowledgement. A write journaled after the check has a larger
//     stream id; its flush takes the lock after ours and commits later.
//
// So the last value PostgreSQL commits for a key is always that of its
// newest journaled write. The lock serialises journal flushes of one schema
// across the fleet; each writes up to 5,000 records in one upsert.

const (
	journalGroup     = "strata"
	journalClaimPage = 500
	// DefaultWriteBehindJournalClaimIdle is how long a journal entry stays
	// unacknowledged before another instance claims it.
	DefaultWriteBehindJournalClaimIdle = 30 * time.Second
)

// journal is the stream of one write-behind schema.
type journal struct {
	stream, latest string
	consumer       string
	rdb            redis.UniversalClient
	lockKey        string // the advisory lock's text, hashed by PostgreSQL
}

// newJournal returns st's journal, or nil when the journal is off.
func (ds *DataStore) newJournal(st *schemaState) *journal {
	if !ds.cfg.WriteBehindJournal || ds.l2 == nil || st.l3 == nil {
		return nil
	}
	consumer := randomConsumer()
	if ds.bus != nil {
		consumer = ds.bus.InstanceID()
	}
	return &journal{
		stream:   journalKey(st.prefix),
		latest:   journalKey(st.prefix) + ":latest",
		consumer: consumer,
		rdb:      ds.l2.Client(),
		lockKey:  "strata journal " + st.Name,
	}
}

// journalKey is the stream of the schema with L2 prefix prefix; its
// newest-write hash is the same key with ":latest". The braces keep both in
// one Cluster slot.
func journalKey(prefix string) string { return "strata:#journal:{" + prefix + "}" }

func randomConsumer() string {
	return strconv.FormatInt(time.Now().UnixNano(), 36)
}

// appendScript journals writes: ARGV = group, consumer, then (id, record,
// clear mask) triples. It returns the stream ids, in order. XREADGROUP
// takes every entry not yet delivered: only those just added, unless a
// script failed half-way (a script is not rolled back), whose entries then
// become pending here and are checked like any other when claimed.
var appendScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '$', 'MKSTREAM')
end
local out = {}
for i = 3, #ARGV, 3 do
  local sid = redis.call('XADD', KEYS[1], '*', 'k', ARGV[i], 'v', ARGV[i+1], 'c', ARGV[i+2])
  redis.call('HSET', KEYS[2], ARGV[i], sid)
  out[#out+1] = sid
end
redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'STREAMS', KEYS[1], '>')
return out
`)

// ackScript acknowledges flushed entries: ARGV = group, n, then n (id,
// stream id of the value written) pairs, then every stream id to
// acknowledge. latest[id] is deleted where it still names the value written.
var ackScript = redis.NewScript(`
local n = tonumber(ARGV[2])
for i = 0, n - 1 do
  local k, sid = ARGV[3 + 2*i], ARGV[4 + 2*i]
  if sid ~= '' and redis.call('HGET', KEYS[2], k) == sid then redis.call('HDEL', KEYS[2], k) end
end
for s = 3 + 2*n, #ARGV, 1000 do
  local e = math.min(s + 999, #ARGV)
  redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, s, e))
  redis.call('XDEL', KEYS[1], unpack(ARGV, s, e))
end
return 0
`)

// appendJournal writes recs to st's journal in one round trip and returns
// their stream ids. The Set is acknowledged only after this returns.
func (ds *DataStore) appendJournal(ctx context.Context, st *schemaState, ids []string, recs []reflect.Value, clear []bool) ([]string, error) {
	j := st.wb.j
	args := make([]any, 0, 2+3*len(ids))
	args = append(args, journalGroup, j.consumer)
	mask := clearMask(clear)
	for i, id := range ids {
		data, err := ds.cfg.Codec.Marshal(recs[i].Addr().Interface())
		if err != nil {
			return nil, fmt.Errorf("%w: %s %q for the write-behind journal: %w", ErrEncodeFailed, st.Name, id, err)
		}
		args = append(args, id, data, mask)
	}
	keys := []string{j.stream, j.latest}
	res, err := appendScript.Run(ctx, j.rdb, keys, args...).StringSlice()
	if err != nil && strings.HasPrefix(err.Error(), "NOGROUP") {
		if err = j.createGroup(ctx); err == nil {
			res, err = appendScript.Run(ctx, j.rdb, keys, args...).StringSlice()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: schema %q: the write-behind journal could not take the write, so it was not made: %w", ErrL2Unavailable, st.Name, err)
	}
	if len(res) != len(ids) {
		return nil, fmt.Errorf("%w: schema %q: the write-behind journal returned %d stream ids for %d writes", ErrL2Unavailable, st.Name, len(res), len(ids))
	}
	return res, nil
}

func (j *journal) createGroup(ctx context.Context) error {
	err := j.rdb.XGroupCreateMkStream(ctx, j.stream, journalGroup, "0").Err()
	if err != nil && strings.Contains(err.Error(), "BUSYGROUP") {
		return nil
	}
	return err
}

func clearMask(clear []bool) string {
	if clear == nil {
		return ""
	}
	b := make([]byte, len(clear))
	for i, c := range clear {
		b[i] = '0'
		if c {
			b[i] = '1'
		}
	}
	return string(b)
}

func parseClearMask(s string) []bool {
	if s == "" {
		return nil
	}
	out := make([]bool, len(s))
	for i := range s {
		out[i] = s[i] == '1'
	}
	return out
}

// streamIDLess orders two stream ids ("ms-seq").
func streamIDLess(a, b string) bool {
	am, as, _ := strings.Cut(a, "-")
	bm, bs, _ := strings.Cut(b, "-")
	if am != bm {
		x, _ := strconv.ParseUint(am, 10, 64)
		y, _ := strconv.ParseUint(bm, 10, 64)
		return x < y
	}
	x, _ := strconv.ParseUint(as, 10, 64)
	y, _ := strconv.ParseUint(bs, 10, 64)
	return x < y
}

// journalLock takes the schema's advisory lock in PostgreSQL (see rule 3
// above) on a connection of its own, until unlock.
func (ds *DataStore) journalLock(ctx context.Context, st *schemaState) (unlock func(), err error) {
	tx, err := ds.l3.Pool().Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: write-behind journal lock: %w", ErrL3Unavailable, err)
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", st.wb.j.lockKey); err != nil {
		_ = tx.Rollback(context.Background())
		return nil, fmt.Errorf("%w: write-behind journal lock: %w", ErrL3Unavailable, err)
	}
	return func() {
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if tx.Rollback(rctx) != nil { // never hand a connection holding the lock back to the pool
			_ = tx.Conn().Close(rctx)
		}
	}, nil
}

// latestOf returns latest[id] for each id ("" when absent).
func (j *journal) latestOf(ctx context.Context, ids []string) ([]string, error) {
	vals, err := j.rdb.HMGet(ctx, j.latest, ids...).Result()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ids))
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[i] = s
		}
	}
	return out, nil
}

// ack acknowledges and deletes the stream entries jids; for each ids[i]
// written with the value of stream id wrote[i] ("" for one not written),
// latest[ids[i]] is dropped if it still names it.
func (j *journal) ack(ctx context.Context, ids, wrote, jids []string) error {
	if len(jids) == 0 {
		return nil
	}
	args := make([]any, 0, 2+2*len(ids)+len(jids))
	args = append(args, journalGroup, len(ids))
	for i, id := range ids {
		args = append(args, id, wrote[i])
	}
	for _, s := range jids {
		args = append(args, s)
	}
	return ackScript.Run(ctx, j.rdb, []string{j.stream, j.latest}, args...).Err()
}

// journalBatch is a snapshot of due dirty entries of a journal schema.
type journalBatch struct {
	ids    []string
	recs   []reflect.Value
	clears [][]bool
	seqs   []uint64
	jids   [][]string // every stream id the entry stands for
	newest []string   // the stream id of the value held

	done  []bool   // written or superseded: acknowledge (set by the flush)
	wrote []string // the stream id of the value written, "" if superseded
}

func (b *journalBatch) add(id string, e *dirtyEntry) {
	b.ids, b.recs, b.clears, b.seqs = append(b.ids, id), append(b.recs, e.rec), append(b.clears, e.clear), append(b.seqs, e.seq)
	b.jids, b.newest = append(b.jids, append([]string(nil), e.jids...)), append(b.newest, e.jnew)
}

// flushJournaled is flushSchema for a schema with a journal.
func (ds *DataStore) flushJournaled(ctx context.Context, st *schemaState, force bool) (int, error) {
	wb := st.wb
	wb.flushMu.Lock()
	defer wb.flushMu.Unlock()
	var lastErr error
	tried := map[string]bool{}
	for {
		now := time.Now()
		var b journalBatch
		wb.mu.Lock()
		for id, e := range wb.dirty {
			if len(b.ids) == flushBatch {
				break
			}
			if !tried[id] && (force || !e.due.After(now)) {
				b.add(id, e)
			}
		}
		wb.mu.Unlock()
		if len(b.ids) == 0 {
			return wb.len(), lastErr
		}
		stop, err := ds.flushJournalBatch(ctx, st, &b, tried)
		if err != nil {
			lastErr = err
		}
		if stop || len(b.ids) < flushBatch {
			return wb.len(), lastErr
		}
	}
}

// flushJournalBatch writes one batch under the journal lock. stop reports a
// failure that ends this flush (PostgreSQL or Redis unreachable).
func (ds *DataStore) flushJournalBatch(ctx context.Context, st *schemaState, b *journalBatch, tried map[string]bool) (stop bool, err error) {
	unlock, err := ds.journalLock(ctx, st)
	if err != nil {
		ds.flushFailed(st, b.ids, err)
		return true, err
	}
	defer unlock()
	latest, err := st.wb.j.latestOf(ctx, b.ids)
	if err != nil {
		err = fmt.Errorf("%w: write-behind journal: %w", ErrL2Unavailable, err)
		ds.flushFailed(st, b.ids, err)
		return true, err
	}
	b.done = make([]bool, len(b.ids))    // written or superseded: acknowledge
	b.wrote = make([]string, len(b.ids)) // stream id of the value written
	var w []int
	for i := range b.ids {
		if latest[i] == b.newest[i] {
			w = append(w, i)
		} else {
			b.done[i] = true // a newer write exists: its owner writes it
		}
	}
	if len(w) > 0 {
		stop, err = ds.writeJournalBatch(ctx, st, b, w, tried)
	}
	ds.settleJournalBatch(ctx, st, b)
	return stop, err
}

// writeJournalBatch writes the entries w of b to PostgreSQL in one
// statement, or one by one when that fails on a record (so that one bad
// record does not hold the others back; it is marked tried), and marks in
// b what was written.
func (ds *DataStore) writeJournalBatch(ctx context.Context, st *schemaState, b *journalBatch, w []int, tried map[string]bool) (stop bool, err error) {
	write := func(idx []int) error {
		ids, recs, clears := make([]string, len(idx)), make([]reflect.Value, len(idx)), make([][]bool, len(idx))
		for n, i := range idx {
			ids[n], recs[n], clears[n] = b.ids[i], b.recs[i], b.clears[i]
		}
		return ds.flushRecords(ctx, st, ids, recs, clears)
	}
	if err = write(w); err == nil {
		for _, i := range w {
			b.done[i], b.wrote[i] = true, b.newest[i]
		}
		return false, nil
	}
	if retryableL3(err) || len(w) == 1 || ctx.Err() != nil {
		ds.flushFailed(st, pick(b.ids, w), err)
		return true, err
	}
	for n, i := range w {
		if ctx.Err() != nil {
			ds.flushFailed(st, pick(b.ids, w[n:]), ctx.Err())
			return true, ctx.Err()
		}
		if e := write([]int{i}); e != nil {
			if retryableL3(e) {
				ds.flushFailed(st, pick(b.ids, w[n:]), e)
				return true, e
			}
			ds.flushFailed(st, []string{b.ids[i]}, e)
			tried[b.ids[i]] = true
			continue
		}
		b.done[i], b.wrote[i] = true, b.newest[i]
	}
	return false, err
}

// settleJournalBatch acknowledges the journal entries of b that are done
// (written or superseded) and drops them from the dirty set, unless a
// newer Set arrived during the flush.
func (ds *DataStore) settleJournalBatch(ctx context.Context, st *schemaState, b *journalBatch) {
	wb, j := st.wb, st.wb.j
	var ackIDs, ackWrote, ackJids []string
	for i := range b.ids {
		if b.done[i] {
			ackIDs, ackWrote = append(ackIDs, b.ids[i]), append(ackWrote, b.wrote[i])
			ackJids = append(ackJids, b.jids[i]...)
		}
	}
	if aerr := j.ack(ctx, ackIDs, ackWrote, ackJids); aerr != nil {
		// The rows are written; the entries stay pending and are claimed
		// later, then written again (the same newest value) or skipped.
		ds.cfg.Logger.Warn("strata: write-behind journal: acknowledging flushed entries failed; they will be claimed and checked again", "schema", st.Name, "entries", len(ackJids), "err", aerr)
	}
	var extra []string // older entries that joined an unchanged value meanwhile
	wb.mu.Lock()
	for i, id := range b.ids {
		if !b.done[i] {
			continue
		}
		e, ok := wb.dirty[id]
		if !ok {
			continue
		}
		if e.seq == b.seqs[i] {
			extra = append(extra, e.jids[min(len(b.jids[i]), len(e.jids)):]...)
			delete(wb.dirty, id)
			if b.wrote[i] == "" && st.useL1 { // superseded: L1 must not keep it
				st.l1.Delete(id)
			}
		} else if len(e.jids) >= len(b.jids[i]) {
			e.jids = e.jids[len(b.jids[i]):] // a newer Set during the flush stays dirty
		}
	}
	wb.mu.Unlock()
	if len(extra) > 0 {
		_ = j.ack(ctx, nil, nil, extra) // if this fails they are claimed and skipped later
	}
}

func pick(ids []string, idx []int) []string {
	out := make([]string, len(idx))
	for n, i := range idx {
		out[n] = ids[i]
	}
	return out
}

// journalForget makes pending journal entries of ids stale before a Delete
// or a Tx writes them (rule 2): it takes the journal lock, which the caller
// releases after its commit, and removes latest[id] of each.
func (ds *DataStore) journalForget(ctx context.Context, st *schemaState, ids ...string) (unlock func(), err error) {
	unlock, err = ds.journalLock(ctx, st)
	if err != nil {
		return nil, err
	}
	if err := st.wb.j.rdb.HDel(ctx, st.wb.j.latest, ids...).Err(); err != nil {
		unlock()
		return nil, fmt.Errorf("%w: write-behind journal: %w", ErrL2Unavailable, err)
	}
	return unlock, nil
}

// journalCheckCapacity fails like enqueueWriteBehind when ids do not fit in
// WriteBehindMaxPending; it runs before the journal takes the writes, so a
// refused Set leaves nothing behind (concurrent Sets may overshoot the
// limit by their number).
func (ds *DataStore) journalCheckCapacity(st *schemaState, ids []string) error {
	wb := st.wb
	wb.mu.Lock()
	defer wb.mu.Unlock()
	fresh := 0
	for _, id := range ids {
		if _, ok := wb.dirty[id]; !ok {
			fresh++
		}
	}
	if len(wb.dirty)+fresh > ds.cfg.WriteBehindMaxPending {
		return fmt.Errorf("%w: schema %q: %d new keys do not fit beside the %d waiting for PostgreSQL (limit %d)", ErrWriteBehindFull, st.Name, fresh, len(wb.dirty), ds.cfg.WriteBehindMaxPending)
	}
	return nil
}

// claimer claims abandoned journal entries until stop is closed.
func (ds *DataStore) claimer(stop <-chan struct{}) {
	every := max(ds.cfg.WriteBehindJournalClaimIdle/2, 50*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		for _, st := range ds.writeBehindSchemas() {
			if st.wb.j != nil {
				if _, err := ds.claimJournal(ctx, st); err != nil && ctx.Err() == nil {
					ds.cfg.Logger.Warn("strata: write-behind journal: claiming abandoned entries failed; will retry", "schema", st.Name, "err", err)
				}
			}
		}
		cancel()
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// claimJournal takes over the entries of st's journal that nobody has
// acknowledged for WriteBehindJournalClaimIdle and makes them dirty here;
// entries a newer write supersedes are acknowledged at once. It returns how
// many it adopted.
func (ds *DataStore) claimJournal(ctx context.Context, st *schemaState) (int, error) {
	j := st.wb.j
	adopted := 0
	start := "0-0"
	for {
		msgs, next, err := j.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: j.stream, Group: journalGroup, Consumer: j.consumer,
			MinIdle: ds.cfg.WriteBehindJournalClaimIdle, Start: start, Count: journalClaimPage,
		}).Result()
		if err != nil {
			if strings.HasPrefix(err.Error(), "NOGROUP") || errors.Is(err, redis.Nil) {
				return adopted, nil // nothing was ever journaled
			}
			return adopted, err
		}
		if len(msgs) > 0 {
			n, err := ds.adoptClaimed(ctx, st, msgs)
			adopted += n
			if err != nil {
				return adopted, err
			}
		}
		if next == "0-0" || next == "" {
			break
		}
		start = next
	}
	if adopted > 0 {
		select {
		case ds.flushNow <- struct{}{}:
		default:
		}
	}
	return adopted, nil
}

func (ds *DataStore) adoptClaimed(ctx context.Context, st *schemaState, msgs []redis.XMessage) (int, error) {
	j, wb := st.wb.j, st.wb
	ids := make([]string, 0, len(msgs))
	keep := make([]redis.XMessage, 0, len(msgs))
	for _, m := range msgs {
		id, _ := m.Values["k"].(string)
		if id == "" {
			ds.cfg.Logger.Warn("strata: write-behind journal: an entry without a record id was dropped", "schema", st.Name, "entry", m.ID)
			_ = j.ack(ctx, nil, nil, []string{m.ID})
			continue
		}
		ids, keep = append(ids, id), append(keep, m)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	latest, err := j.latestOf(ctx, ids)
	if err != nil {
		return 0, err
	}
	var stale []string
	adopted := 0
	for i, m := range keep {
		if latest[i] != m.ID { // a newer write of the key exists, or was committed
			stale = append(stale, m.ID)
			continue
		}
		data, _ := m.Values["v"].(string)
		mask, _ := m.Values["c"].(string)
		p := reflect.New(st.model.Type)
		if err := ds.cfg.Codec.Unmarshal([]byte(data), p.Interface()); err != nil {
			// Left pending: a version of the program that can read it may
			// claim it.
			ds.cfg.Logger.Warn("strata: write-behind journal: a claimed entry does not decode; left pending", "schema", st.Name, "id", ids[i], "entry", m.ID, "err", err)
			continue
		}
		st.normalizeTimes(p.Elem())
		wb.adopt(st, ids[i], p.Elem(), parseClearMask(mask), m.ID)
		adopted++
	}
	if len(stale) > 0 {
		if err := j.ack(ctx, nil, nil, stale); err != nil {
			return adopted, err
		}
	}
	return adopted, nil
}

// adopt makes a claimed journal entry dirty here, unless this instance
// already holds a newer write of id.
func (wb *writeBehind) adopt(st *schemaState, id string, rec reflect.Value, clear []bool, jid string) {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	e, ok := wb.dirty[id]
	if ok && slices.Contains(e.jids, jid) { // claimed back from ourselves
		return
	}
	if ok && !streamIDLess(e.jnew, jid) {
		e.jids = append(e.jids, jid)
		return
	}
	if !ok {
		e = &dirtyEntry{due: time.Now()}
		e.since = e.due
		wb.dirty[id] = e
	}
	wb.seq++
	e.rec, e.clear, e.seq = rec, clear, wb.seq
	e.jids, e.jnew = append(e.jids, jid), jid
	if st.useL1 {
		st.l1.Set(id, st.snapshot(rec))
	}
}

// startClaimer starts the journal claimer once.
func (ds *DataStore) startClaimer() {
	ds.life.claimer.Do(func() { ds.goBackground(func() { ds.claimer(ds.life.stop) }) })
}

// txIDs returns the ids ops write in st.
func txIDs(ops []prepared, st *schemaState) []string {
	var ids []string
	for _, p := range ops {
		if p.st == st {
			ids = append(ids, p.id)
		}
	}
	return ids
}

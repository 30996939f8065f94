package l3postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Group commit of upserts ([Table.UpsertGrouped]).
//
// Calls of one table (and one set of Keep columns) share a group. A call
// that finds fewer than maxInFlight statements of its group in flight
// runs its own statement at once, exactly as UpsertReturning would: a lone
// writer waits for nothing. A call that finds maxInFlight in flight
// queues; when one of them has been answered, what queued meanwhile goes
// as one multi-row INSERT … ON CONFLICT … DO UPDATE … RETURNING, in one
// implicit transaction, run by a goroutine of the group's. So:
//   - a call returns only once the statement that carried its row has been
//     answered, with its own row's RETURNING values (matched by key);
//   - a batch is whatever queued while the previous statement was in
//     flight, at most maxGroupRows rows: no call waits for a batch to fill;
//   - a key is in a batch at most once (ON CONFLICT cannot touch a row
//     twice in one statement): a later call for a key already in the
//     forming batch, or in a batch in flight, stays queued for a later
//     one, so two queued calls for one key go in two statements, in the
//     order they queued;
//   - a batch's rows are sorted by key, so two statements that each lock
//     several rows take the locks in one order and cannot deadlock (a
//     transaction that locks rows in another order can: PostgreSQL then
//     fails one of the two, and a failed batch is sent again row by row);
//   - when the server refused the batch (an ERROR: nothing of it was
//     applied), every call's row is sent again in a statement of its own,
//     so a row's error (a constraint, a bad value) reaches only its caller
//     and the other rows commit; when the batch's outcome is unknown (the
//     connection broke, the deadline passed after it was sent), every
//     call it carried gets that *OutcomeUnknownError;
//   - a queued call whose context ends before its batch is sent is
//     withdrawn: it returns the context's error and nothing of it is
//     written. One whose context ends after its batch was sent returns at
//     once an *OutcomeUnknownError naming the batch's backend, which is
//     closed once the statement has been answered, so that the backend
//     ending settles the outcome as it does for a lone write.
//
// The batch's statement runs under a context with the latest deadline of
// the calls it carries (none if one has none) and none's cancellation, so
// that one caller giving up does not fail the others.

// maxInFlight is how many statements of a group may be in flight at once.
// Two, not one: a Set's work is a pipeline of two stages (this statement,
// then its caches' upkeep), and with one statement in flight the server
// sits idle while the callers of the last batch do their upkeep, so the
// writers move in lockstep and a busy machine's scheduling delays add up
// along the chain. In YCSB A (8 threads, 2-core VM at load 20-28, against
// go-ycsb's pg binding, same runs): one in flight halved PostgreSQL's CPU
// per operation (about 105 to 56 µs) but gave 0.46-0.68x against the
// ungrouped 0.61-0.73x; two gave 0.57-0.78x, with PostgreSQL at 70-95 µs.
// On the same machine idle (A alone, two interleaved runs per build): none
// 0.72-0.81x, one 0.86-0.91x, two 0.85-0.95x.
const maxInFlight = 2

// maxGroupRows bounds the rows of one batch (and so its parameters, below
// PostgreSQL's 65,535 per statement).
const maxGroupRows = 64

// maxUpsertGroups bounds how many groups a DB remembers (one per table
// handle and set of Keep columns in use); past it the table starts again.
const maxUpsertGroups = 1 << 12

// upsertGroupKey is what calls must share to share a statement.
type upsertGroupKey struct {
	tbl  *tableSQL
	keep string // plainRow's key of the kept columns
}

// upsertGroup is one group's state.
type upsertGroup struct {
	mu    sync.Mutex
	busy  int             // statements of the group in flight
	queue []*queuedUpsert // calls waiting for the next batch
	keys  map[string]int  // the keys of the batches in flight
	sql   map[int]string  // the batch statement by row count (drainer only)
}

// Where a queued call is (guarded by its group's mu).
const (
	upsertQueued = iota // in the queue
	upsertTaken         // in a batch not sent yet
	upsertSent          // in a batch sent to the server
	upsertGone          // its caller returned on its context's end
)

// queuedUpsert is a call waiting in a group.
type queuedUpsert struct {
	ctx    context.Context
	key    string
	values []any // plain (Keep removed)
	dest   []any
	done   chan error // buffered: the call's result
	state  int
	batch  *upsertBatch // set when taken
}

// upsertBatch is what a batch's calls share once it is taken.
type upsertBatch struct {
	backend   uint32 // the server backend it was sent to (guarded by the group's mu)
	abandoned bool   // a call returned after it was sent (guarded by the group's mu)
}

// upsertGroups finds a key's group.
type upsertGroups struct {
	mu sync.Mutex
	m  map[upsertGroupKey]*upsertGroup
}

func (t *upsertGroups) get(k upsertGroupKey) *upsertGroup {
	t.mu.Lock()
	defer t.mu.Unlock()
	g := t.m[k]
	if g == nil {
		if t.m == nil || len(t.m) >= maxUpsertGroups {
			// Forgotten groups finish what they hold; a call that finds
			// none starts a new one, and at worst two statements of one
			// group are in flight at once, as without grouping.
			t.m = map[upsertGroupKey]*upsertGroup{}
		}
		g = &upsertGroup{}
		t.m[k] = g
	}
	return g
}

func (t *upsertGroups) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// UpsertGrouped is [Table.UpsertReturning] (same values, destinations and
// errors) that may share its statement with concurrent calls of the same
// table: while one is in flight, the calls that arrive queue, and go as
// one multi-row statement when it returns; a lone call runs at once. Each
// call returns once the statement carrying its row has been answered, with
// its own row's values; a row the server refuses fails only its own call
// (the batch is then sent again one row per statement); a batch whose
// outcome is unknown fails every call it carried with an
// *[OutcomeUnknownError]. A call whose context ends while it waits for its
// batch is withdrawn and writes nothing; once its batch was sent, it gets
// an *OutcomeUnknownError. On a table bound to a transaction, on a
// partitioned table, or with a key that is not a string, it is
// UpsertReturning.
func (t *Table) UpsertGrouped(ctx context.Context, values []any, dest ...any) error {
	if want := t.nreturn(); len(dest) != want {
		return fmt.Errorf("%w: %s returns %d columns (InsertOnly, then the version), got %d destinations", ErrInvalidQuery, t.qname, want, len(dest))
	}
	if len(values) != len(t.qcols) {
		return fmt.Errorf("%w: %s has %d columns, got %d values", ErrInvalidQuery, t.qname, len(t.qcols), len(values))
	}
	key, ok := values[t.pk].(string)
	if t.tx != nil || t.partitioned || !ok {
		return t.UpsertReturning(ctx, values, dest...)
	}
	if t.db.closed.Load() {
		return ErrClosed
	}
	plain, keep := t.plainRow(values)
	g := t.db.groups.get(upsertGroupKey{tbl: t.tableSQL, keep: keep})
	g.mu.Lock()
	if g.busy >= maxInFlight {
		q := &queuedUpsert{ctx: ctx, key: key, values: plain, dest: dest, done: make(chan error, 1)}
		g.queue = append(g.queue, q)
		g.mu.Unlock()
		return g.wait(q)
	}
	g.busy++
	g.mu.Unlock()
	err := t.UpsertReturning(ctx, values, dest...)
	g.mu.Lock()
	if len(g.queue) == 0 {
		g.busy--
		g.mu.Unlock()
		return err
	}
	g.mu.Unlock()
	t.db.drains.Add(1)
	go t.db.drain(t.tableSQL, keep, g) // the calls that queued meanwhile: this call returns now
	return err
}

// wait is a queued call's wait for its result or its context's end.
func (g *upsertGroup) wait(q *queuedUpsert) error {
	select {
	case err := <-q.done:
		return err
	case <-q.ctx.Done():
	}
	g.mu.Lock()
	select {
	case err := <-q.done: // answered meanwhile
		g.mu.Unlock()
		return err
	default:
	}
	state := q.state
	q.state = upsertGone
	var backend uint32
	switch state {
	case upsertQueued: // withdrawn: nothing of it was sent
		if i := slices.Index(g.queue, q); i >= 0 {
			g.queue = slices.Delete(g.queue, i, i+1)
		}
	case upsertSent:
		q.batch.abandoned = true
		backend = q.batch.backend
	}
	g.mu.Unlock()
	err := mapErr(q.ctx.Err())
	if state == upsertSent {
		return &OutcomeUnknownError{Backend: backend, Err: err}
	}
	return err
}

// drain runs g's queued calls as batches until none is left, then marks
// g idle.
func (db *DB) drain(t *tableSQL, keep string, g *upsertGroup) {
	defer db.drains.Done()
	for {
		g.mu.Lock()
		batch := g.take(maxBatchRows(len(t.qcols)))
		if len(batch) == 0 {
			g.busy--
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		db.runBatch(t, keep, g, batch)
		g.mu.Lock()
		for _, q := range batch {
			if g.keys[q.key]--; g.keys[q.key] == 0 {
				delete(g.keys, q.key)
			}
		}
		g.mu.Unlock()
	}
}

// maxBatchRows is how many rows of ncols columns one batch may carry.
func maxBatchRows(ncols int) int {
	return max(1, min(maxGroupRows, 65535/max(ncols, 1)))
}

// take removes from g's queue, and returns, the next batch: queued calls
// in order, at most n, each key once and none of a batch in flight (so
// that two calls for one key are written in the order they queued).
// Called with g.mu held.
func (g *upsertGroup) take(n int) []*queuedUpsert {
	if len(g.queue) == 0 {
		return nil
	}
	b := &upsertBatch{}
	var batch, rest []*queuedUpsert
	for _, q := range g.queue {
		if len(batch) == n || g.keys[q.key] > 0 {
			rest = append(rest, q)
			continue
		}
		if g.keys == nil {
			g.keys = map[string]int{}
		}
		g.keys[q.key]++
		q.state, q.batch = upsertTaken, b
		batch = append(batch, q)
	}
	clear(g.queue)
	g.queue = append(g.queue[:0], rest...)
	return batch
}

// runBatch sends batch as one statement and gives each call its result.
func (db *DB) runBatch(t *tableSQL, keep string, g *upsertGroup, batch []*queuedUpsert) {
	slices.SortFunc(batch, func(a, b *queuedUpsert) int { return cmp.Compare(a.key, b.key) })
	ctx, cancel := upsertBatchContext(batch)
	defer cancel()
	if db.closed.Load() {
		g.answer(batch, func(*queuedUpsert) error { return ErrClosed })
		return
	}
	c, err := db.primary.Acquire(ctx)
	if err != nil {
		err = mapErr(err)
		g.answer(batch, func(*queuedUpsert) error { return err })
		return
	}
	backend := backendOf(c)
	live := g.send(batch, backend)
	if len(live) > 0 {
		missing, err := db.execBatch(ctx, c, t, keep, g, live)
		if err != nil && len(live) > 1 && notApplied(err) && isServerError(err) {
			db.execEach(ctx, c, t, keep, g, live) // attribute the refusal to its rows
		} else {
			err = outcome(err, backend)
			g.answer(live, func(q *queuedUpsert) error {
				if err == nil && missing[q] {
					return &OutcomeUnknownError{Backend: backend, Err: fmt.Errorf("%w: the batch returned no row for key %q", ErrInvalidQuery, q.key)}
				}
				return err
			})
		}
	}
	g.mu.Lock()
	abandoned := batch[0].batch.abandoned
	g.mu.Unlock()
	if abandoned {
		// A caller returned "outcome unknown" naming this backend: ending
		// it settles that outcome (see OutcomeUnknownError).
		closeCtx, cancelClose := context.WithTimeout(context.Background(), time.Second)
		_ = c.Conn().Close(closeCtx)
		cancelClose()
	}
	c.Release()
}

// isServerError reports whether err is the server's refusal of a
// statement (it answered with an ERROR) rather than a failure to send it.
func isServerError(err error) bool {
	var pg interface{ SQLState() string }
	return errors.As(err, &pg)
}

// send marks batch's calls as sent to backend and returns those still
// waiting; the others' callers have left, and their rows are dropped.
func (g *upsertGroup) send(batch []*queuedUpsert, backend uint32) []*queuedUpsert {
	g.mu.Lock()
	defer g.mu.Unlock()
	batch[0].batch.backend = backend
	live := batch[:0:0]
	for _, q := range batch {
		if q.state == upsertTaken {
			q.state = upsertSent
			live = append(live, q)
		}
	}
	return live
}

// answer gives each call of batch its result.
func (g *upsertGroup) answer(batch []*queuedUpsert, result func(*queuedUpsert) error) {
	for _, q := range batch {
		q.done <- result(q)
	}
}

// execBatch runs live's rows as one statement on c and scans each
// returned row into its call's destinations, matched by key. It returns
// the calls whose row did not come back (a key the server returned in
// another spelling): they cannot know what their row holds.
func (db *DB) execBatch(ctx context.Context, c *pgxpool.Conn, t *tableSQL, keep string, g *upsertGroup, live []*queuedUpsert) (map[*queuedUpsert]bool, error) {
	args := make([]any, 0, len(live)*len(t.qcols))
	byKey := make(map[string]*queuedUpsert, len(live))
	for _, q := range live {
		args = append(args, q.values...)
		byKey[q.key] = q
	}
	rows, err := c.Query(ctx, g.batchSQL(t, keep, len(live)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var rowKey string
	scan := make([]any, 1+t.nreturn()) // the key, then the call's destinations
	for rows.Next() {
		clear(scan)
		scan[0] = &rowKey
		if err := rows.Scan(scan...); err != nil {
			return nil, err
		}
		q := byKey[rowKey]
		if q == nil {
			continue
		}
		delete(byKey, rowKey)
		if err := g.scanInto(q, rows.Scan, scan); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var missing map[*queuedUpsert]bool
	for _, q := range byKey {
		if missing == nil {
			missing = map[*queuedUpsert]bool{}
		}
		missing[q] = true
	}
	return missing, nil
}

// scanInto scans the current row into q's destinations after the columns
// of scan before them (nil: skipped), unless q's caller has left.
func (g *upsertGroup) scanInto(q *queuedUpsert, scanRow func(dest ...any) error, scan []any) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if q.state == upsertGone {
		return nil
	}
	copy(scan[len(scan)-len(q.dest):], q.dest)
	return scanRow(scan...)
}

// execEach sends each of live's rows again, one statement each, on c, and
// gives each call its own result.
func (db *DB) execEach(ctx context.Context, c *pgxpool.Conn, t *tableSQL, keep string, g *upsertGroup, live []*queuedUpsert) {
	sql := t.stmts(keep).upsertReturning
	backend := backendOf(c)
	for _, q := range live {
		q.done <- outcome(execOne(ctx, c, sql, g, q), backend)
	}
}

// execOne runs q's row alone on c and scans what it returns into q's
// destinations.
func execOne(ctx context.Context, c *pgxpool.Conn, sql string, g *upsertGroup, q *queuedUpsert) error {
	rows, err := c.Query(ctx, sql, q.values...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() && len(q.dest) > 0 {
		if err := g.scanInto(q, rows.Scan, make([]any, len(q.dest))); err != nil {
			return err
		}
	}
	rows.Close()
	return rows.Err()
}

// batchSQL returns the statement upserting n rows of g's table and Keep
// set, returning each row's key and what UpsertReturning returns.
func (g *upsertGroup) batchSQL(t *tableSQL, keep string, n int) string {
	if s, ok := g.sql[n]; ok {
		return s
	}
	var b strings.Builder
	b.WriteString("INSERT INTO " + t.qname + " (" + t.selectList + ") VALUES ")
	p := 1
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for i := range t.qcols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(p))
			p++
		}
		b.WriteByte(')')
	}
	b.WriteString(t.stmts(keep).conflictMany)
	if g.sql == nil {
		g.sql = map[int]string{}
	}
	g.sql[n] = b.String()
	return g.sql[n]
}

// upsertBatchContext is the context a batch's statement runs under: the
// first call's values, none's cancellation, the latest deadline (none if
// a call has none).
func upsertBatchContext(batch []*queuedUpsert) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, q := range batch {
		d, ok := q.ctx.Deadline()
		if !ok {
			return context.WithoutCancel(batch[0].ctx), func() {}
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(context.WithoutCancel(batch[0].ctx), latest)
}

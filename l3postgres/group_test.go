package l3postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/AndrewDonelson/strata/l3postgres"
	"github.com/AndrewDonelson/strata/l3postgres/internal/pgtest"
)

// groupFixture is a fixture whose players table logs, for every row an
// upsert writes, the row's key and name and the id of the transaction
// that wrote it (so rows of one statement share an id), and a second pool
// for holding row locks and watching the server.
type groupFixture struct {
	*fixture
	side *pgxpool.Pool
}

func newGroupFixture(t *testing.T) *groupFixture {
	t.Helper()
	f := &groupFixture{fixture: newFixture(t), side: pgtest.Pool(t)}
	ctx := testCtx(t)
	log := pgx.Identifier{f.schema, "writes"}.Sanitize()
	fn := pgx.Identifier{f.schema, "log_write"}.Sanitize()
	for _, s := range []string{
		`CREATE TABLE ` + log + ` (n bigserial PRIMARY KEY, id text, name text, xid bigint)`,
		`CREATE FUNCTION ` + fn + `() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
			INSERT INTO ` + log + ` (id, name, xid) VALUES (NEW.id, NEW.name, txid_current()); RETURN NULL; END $$`,
		`CREATE TRIGGER log_write AFTER INSERT OR UPDATE ON ` + pgx.Identifier{f.schema, "players"}.Sanitize() +
			` FOR EACH ROW EXECUTE FUNCTION ` + fn + `()`,
	} {
		if _, err := f.side.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// hold locks the rows of ids (which must exist) in a transaction of the
// side pool until the returned function commits it.
func (f *groupFixture) hold(t *testing.T, ids ...string) (release func()) {
	t.Helper()
	ctx := testCtx(t)
	tx, err := f.side.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	q := fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM %s WHERE id = ANY($1) FOR UPDATE) AS l", pgx.Identifier{f.schema, "players"}.Sanitize())
	if err := tx.QueryRow(ctx, q, ids).Scan(&n); err != nil || n != len(ids) {
		t.Fatalf("locking %v: %d rows, %v", ids, n, err)
	}
	done := false
	t.Cleanup(func() {
		if !done {
			_ = tx.Rollback(context.Background())
		}
	})
	return func() {
		done = true
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// waitingUpserts returns the backends running an upsert of the fixture's
// table that wait for a row lock.
func (f *groupFixture) waitingUpserts(t *testing.T) []uint32 {
	t.Helper()
	rows, err := f.side.Query(testCtx(t), `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`,
		"INSERT INTO "+pgx.Identifier{f.schema, "players"}.Sanitize()+"%")
	if err != nil {
		t.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	out := make([]uint32, len(pids))
	for i, p := range pids {
		out[i] = uint32(p)
	}
	return out
}

// writes returns the log: each written row's key, name and transaction,
// in the order they were written.
func (f *groupFixture) writes(t *testing.T) []loggedWrite {
	t.Helper()
	rows, err := f.side.Query(testCtx(t), "SELECT id, name, xid FROM "+pgx.Identifier{f.schema, "writes"}.Sanitize()+" ORDER BY n")
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[loggedWrite])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type loggedWrite struct {
	ID, Name string
	Xid      int64
}

// groupCall is an UpsertGrouped call running on its own goroutine.
type groupCall struct {
	p       player
	created time.Time
	done    chan error
}

func (f *groupFixture) start(ctx context.Context, p player) *groupCall {
	c := &groupCall{p: p, done: make(chan error, 1)}
	go func() { c.done <- f.tbl.UpsertGrouped(ctx, c.p.values(), &c.created) }()
	return c
}

// result waits for c's result.
func (c *groupCall) result(t *testing.T) error {
	t.Helper()
	select {
	case err := <-c.done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("the call for %q has not returned after 30 s", c.p.ID)
		return nil
	}
}

// startHeld starts as many calls as a group runs at once, each alone and
// waiting for a lock held by another transaction, and returns them and the
// function that lets them go on.
func (f *groupFixture) startHeld(t *testing.T, ctx context.Context) ([]*groupCall, func()) {
	t.Helper()
	var ids []string
	for i := range l3postgres.MaxInFlight {
		id := fmt.Sprint("h", i)
		if err := f.tbl.Upsert(ctx, id, id, int64(0), t0); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	release := f.hold(t, ids...)
	var calls []*groupCall
	for _, id := range ids {
		calls = append(calls, f.start(ctx, player{ID: id, Name: id, Level: 1, CreatedAt: t0.Add(time.Hour)}))
		waitFor(t, func() bool { return len(f.waitingUpserts(t)) == len(calls) }, "the held calls' statements waiting for the row lock")
	}
	return calls, release
}

// results waits for each of calls and fails on an error.
func results(t *testing.T, calls []*groupCall) {
	t.Helper()
	for _, c := range calls {
		if err := c.result(t); err != nil {
			t.Fatalf("%s: %v", c.p.ID, err)
		}
	}
}

// queue starts a call for each of ps behind the held one and waits until
// they are all queued.
func (f *groupFixture) queue(t *testing.T, ctx context.Context, ps ...player) []*groupCall {
	t.Helper()
	n := f.tbl.QueuedUpserts()
	calls := make([]*groupCall, len(ps))
	for i, p := range ps {
		calls[i] = f.start(ctx, p)
	}
	waitFor(t, func() bool { return f.tbl.QueuedUpserts() == n+len(ps) }, fmt.Sprintf("%d calls queued", len(ps)))
	return calls
}

// TestUpsertGroupedCallsQueuedBehindAHeldStatementGoAsOneStatement: while
// one call's statement waits for a row lock, the calls that arrive queue;
// once it returns they are written by one statement (one transaction id
// for all their rows), and each call gets its own row's RETURNING values.
func TestUpsertGroupedCallsQueuedBehindAHeldStatementGoAsOneStatement(t *testing.T) {
	t.Parallel()
	f := newGroupFixture(t)
	ctx := testCtx(t)
	if err := f.tbl.Upsert(ctx, "b", "b-old", int64(0), t0); err != nil { // an existing row keeps its created_at
		t.Fatal(err)
	}
	held, release := f.startHeld(t, ctx)
	var ps []player
	for i, id := range []string{"d", "b", "a", "c"} {
		ps = append(ps, player{ID: id, Name: id, Level: int64(i), CreatedAt: t0.Add(time.Duration(i+2) * time.Hour)})
	}
	calls := f.queue(t, ctx, ps...)
	release()
	results(t, held)
	created := map[string]time.Time{}
	for _, c := range calls {
		if err := c.result(t); err != nil {
			t.Fatalf("%s: %v", c.p.ID, err)
		}
		created[c.p.ID] = c.created
	}
	want := map[string]time.Time{"a": ps[2].CreatedAt, "b": t0, "c": ps[3].CreatedAt, "d": ps[0].CreatedAt}
	if d := cmp.Diff(want, created, cmpTime); d != "" {
		t.Errorf("created_at each call got back (-want +got):\n%s", d)
	}
	xids := map[string]int64{}
	for _, w := range f.writes(t)[1+l3postgres.MaxInFlight:] { // after the seeding of b and the held rows
		xids[w.ID] = w.Xid
	}
	if xids["a"] != xids["b"] || xids["a"] != xids["c"] || xids["a"] != xids["d"] || xids["a"] == xids["h0"] {
		t.Errorf("transactions of the rows written: %v; want a, b, c and d in one, h0 in another", xids)
	}
}

// TestUpsertGroupedRowErrorReachesOnlyItsCaller: a batch the server
// refuses because of one row (a unique name taken) is sent again row by
// row: that row's call gets the conflict, a plain error (not applied), and
// the others commit.
func TestUpsertGroupedRowErrorReachesOnlyItsCaller(t *testing.T) {
	t.Parallel()
	f := newGroupFixture(t)
	ctx := testCtx(t)
	held, release := f.startHeld(t, ctx)
	calls := f.queue(t, ctx,
		player{ID: "a", Name: "a", CreatedAt: t0},
		player{ID: "bad", Name: "h0", CreatedAt: t0}, // h0's name
		player{ID: "c", Name: "c", CreatedAt: t0},
	)
	release()
	results(t, held)
	for _, c := range calls {
		err := c.result(t)
		switch {
		case c.p.ID == "bad" && (!errors.Is(err, l3postgres.ErrConflict) || errors.Is(err, l3postgres.ErrOutcomeUnknown)):
			t.Errorf("the refused row's call: %v, want ErrConflict (not applied)", err)
		case c.p.ID != "bad" && err != nil:
			t.Errorf("%s: %v, want its row written", c.p.ID, err)
		}
	}
	var ids []string
	rows, err := f.side.Query(ctx, "SELECT id FROM "+pgx.Identifier{f.schema, "players"}.Sanitize()+" ORDER BY id")
	if err == nil {
		ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if d := cmp.Diff([]string{"a", "c", "h0", "h1"}, ids); err != nil || d != "" {
		t.Errorf("rows after the batch (-want +got), %v:\n%s", err, d)
	}
}

// TestUpsertGroupedAmbiguousBatchReachesEveryCall: when the connection of
// a batch in flight is lost, every call it carried gets an
// *OutcomeUnknownError naming the batch's backend.
func TestUpsertGroupedAmbiguousBatchReachesEveryCall(t *testing.T) {
	t.Parallel()
	f := newGroupFixture(t)
	ctx := testCtx(t)
	if err := f.tbl.Upsert(ctx, "x", "x", int64(0), t0); err != nil {
		t.Fatal(err)
	}
	holdX := f.hold(t, "x") // the batch will wait for x
	held, release := f.startHeld(t, ctx)
	calls := f.queue(t, ctx,
		player{ID: "a", Name: "a", CreatedAt: t0},
		player{ID: "x", Name: "x2", CreatedAt: t0},
		player{ID: "c", Name: "c", CreatedAt: t0},
	)
	release()
	results(t, held)
	waitFor(t, func() bool { return len(f.waitingUpserts(t)) == 1 }, "the batch waiting for x's lock")
	batch := f.waitingUpserts(t)[0]
	var ok bool
	if err := f.side.QueryRow(ctx, "SELECT pg_terminate_backend($1)", int32(batch)).Scan(&ok); err != nil || !ok {
		t.Fatalf("terminating the batch's backend %d: %v %v", batch, ok, err)
	}
	for _, c := range calls {
		err := c.result(t)
		var unknown *l3postgres.OutcomeUnknownError
		if !errors.As(err, &unknown) || unknown.Backend != batch {
			t.Errorf("%s: %v, want an *OutcomeUnknownError naming backend %d", c.p.ID, err, batch)
		}
	}
	holdX()
}

// TestUpsertGroupedQueuedCallWhoseContextEndsIsWithdrawn: a queued call
// whose context ends returns the context's error, not "outcome unknown",
// and its row is not written; the others of its batch are.
func TestUpsertGroupedQueuedCallWhoseContextEndsIsWithdrawn(t *testing.T) {
	t.Parallel()
	f := newGroupFixture(t)
	ctx := testCtx(t)
	held, release := f.startHeld(t, ctx)
	short, cancel := context.WithCancel(ctx)
	gone := f.queue(t, short, player{ID: "gone", Name: "gone", CreatedAt: t0})[0]
	kept := f.queue(t, ctx, player{ID: "kept", Name: "kept", CreatedAt: t0})[0]
	cancel()
	if err := gone.result(t); !errors.Is(err, context.Canceled) || errors.Is(err, l3postgres.ErrOutcomeUnknown) {
		t.Errorf("the withdrawn call: %v, want context.Canceled (not applied)", err)
	}
	release()
	results(t, held)
	if err := kept.result(t); err != nil {
		t.Fatal(err)
	}
	for _, w := range f.writes(t) {
		if w.ID == "gone" {
			t.Errorf("the withdrawn call's row was written: %+v", w)
		}
	}
}

// TestUpsertGroupedTwoCallsForOneKeyGoInTwoStatementsInOrder: a key is in
// a batch at most once; a second call for it waits for the next batch.
func TestUpsertGroupedTwoCallsForOneKeyGoInTwoStatementsInOrder(t *testing.T) {
	t.Parallel()
	f := newGroupFixture(t)
	ctx := testCtx(t)
	held, release := f.startHeld(t, ctx)
	calls := f.queue(t, ctx, player{ID: "k", Name: "k1", CreatedAt: t0})
	calls = append(calls, f.queue(t, ctx, player{ID: "k", Name: "k2", CreatedAt: t0}, player{ID: "o", Name: "o", CreatedAt: t0})...)
	release()
	results(t, append(calls, held...))
	var got []string
	xid := map[string]int64{}
	for _, w := range f.writes(t) {
		if w.ID == "k" {
			got = append(got, w.Name)
			xid[w.Name] = w.Xid
		}
		if w.ID == "o" {
			xid["o"] = w.Xid
		}
	}
	if d := cmp.Diff([]string{"k1", "k2"}, got); d != "" || xid["k1"] == xid["k2"] || xid["o"] != xid["k1"] {
		t.Errorf("writes of k (-want +got):\n%s\ntransactions %v: want k1 with o, k2 in the next", d, xid)
	}
}

// TestUpsertGroupedGroupTableStaysBounded: one group per table handle and
// set of Keep columns is remembered, never more than a fixed number.
func TestUpsertGroupedGroupTableStaysBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	def := f.tbl.Def()
	for i := range l3postgres.MaxUpsertGroups + 1 {
		tbl, err := f.db.Table(def)
		if err != nil {
			t.Fatal(err)
		}
		var created time.Time
		id := fmt.Sprint("g", i%10)
		if err := tbl.UpsertGrouped(ctx, []any{id, id, int64(i), t0}, &created); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.db.UpsertGroups(); n > l3postgres.MaxUpsertGroups || n == 0 {
		t.Errorf("after %d table handles the DB remembers %d groups, want 1..%d", l3postgres.MaxUpsertGroups+1, n, l3postgres.MaxUpsertGroups)
	}
}

// TestUpsertGroupedCallWhoseContextEndsInFlightIsOutcomeUnknown: a call
// whose context ends after its batch was sent returns at once an
// *OutcomeUnknownError naming the batch's backend; the batch goes on and
// commits its row, and the backend ends once it has been answered, which
// settles the outcome as for a lone write.
func TestUpsertGroupedCallWhoseContextEndsInFlightIsOutcomeUnknown(t *testing.T) {
	t.Parallel()
	f := newGroupFixture(t)
	ctx := testCtx(t)
	if err := f.tbl.Upsert(ctx, "x", "x", int64(0), t0); err != nil {
		t.Fatal(err)
	}
	holdX := f.hold(t, "x") // the batch will wait for x
	held, release := f.startHeld(t, ctx)
	short, cancel := context.WithCancel(ctx)
	left := f.queue(t, short, player{ID: "a", Name: "a", CreatedAt: t0})[0]
	stays := f.queue(t, ctx, player{ID: "x", Name: "x2", CreatedAt: t0})[0]
	release()
	results(t, held)
	waitFor(t, func() bool { return len(f.waitingUpserts(t)) == 1 }, "the batch waiting for x's lock")
	batch := f.waitingUpserts(t)[0]
	cancel()
	err := left.result(t)
	var unknown *l3postgres.OutcomeUnknownError
	if !errors.As(err, &unknown) || unknown.Backend != batch || !errors.Is(err, context.Canceled) {
		t.Fatalf("the call that left: %v, want an *OutcomeUnknownError naming backend %d and wrapping context.Canceled", err, batch)
	}
	holdX()
	if err := stays.result(t); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		alive, err := f.db.BackendsAlive(ctx, []uint32{batch})
		return err == nil && !alive[batch]
	}, "the batch's backend to end")
	var name string
	if err := f.side.QueryRow(ctx, "SELECT name FROM "+pgx.Identifier{f.schema, "players"}.Sanitize()+" WHERE id = 'a'").Scan(&name); err != nil {
		t.Errorf("the row of the call that left: %v, want it written by its batch", err)
	}
}

package changefeed_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/AndrewDonelson/strata/l3postgres/changefeed"
	"github.com/AndrewDonelson/strata/l3postgres/internal/pgtest"
)

// env is one test's tables, publication and slot.
type env struct {
	pool   *pgxpool.Pool
	schema string
	pub    string
	slot   string
}

// newEnv creates a schema with the given tables (CREATE TABLE statements
// with %s for the schema), a publication of them and a slot.
func newEnv(t testing.TB, tables map[string]string) *env {
	t.Helper()
	pool := pgtest.Pool(t)
	e := &env{pool: pool, schema: pgtest.Schema(t, pool), pub: pgtest.Publication(t, pool), slot: pgtest.Slot(t, pool)}
	ctx := ctxT(t, 30*time.Second)
	var names []string
	for name, ddl := range tables {
		if _, err := pool.Exec(ctx, fmt.Sprintf(ddl, e.schema)); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		names = append(names, e.schema+"."+name)
	}
	if err := changefeed.EnsurePublication(ctx, pool, e.pub, names); err != nil {
		t.Fatal(err)
	}
	if err := changefeed.EnsureSlot(ctx, pool, e.slot); err != nil {
		t.Fatal(err)
	}
	return e
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func (e *env) exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := e.pool.Exec(ctx, fmt.Sprintf(sql, e.schema), args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// collector is a Handler that records what it receives.
type collector struct {
	mu      sync.Mutex
	changes []changefeed.Change
	fail    atomic.Bool
	calls   atomic.Int64
}

func (c *collector) handle(_ context.Context, b *changefeed.Batch) error {
	c.calls.Add(1)
	if c.fail.Load() {
		return errors.New("refused by the test")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.changes = append(c.changes, b.Changes...)
	return nil
}

func (c *collector) snapshot() []changefeed.Change {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]changefeed.Change(nil), c.changes...)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *env) start(t testing.TB, h changefeed.Handler, tweak func(*changefeed.Config)) *changefeed.Feed {
	t.Helper()
	cc, err := pgx.ParseConfig(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg := changefeed.Config{Conn: cc, Slot: e.slot, Publication: e.pub, Handler: h,
		StatusInterval: 100 * time.Millisecond, AcquireInterval: 100 * time.Millisecond, TakeoverAfter: 2 * time.Second}
	if tweak != nil {
		tweak(&cfg)
	}
	f, err := changefeed.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestFeedDeliversRowChangesWithTheirKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{
		"plain": `CREATE TABLE %s.plain (id text PRIMARY KEY, v int)`,
		"full":  `CREATE TABLE %s.full (id text PRIMARY KEY, v int)`,
		"two":   `CREATE TABLE %s.two (a int, b text, v int, PRIMARY KEY (b, a))`,
		"part":  `CREATE TABLE %s.part (id text, p int, v int, PRIMARY KEY (id, p)) PARTITION BY HASH (p)`,
	})
	e.exec(t, `ALTER TABLE %s.full REPLICA IDENTITY FULL`)
	e.exec(t, `CREATE TABLE %[1]s.part_0 PARTITION OF %[1]s.part FOR VALUES WITH (MODULUS 2, REMAINDER 0)`)
	e.exec(t, `CREATE TABLE %[1]s.part_1 PARTITION OF %[1]s.part FOR VALUES WITH (MODULUS 2, REMAINDER 1)`)
	var c collector
	f := e.start(t, c.handle, nil)
	waitFor(t, 10*time.Second, "the feed to hold the slot", func() bool { return f.Stats().Active })

	for _, table := range []string{"plain", "full"} {
		e.exec(t, `INSERT INTO %s.`+table+` VALUES ('a', 1)`)
		e.exec(t, `UPDATE %s.`+table+` SET v = 2 WHERE id = 'a'`)
		e.exec(t, `UPDATE %s.`+table+` SET id = 'b' WHERE id = 'a'`)
		e.exec(t, `DELETE FROM %s.`+table+` WHERE id = 'b'`)
	}
	e.exec(t, `INSERT INTO %s.two VALUES (7, 'x', 1)`)
	e.exec(t, `UPDATE %s.two SET v = 3`)
	e.exec(t, `INSERT INTO %s.part VALUES ('p1', 1, 0), ('p2', 2, 0)`)
	e.exec(t, `DELETE FROM %s.part WHERE id = 'p2'`)
	e.exec(t, `TRUNCATE %s.plain`)

	s := e.schema
	id := []string{"id"}
	pk2 := []string{"id", "p"}
	want := []changefeed.Change{}
	for _, table := range []string{"plain", "full"} {
		want = append(want,
			changefeed.Change{Namespace: s, Table: table, Op: changefeed.OpInsert, KeyColumns: id, Key: []string{"a"}},
			changefeed.Change{Namespace: s, Table: table, Op: changefeed.OpUpdate, KeyColumns: id, Key: []string{"a"}},
			changefeed.Change{Namespace: s, Table: table, Op: changefeed.OpUpdate, KeyColumns: id, Key: []string{"b"}, OldKey: []string{"a"}},
			changefeed.Change{Namespace: s, Table: table, Op: changefeed.OpDelete, KeyColumns: id, Key: []string{"b"}},
		)
	}
	want = append(want,
		changefeed.Change{Namespace: s, Table: "two", Op: changefeed.OpInsert, KeyColumns: []string{"b", "a"}, Key: []string{"x", "7"}},
		changefeed.Change{Namespace: s, Table: "two", Op: changefeed.OpUpdate, KeyColumns: []string{"b", "a"}, Key: []string{"x", "7"}},
		changefeed.Change{Namespace: s, Table: "part", Op: changefeed.OpInsert, KeyColumns: pk2, Key: []string{"p1", "1"}},
		changefeed.Change{Namespace: s, Table: "part", Op: changefeed.OpInsert, KeyColumns: pk2, Key: []string{"p2", "2"}},
		changefeed.Change{Namespace: s, Table: "part", Op: changefeed.OpDelete, KeyColumns: pk2, Key: []string{"p2", "2"}},
		changefeed.Change{Namespace: s, Table: "plain", Op: changefeed.OpTruncate, KeyColumns: id},
	)
	waitFor(t, 10*time.Second, "every change", func() bool { return len(c.snapshot()) >= len(want) })
	if diff := cmp.Diff(want, c.snapshot(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

// slotPosition returns the slot's confirmed position.
func (e *env) slotPosition(t testing.TB) pglogrepl.LSN {
	t.Helper()
	var s string
	if err := e.pool.QueryRow(ctxT(t, 5*time.Second), `SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`, e.slot).Scan(&s); err != nil {
		t.Fatal(err)
	}
	lsn, err := pglogrepl.ParseLSN(s)
	if err != nil {
		t.Fatal(err)
	}
	return lsn
}

func (e *env) walPosition(t testing.TB) pglogrepl.LSN {
	t.Helper()
	var s string
	if err := e.pool.QueryRow(ctxT(t, 5*time.Second), `SELECT pg_current_wal_insert_lsn()::text`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	lsn, err := pglogrepl.ParseLSN(s)
	if err != nil {
		t.Fatal(err)
	}
	return lsn
}

// The slot's position must not pass a transaction whose Handler call
// failed: the change is offered again until it is applied.
func TestFeedConfirmsOnlyWhatTheHandlerApplied(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"t": `CREATE TABLE %s.t (id text PRIMARY KEY, v int)`})
	var c collector
	c.fail.Store(true)
	f := e.start(t, c.handle, func(cfg *changefeed.Config) { cfg.MaxRetry = 100 * time.Millisecond })
	waitFor(t, 10*time.Second, "the feed to hold the slot", func() bool { return f.Stats().Active })
	before := e.slotPosition(t)
	e.exec(t, `INSERT INTO %s.t VALUES ('k', 1)`)
	after := e.walPosition(t)
	waitFor(t, 10*time.Second, "failed handler calls", func() bool { return c.calls.Load() >= 5 })
	time.Sleep(300 * time.Millisecond) // three status intervals
	if got := e.slotPosition(t); got >= after {
		t.Fatalf("slot confirmed %s, past the unapplied commit (WAL at %s after it; %s before)", got, after, before)
	}
	if f.Stats().HandlerErrors == 0 || f.Stats().Lag == 0 {
		t.Errorf("stats while failing = %+v, want HandlerErrors and Lag > 0", f.Stats())
	}
	c.fail.Store(false)
	waitFor(t, 10*time.Second, "the change to be applied", func() bool { return len(c.snapshot()) == 1 })
	waitFor(t, 10*time.Second, "the slot to confirm it", func() bool { return e.slotPosition(t) >= after })
	if got := c.snapshot()[0]; got.Op != changefeed.OpInsert || got.Key[0] != "k" {
		t.Errorf("applied %+v, want the insert of k", got)
	}
}

// A feed with nothing to apply still advances the slot, so that WAL of
// unwatched tables is not retained.
func TestFeedAdvancesTheSlotWhileIdle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"t": `CREATE TABLE %s.t (id text PRIMARY KEY, v int)`})
	e.exec(t, `CREATE TABLE %s.unwatched (id int)`)
	var c collector
	f := e.start(t, c.handle, nil)
	waitFor(t, 10*time.Second, "the feed to hold the slot", func() bool { return f.Stats().Active })
	for i := 0; i < 20; i++ {
		e.exec(t, `INSERT INTO %s.unwatched VALUES ($1)`, i)
	}
	target := e.walPosition(t)
	waitFor(t, 10*time.Second, "the slot to pass the unwatched writes", func() bool { return e.slotPosition(t) >= target })
	if n := len(c.snapshot()); n != 0 {
		t.Errorf("handler got %d changes of an unwatched table", n)
	}
}

// Only one feed streams a slot; when it closes, a waiting feed takes over
// and nothing committed meanwhile is lost.
func TestFeedSingleConsumerAndTakeoverOnClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"t": `CREATE TABLE %s.t (id text PRIMARY KEY, v int)`})
	var ca, cb collector
	a := e.start(t, ca.handle, nil)
	waitFor(t, 10*time.Second, "feed a to hold the slot", func() bool { return a.Stats().Active })
	b := e.start(t, cb.handle, nil)
	for i := 0; i < 50; i++ {
		e.exec(t, `INSERT INTO %s.t VALUES ($1, 1)`, fmt.Sprint(i))
		if b.Stats().Active {
			t.Fatal("feed b streams while feed a holds the slot")
		}
	}
	waitFor(t, 10*time.Second, "feed a to apply 50 changes", func() bool { return len(ca.snapshot()) == 50 })
	closed := time.Now()
	a.Close()
	for i := 50; i < 100; i++ {
		e.exec(t, `INSERT INTO %s.t VALUES ($1, 1)`, fmt.Sprint(i))
	}
	waitFor(t, 10*time.Second, "feed b to take over", func() bool { return b.Stats().Active })
	t.Logf("takeover after Close: %v", time.Since(closed).Round(time.Millisecond))
	waitFor(t, 10*time.Second, "every key", func() bool {
		seen := map[string]bool{}
		for _, ch := range append(ca.snapshot(), cb.snapshot()...) {
			seen[ch.Key[0]] = true
		}
		return len(seen) == 100
	})
}

// A holder that stops reporting (hung, or its host vanished) is ended
// after TakeoverAfter and a waiting feed takes the slot.
func TestFeedTakesOverFromASilentHolder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"t": `CREATE TABLE %s.t (id text PRIMARY KEY, v int)`})
	// The silent holder: a bare replication session that never reports.
	cfg, err := pgconn.ParseConfig(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["replication"] = "database"
	silent, err := pgconn.ConnectConfig(ctxT(t, 10*time.Second), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close(context.Background())
	if err := pglogrepl.StartReplication(ctxT(t, 10*time.Second), silent, e.slot, 0, pglogrepl.StartReplicationOptions{
		PluginArgs: []string{"proto_version '1'", "publication_names '" + e.pub + "'"},
	}); err != nil {
		t.Fatal(err)
	}
	e.exec(t, `INSERT INTO %s.t VALUES ('during', 1)`)
	var c collector
	start := time.Now()
	f := e.start(t, c.handle, nil) // TakeoverAfter 2s
	waitFor(t, 15*time.Second, "the feed to take over", func() bool { return f.Stats().Active })
	took := time.Since(start)
	t.Logf("took over from a silent holder after %v (TakeoverAfter 2s)", took.Round(time.Millisecond))
	if took < 2*time.Second {
		t.Errorf("took over after %v, before TakeoverAfter", took)
	}
	if f.Stats().Takeovers != 1 {
		t.Errorf("Takeovers = %d, want 1", f.Stats().Takeovers)
	}
	waitFor(t, 10*time.Second, "the change committed under the silent holder", func() bool { return len(c.snapshot()) == 1 })
}

func TestEnsurePublicationRefusesATableWithoutPrimaryKey(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	schema := pgtest.Schema(t, pool)
	pub := pgtest.Publication(t, pool)
	ctx := ctxT(t, 10*time.Second)
	if _, err := pool.Exec(ctx, `CREATE TABLE `+schema+`.nokey (id text)`); err != nil {
		t.Fatal(err)
	}
	err := changefeed.EnsurePublication(ctx, pool, pub, []string{schema + ".nokey"})
	if !errors.Is(err, changefeed.ErrNoPrimaryKey) {
		t.Fatalf("err = %v, want ErrNoPrimaryKey", err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_publication WHERE pubname = $1`, pub).Scan(&n); err != nil || n != 0 {
		t.Errorf("publication created anyway (%d, %v)", n, err)
	}
}

func TestCheckExplainsAMissingSlotThenPasses(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	slot := pgtest.Slot(t, pool)
	ctx := ctxT(t, 30*time.Second)
	if err := changefeed.Check(ctx, pool, slot); !errors.Is(err, changefeed.ErrSlotMissing) {
		t.Fatalf("Check before EnsureSlot = %v, want ErrSlotMissing", err)
	}
	for i := 0; i < 2; i++ { // the second call finds it
		if err := changefeed.EnsureSlot(ctx, pool, slot); err != nil {
			t.Fatal(err)
		}
	}
	if err := changefeed.Check(ctx, pool, slot); err != nil {
		t.Fatalf("Check after EnsureSlot = %v", err)
	}
}

func TestStartValidatesConfig(t *testing.T) {
	t.Parallel()
	cc, err := pgx.ParseConfig("postgres://u@127.0.0.1:1/db")
	if err != nil {
		t.Fatal(err)
	}
	h := func(context.Context, *changefeed.Batch) error { return nil }
	tests := []struct {
		name string
		cfg  changefeed.Config
	}{
		{"no conn", changefeed.Config{Slot: "s", Publication: "p", Handler: h}},
		{"no handler", changefeed.Config{Conn: cc, Slot: "s", Publication: "p"}},
		{"upper-case slot", changefeed.Config{Conn: cc, Slot: "Slot", Publication: "p", Handler: h}},
		{"long slot", changefeed.Config{Conn: cc, Slot: string(make([]byte, 64)), Publication: "p", Handler: h}},
		{"quote in publication", changefeed.Config{Conn: cc, Slot: "s", Publication: "p'x", Handler: h}},
		{"takeover too short", changefeed.Config{Conn: cc, Slot: "s", Publication: "p", Handler: h, StatusInterval: time.Second, TakeoverAfter: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := changefeed.Start(tt.cfg)
			if !errors.Is(err, changefeed.ErrInvalidConfig) {
				if f != nil {
					f.Close()
				}
				t.Fatalf("Start = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestCheckExplainsAMissingReplicationPrivilege(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	ctx := ctxT(t, 30*time.Second)
	role := "strata_test_role_" + pgtest.Suffix()
	if _, err := pool.Exec(ctx, `CREATE ROLE `+role+` LOGIN NOREPLICATION`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = pool.Exec(context.Background(), `DROP ROLE IF EXISTS `+role) })
	cc, err := pgx.ParseConfig(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	cc.User = role
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		t.Fatalf("connect as %s: %v", role, err)
	}
	defer conn.Close(context.Background())
	slot := pgtest.Slot(t, pool)
	err = changefeed.Check(ctx, conn, slot)
	if !errors.Is(err, changefeed.ErrNoReplicationPrivilege) {
		t.Fatalf("Check = %v, want ErrNoReplicationPrivilege", err)
	}
	if err := changefeed.EnsureSlot(ctx, conn, slot); !errors.Is(err, changefeed.ErrNoReplicationPrivilege) {
		t.Fatalf("EnsureSlot = %v, want ErrNoReplicationPrivilege", err)
	}
	t.Logf("Check said: %v", err)
}

// Instances start together and all run Migrate: the set-up must tolerate
// racing itself.
func TestEnsurePublicationAndSlotConcurrentSafe(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	schema := pgtest.Schema(t, pool)
	pub, slot := pgtest.Publication(t, pool), pgtest.Slot(t, pool)
	ctx := ctxT(t, 60*time.Second)
	for _, tbl := range []string{"a", "b"} {
		if _, err := pool.Exec(ctx, `CREATE TABLE `+schema+`.`+tbl+` (id text PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() {
			conn, err := pgx.Connect(ctx, pgtest.DSN(t))
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close(context.Background())
			if err := changefeed.EnsurePublication(ctx, conn, pub, []string{schema + ".a", schema + ".b"}); err != nil {
				errs <- err
				return
			}
			errs <- changefeed.EnsureSlot(ctx, conn, slot)
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_publication_tables WHERE pubname = $1`, pub).Scan(&n); err != nil || n != 2 {
		t.Errorf("publication has %d tables (%v), want 2", n, err)
	}
}

// A holder whose Handler keeps failing gives the slot up after
// ReleaseAfter, a Feed that can apply takes it, and what the first could
// not apply is delivered; a Feed that is not Ready never takes the slot.
func TestFeedReleasesTheSlotWhileItsHandlerFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"t": `CREATE TABLE %s.t (id text PRIMARY KEY, v int)`})
	failing := func(context.Context, *changefeed.Batch) error { return errors.New("cache down") }
	release := func(c *changefeed.Config) { c.ReleaseAfter = time.Second }
	a := e.start(t, failing, release)
	waitFor(t, 10*time.Second, "feed a to hold the slot", func() bool { return a.Stats().Active })
	var cb, cc collector
	b := e.start(t, cb.handle, func(c *changefeed.Config) {
		release(c)
		c.Ready = func(context.Context) error { return errors.New("cache unreachable") }
	})
	e.exec(t, `INSERT INTO %s.t VALUES ('k', 1)`)
	waitFor(t, 15*time.Second, "feed a to give the slot up", func() bool { return a.Stats().Releases >= 1 })
	released := time.Now()
	c := e.start(t, cc.handle, release)
	waitFor(t, 15*time.Second, "feed c to apply the change", func() bool { return len(cc.snapshot()) == 1 })
	t.Logf("feed c applied the change %v after feed a released the slot", time.Since(released).Round(time.Millisecond))
	if !c.Stats().Active {
		t.Errorf("feed c does not hold the slot: %+v", c.Stats())
	}
	if s := b.Stats(); s.Acquisitions != 0 || len(cb.snapshot()) != 0 {
		t.Errorf("feed b, never ready, took the slot: %+v", s)
	}
	if s := a.Stats(); s.HandlerErrors == 0 || s.Changes != 0 {
		t.Errorf("feed a: %+v, want failures and nothing applied", s)
	}
}

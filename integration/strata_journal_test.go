package integration_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/AndrewDonelson/strata/integration/harness"
	"github.com/AndrewDonelson/strata/l2redis"
	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/testkit"
	"github.com/AndrewDonelson/strata/testkit/pgkit"
)

// jrec is the record of the journal tests.
type jrec struct {
	ID    string `strata:"primary_key"`
	Value int64
}

// journalEnv is what a journal child process is told (as JSON in
// STRATA_JOURNAL_CHILD).
type journalEnv struct {
	DSN, Redis, Schema, Channel string
	Writes, Keys                int
}

func (e journalEnv) config(claimIdle time.Duration) strata.Config {
	return strata.Config{
		PostgresDSN: e.DSN, RedisAddr: e.Redis, InvalidationChannel: e.Channel,
		WriteBehindJournal: true, WriteBehindJournalClaimIdle: claimIdle,
		WriteBehindFlushInterval: 300 * time.Millisecond, WriteBehindFlushThreshold: 1_000_000,
		L3Pool: strata.L3PoolConfig{MaxConns: 4, MinConns: 1},
	}
}

func (e journalEnv) schema() strata.Schema {
	return strata.Schema{Name: e.Schema, Model: &jrec{}, WriteMode: strata.WriteBehind}
}

// runJournalChild is the child writer: it makes e.Writes write-behind Sets
// over e.Keys keys (eight goroutines, each owning every eighth key, so each
// key's writes are in order), prints "a <key> <value>" once each Set has
// returned, then "done", and waits to be killed. It never claims (its claim
// idle time is an hour).
func runJournalChild() bool {
	raw := os.Getenv("STRATA_JOURNAL_CHILD")
	if raw == "" {
		return false
	}
	var e journalEnv
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	ds, err := strata.NewDataStore(e.config(time.Hour))
	if err == nil {
		err = ds.Register(e.schema())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < e.Writes; i += 8 {
				id := "k" + strconv.Itoa(i%e.Keys)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				err := ds.Set(ctx, e.Schema, id, &jrec{ID: id, Value: int64(i)})
				cancel()
				if err != nil {
					fmt.Fprintln(os.Stderr, "child: Set:", err)
					continue
				}
				mu.Lock()
				fmt.Fprintf(out, "a %s %d\n", id, i)
				if i%100 == 0 {
					_ = out.Flush()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Fprintln(out, "done")
	_ = out.Flush()
	select {}
}

// TestJournalKeepsAcknowledgedSetsAcrossSIGKILL: a child process makes
// 10,000 write-behind Sets over 2,000 keys with the journal on, and is
// SIGKILLed once all are acknowledged (flushes every 300 ms: part of them
// are still pending). An instance that never claims then writes a newer
// value to 100 of the keys. A third instance starts and claims the dead
// child's entries. PostgreSQL must end with every key's last acknowledged
// value, and the 100 keys must keep the newer values: a claimed older entry
// never overwrites a newer committed one. In the "postgres down" case the
// child's PostgreSQL is stopped half-way through its Sets and is still down
// when it is killed.
func TestJournalKeepsAcknowledgedSetsAcrossSIGKILL(t *testing.T) {
	t.Parallel() // each case has its own schema, journal and child process
	for _, pgDown := range []bool{false, true} {
		t.Run(map[bool]string{false: "postgres up", true: "postgres down"}[pgDown], func(t *testing.T) {
			t.Parallel()
			testJournalCrash(t, pgDown)
		})
	}
}

func testJournalCrash(t *testing.T, pgDown bool) {
	redisAddr := harness.RedisAddr(t)
	var pg *pgkit.Server
	dsn := harness.PostgresDSN(t)
	if pgDown {
		pg = pgkit.StartServer(t)
		dsn = pg.DSN
	}
	name := "jr_" + testkit.Suffix()
	e := journalEnv{DSN: dsn, Redis: redisAddr, Schema: name, Channel: "strata:test:" + name, Writes: 10_000, Keys: 2_000}
	ctx := context.Background()
	conn := pgTable(t, dsn, name)
	t.Cleanup(func() {
		rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
		rdb.Del(context.Background(), "strata:#journal:{"+name+"}", "strata:#journal:{"+name+"}:latest")
		rdb.Close()
	})
	{ // create the table
		ds, err := strata.NewDataStore(strata.Config{PostgresDSN: dsn})
		if err != nil {
			t.Fatal(err)
		}
		if err := ds.Register(e.schema()); err != nil {
			t.Fatal(err)
		}
		if err := ds.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		ds.Close()
	}

	raw, _ := json.Marshal(e)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STRATA_JOURNAL_CHILD="+string(raw))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	acked := map[string]int64{} // the last acknowledged value of each key
	n := 0
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if line == "done" {
			break
		}
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "a" {
			t.Fatalf("child printed %q", line)
		}
		v, _ := strconv.ParseInt(f[2], 10, 64)
		acked[f[1]] = max(acked[f[1]], v)
		n++
		if pgDown && n == e.Writes/2 {
			if err := pg.Stop(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n != e.Writes {
		t.Fatalf("the child acknowledged %d Sets, want %d (scan: %v)", n, e.Writes, sc.Err())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed = true
	if pgDown {
		if err := pg.Start(); err != nil {
			t.Fatal(err)
		}
	}
	var flushed int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{name}.Sanitize()).Scan(&flushed); err != nil {
		// the parent's connection died with the stop: reconnect
		conn = pgTable(t, dsn, name)
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{name}.Sanitize()).Scan(&flushed); err != nil {
			t.Fatal(err)
		}
	}
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	pending, err := rdb.XPending(ctx, "strata:#journal:{"+name+"}", "strata").Result()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("at the kill: %d of %d keys in PostgreSQL, %d journal entries unacknowledged", flushed, e.Keys, pending.Count)
	if pending.Count == 0 {
		t.Fatal("nothing was pending at the kill: the test proves nothing")
	}

	// A live instance that never claims writes newer values to 100 keys.
	newer := map[string]int64{}
	{
		ds := open(t, e.config(time.Hour), e.schema())
		for k := range 100 {
			id := "k" + strconv.Itoa(k*7)
			newer[id] = 1_000_000 + int64(k)
			if err := ds.Set(ctx, name, id, &jrec{ID: id, Value: newer[id]}); err != nil {
				t.Fatal(err)
			}
		}
		if err := ds.FlushDirty(ctx); err != nil {
			t.Fatal(err)
		}
		if err := ds.Close(); err != nil {
			t.Fatal(err)
		}
	}

	// A new instance claims what the child left.
	start := time.Now()
	open(t, e.config(300*time.Millisecond), e.schema())
	want := map[string]int64{}
	for id, v := range acked {
		want[id] = v
	}
	for id, v := range newer {
		want[id] = v
	}
	deadline := time.Now().Add(90 * time.Second)
	var wrong []string
	for {
		got := journalValues(t, ctx, conn, name)
		wrong = wrong[:0]
		for id, v := range want {
			if got[id] != v {
				wrong = append(wrong, fmt.Sprintf("%s=%d (want %d)", id, got[id], v))
			}
		}
		if len(wrong) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(wrong) > 0 {
		t.Fatalf("%d of %d keys lack their last acknowledged value after %v, e.g. %v", len(wrong), len(want), time.Since(start).Round(time.Millisecond), wrong[:min(5, len(wrong))])
	}
	t.Logf("every acknowledged value in PostgreSQL %v after the new instance started", time.Since(start).Round(time.Millisecond))
	// Everything is acknowledged: nothing pending, nothing left in the stream.
	waitFor(t, "the journal to be empty", 30*time.Second, func() bool {
		p, err := rdb.XPending(ctx, "strata:#journal:{"+name+"}", "strata").Result()
		l, _ := rdb.XLen(ctx, "strata:#journal:{"+name+"}").Result()
		if err == nil && p.Count == 0 && l == 0 {
			return true
		}
		t.Logf("pending %+v, length %d, err %v", p, l, err)
		return false
	})
}

// A journaled Set is pending in the stream and absent from L2 until the
// flush; after the flush nothing of it is left in Redis.
func TestJournalSetIsPendingUntilFlushedAndNeverFillsL2(t *testing.T) {
	name := "jl_" + testkit.Suffix()
	e := journalEnv{DSN: harness.PostgresDSN(t), Redis: harness.RedisAddr(t), Schema: name, Channel: "strata:test:" + name}
	ctx := context.Background()
	pgTable(t, e.DSN, name)
	cfg := e.config(time.Hour)
	cfg.WriteBehindFlushInterval = time.Hour
	ds := open(t, cfg, e.schema())
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: e.Redis})
	defer rdb.Close()
	stream, latest := "strata:#journal:{"+name+"}", "strata:#journal:{"+name+"}:latest"
	t.Cleanup(func() { rdb.Del(context.Background(), stream, latest) })
	for v := range 3 {
		if err := ds.Set(ctx, name, "a", &jrec{ID: "a", Value: int64(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := rdb.Exists(ctx, l2redis.Key(name, "a")).Result(); n != 0 {
		t.Error("a journaled write-behind Set filled L2")
	}
	p, err := rdb.XPending(ctx, stream, "strata").Result()
	if err != nil || p.Count != 3 {
		t.Fatalf("pending after 3 Sets = %+v, %v; want 3", p, err)
	}
	if err := ds.FlushDirty(ctx); err != nil {
		t.Fatal(err)
	}
	p, err = rdb.XPending(ctx, stream, "strata").Result()
	l, _ := rdb.XLen(ctx, stream).Result()
	h, _ := rdb.HLen(ctx, latest).Result()
	if err != nil || p.Count != 0 || l != 0 || h != 0 {
		t.Errorf("after the flush: pending %+v (%v), stream length %d, latest entries %d; want all 0", p, err, l, h)
	}
	got, err := strata.GetTyped[jrec](ctx, ds, name, "a")
	if err != nil || got.Value != 2 {
		t.Errorf("Get = %+v, %v; want value 2", got, err)
	}
}

// TestJournalPendingSetNeverOverwritesLaterDeleteOrTx: an instance holds a
// journaled write-behind Set of a key; another instance then deletes the
// key, or writes it in a Tx, and commits. When the first instance flushes,
// the older value must not land on top: the Delete and the Tx drop the
// key's newest-write mark under the journal lock, so the flush skips it.
func TestJournalPendingSetNeverOverwritesLaterDeleteOrTx(t *testing.T) {
	name := "jo_" + testkit.Suffix()
	e := journalEnv{DSN: harness.PostgresDSN(t), Redis: harness.RedisAddr(t), Schema: name, Channel: "strata:test:" + name}
	ctx := context.Background()
	conn := pgTable(t, e.DSN, name)
	cfg := e.config(time.Hour)
	cfg.WriteBehindFlushInterval = time.Hour
	a := open(t, cfg, e.schema())
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	b := open(t, cfg, e.schema())
	t.Cleanup(func() {
		rdb := redis.NewClient(&redis.Options{Addr: e.Redis})
		rdb.Del(context.Background(), "strata:#journal:{"+name+"}", "strata:#journal:{"+name+"}:latest")
		rdb.Close()
	})
	for _, id := range []string{"deleted", "tx"} {
		if err := a.Set(ctx, name, id, &jrec{ID: id, Value: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Delete(ctx, name, "deleted"); err != nil {
		t.Fatal(err)
	}
	if err := b.Tx(ctx).Set(name, "tx", &jrec{ID: "tx", Value: 2}).Commit(); err != nil {
		t.Fatal(err)
	}
	if err := a.FlushDirty(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int64{"tx": 2}, journalValues(t, ctx, conn, name)); diff != "" {
		t.Errorf("PostgreSQL after the older journaled Sets were flushed (-want +got):\n%s", diff)
	}
}

// journalValues reads every row of the journal tests' table: id → value.
func journalValues(t *testing.T, ctx context.Context, conn *pgx.Conn, table string) map[string]int64 {
	t.Helper()
	rows, err := conn.Query(ctx, "SELECT id, value FROM "+pgx.Identifier{table}.Sanitize())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		got[id] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

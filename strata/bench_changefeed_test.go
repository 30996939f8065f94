package strata_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/AndrewDonelson/strata/l3postgres/changefeed"
	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
)

// syncCommit makes a DSN's sessions flush their commits at once. The
// devstack runs with synchronous_commit off, under which a commit reaches
// the walsender only at the WAL writer's next flush (200ms), which would
// measure the WAL writer rather than the feed.
func syncCommit(dsn string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "synchronous_commit=on"
}

// BenchmarkChangeFeedDrain drains a backlog of b.N committed row inserts
// made outside Strata from slots created at the same point: with
// a bare pglogrepl receive loop (receive, parse, report status each second)
// and with Strata's change feed doing the whole invalidation (Redis DEL,
// search generation, L1, bus), both at once, twice. It reports both rates and feed/bare (target ≥ 0.8). The feed's
// time includes NewDataStore, taking the slot and the catalog look-up, so
// use a fixed count large enough to dwarf them: -benchtime=50000x.
func BenchmarkChangeFeedDrain(b *testing.B) {
	for _, perTx := range []int{1, 100} {
		b.Run(fmt.Sprintf("rows_per_tx=%d", perTx), func(b *testing.B) {
			b.StopTimer()
			e := newFeedEnv(b, testenv.RedisAddr(b))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			setup := e.open(b, false)
			if err := setup.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			conn := e.pgx(b)
			if err := changefeed.EnsurePublication(ctx, conn, e.Slot, []string{e.Schema}); err != nil {
				b.Fatal(err)
			}
			// Two slots per contender; each round drains one of each at
			// once.
			slots := []string{e.Slot + "_b1", e.Slot + "_f1", e.Slot + "_f2", e.Slot + "_b2"}
			b.Cleanup(func() {
				for _, s := range slots {
					_, _ = conn.Exec(context.Background(), `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, s)
					_, _ = conn.Exec(context.Background(), `DROP PUBLICATION IF EXISTS `+pgx.Identifier{s}.Sanitize())
				}
			})
			for _, s := range slots {
				// A feed's publication has its slot's name.
				if err := changefeed.EnsurePublication(ctx, conn, s, []string{e.Schema}); err != nil {
					b.Fatal(err)
				}
				if err := changefeed.EnsureSlot(ctx, conn, s); err != nil {
					b.Fatal(err)
				}
			}
			n := b.N
			table := pgx.Identifier{e.Schema}.Sanitize()
			for i := 0; i < n; i += perTx {
				hi := min(i+perTx, n) - 1
				if _, err := conn.Exec(ctx, `INSERT INTO `+table+` SELECT 'k' || g, 0 FROM generate_series($1::int, $2::int) g`, i, hi); err != nil {
					b.Fatal(err)
				}
			}
			var bareTime, feedTime time.Duration
			for round := 0; round < 2; round++ {
				// The bare loop and the feed drain their own slots at the same
				// time, so that both see the same load on the machine.
				type result struct {
					d   time.Duration
					err error
				}
				bareDone := make(chan result, 1)
				go func() {
					d, err := bareDrainStrata(e, slots[3*round], n)
					bareDone <- result{d, err}
				}()
				cfg := e.config(true)
				cfg.ChangeFeedSlot = slots[1+round]
				b.StartTimer()
				start := time.Now()
				ds, err := strata.NewDataStore(cfg)
				if err == nil {
					err = ds.Register(strata.Schema{Name: e.Schema, Model: &feedRec{}})
				}
				if err != nil {
					b.Fatal(err)
				}
				for ds.Stats().ChangeFeed.Changes < int64(n) {
					if ctx.Err() != nil {
						b.Fatalf("the feed applied %d of %d changes", ds.Stats().ChangeFeed.Changes, n)
					}
					time.Sleep(time.Millisecond)
				}
				feedTime += time.Since(start)
				b.StopTimer()
				r := <-bareDone
				if r.err != nil {
					b.Fatal(r.err)
				}
				bareTime += r.d
				ds.Close()
			}
			n *= 2
			feedRate, bareRate := float64(n)/feedTime.Seconds(), float64(n)/bareTime.Seconds()
			b.ReportMetric(feedRate, "feed_changes/s")
			b.ReportMetric(bareRate, "bare_changes/s")
			b.ReportMetric(feedRate/bareRate, "feed/bare")
		})
	}
}

// bareDrainStrata streams slot with a bare pglogrepl loop until n changes
// were parsed and returns how long that took from connecting. It runs on
// a goroutine of its own, so it returns its errors.
func bareDrainStrata(e *feedEnv, slot string, n int) (time.Duration, error) {
	cfg, err := pgconn.ParseConfig(e.DSN)
	if err != nil {
		return 0, err
	}
	cfg.RuntimeParams["replication"] = "database"
	start := time.Now()
	conn, err := pgconn.ConnectConfig(context.Background(), cfg)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	if err := pglogrepl.StartReplication(context.Background(), conn, slot, 0, pglogrepl.StartReplicationOptions{
		PluginArgs: []string{"proto_version '1'", "publication_names '" + slot + "'"},
	}); err != nil {
		return 0, err
	}
	var pos pglogrepl.LSN
	next := time.Now().Add(time.Second)
	deadline := time.Now().Add(10 * time.Minute)
	for got := 0; got < n; {
		if time.Now().After(next) {
			if err := pglogrepl.SendStandbyStatusUpdate(context.Background(), conn, pglogrepl.StandbyStatusUpdate{WALWritePosition: pos}); err != nil {
				return 0, err
			}
			next = time.Now().Add(time.Second)
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("bare loop parsed %d of %d changes", got, n)
		}
		ctx, cancel := context.WithDeadline(context.Background(), next)
		msg, err := conn.ReceiveMessage(ctx)
		cancel()
		if err != nil {
			if pgconn.Timeout(err) {
				continue
			}
			return 0, err
		}
		cd, ok := msg.(*pgproto3.CopyData)
		if !ok || len(cd.Data) == 0 || cd.Data[0] != pglogrepl.XLogDataByteID {
			continue
		}
		xld, err := pglogrepl.ParseXLogData(cd.Data[1:])
		if err != nil {
			return 0, err
		}
		m, err := pglogrepl.Parse(xld.WALData)
		if err != nil {
			return 0, err
		}
		switch m := m.(type) {
		case *pglogrepl.InsertMessage:
			got++
		case *pglogrepl.CommitMessage:
			pos = m.TransactionEndLSN
		}
	}
	return time.Since(start), nil
}

// BenchmarkSetChangeFeed measures Set (WriteThrough, commits flushed at
// once) with the change feed off and on, in alternating rounds of the same
// run so that both see the same load on the machine: one writer (latency,
// p50/p99) and 16 writers (saturated throughput).
// In a "feed on" round this instance also streams the slot and invalidates
// every write a second time; in a "feed off" round the slot exists but
// nobody streams it (no walsender), and it is advanced past that round's
// WAL before the next "on" round, so no round drains another's backlog.
// Each mode gets b.N Sets over 6 rounds; on/off_rate compares the sums,
// on/off_median_pair the median of adjacent rounds' ratios (robust to
// bursts of load from elsewhere). Reported, not gated: the
// walsender shares the machine's cores. E.g. -benchtime=4000x.
func BenchmarkSetChangeFeed(b *testing.B) {
	for _, writers := range []int{1, 16} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			b.StopTimer()
			e := newFeedEnv(b, testenv.RedisAddr(b))
			e.DSN = syncCommit(e.DSN)
			schema := strata.Schema{Name: e.Schema, Model: &feedRec{}}
			ctx := context.Background()
			{ // Migrate with the feed on creates the slot
				ds := openStore(b, e.config(true), schema)
				if err := ds.Migrate(ctx); err != nil {
					b.Fatal(err)
				}
				ds.Close()
			}
			conn := e.pgx(b)
			const rounds = 12
			var (
				wall   [2]time.Duration   // per mode
				pair   [2]time.Duration   // the current pair of rounds
				ratios []float64          // on/off rate of each pair of rounds
				lats   [2][]time.Duration // per mode, one writer
				seq    atomic.Int64
			)
			perRound := max(b.N/(rounds/2), writers)
			for r := 0; r < rounds; r++ {
				on := r%2 == 1
				if r%4 >= 2 { // off,on then on,off: neither always goes first
					on = !on
				}
				mode := 0
				if on {
					mode = 1
					// Skip the WAL of the "off" rounds: not this round's
					// work. (The last consumer's session may still be ending.)
					for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(10 * time.Millisecond) {
						_, err := conn.Exec(ctx, `SELECT pg_replication_slot_advance($1, pg_current_wal_lsn())`, e.Slot)
						if err == nil {
							break
						}
						if time.Now().After(deadline) {
							b.Fatal(err)
						}
					}
				}
				cfg := e.config(on)
				cfg.L3Pool = strata.L3PoolConfig{}
				ds, err := strata.NewDataStore(cfg)
				if err == nil {
					err = ds.Register(schema)
				}
				if err != nil {
					b.Fatal(err)
				}
				if on {
					waitConsumer(b, ds)
				}
				// Warm the pools (connections, prepared statements, scripts)
				// before the timed part.
				if _, err := setRound(ctx, ds, e.Schema, writers, 4*writers, &seq); err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				l, err := setRound(ctx, ds, e.Schema, writers, perRound, &seq)
				if err != nil {
					b.Fatal(err)
				}
				lats[mode] = append(lats[mode], l...)
				wall[mode] += time.Since(start)
				pair[mode] = time.Since(start)
				if r%2 == 1 {
					ratios = append(ratios, pair[0].Seconds()/pair[1].Seconds())
				}
				ds.Close()
			}
			ops := float64(perRound * rounds / 2)
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(ops/wall[0].Seconds(), "off_sets/s")
			b.ReportMetric(ops/wall[1].Seconds(), "on_sets/s")
			b.ReportMetric(wall[0].Seconds()/wall[1].Seconds(), "on/off_rate")
			slices.Sort(ratios)
			b.ReportMetric(ratios[len(ratios)/2], "on/off_median_pair")
			if writers == 1 {
				for mode, name := range []string{"off", "on"} {
					l := lats[mode]
					slices.Sort(l)
					b.ReportMetric(float64(l[len(l)/2].Microseconds()), name+"_p50_us")
					b.ReportMetric(float64(l[len(l)*99/100].Microseconds()), name+"_p99_us")
				}
			}
		})
	}
}

// setRound makes n Sets on writers goroutines and returns their latencies
// when there is one writer.
func setRound(ctx context.Context, ds *strata.DataStore, schema string, writers, n int, seq *atomic.Int64) ([]time.Duration, error) {
	var (
		wg     sync.WaitGroup
		failed atomic.Value
		lats   []time.Duration
	)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += writers {
				v := seq.Add(1)
				id := fmt.Sprint("k", v%1000)
				t0 := time.Now()
				if err := ds.Set(ctx, schema, id, &feedRec{ID: id, V: int(v)}); err != nil {
					failed.Store(err)
					return
				}
				if writers == 1 {
					lats = append(lats, time.Since(t0))
				}
			}
		}()
	}
	wg.Wait()
	err, _ := failed.Load().(error)
	return lats, err
}

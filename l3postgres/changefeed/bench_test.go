package changefeed_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/AndrewDonelson/strata/l3postgres/changefeed"
	"github.com/AndrewDonelson/strata/l3postgres/internal/pgtest"
)

// BenchmarkFeedDrain drains a backlog of b.N committed inserts from two
// slots created at the same point, at the same time (so that both see the
// same load): with a bare pglogrepl receive loop (receive, parse, report
// status every second — the shape of pglogrepl's example) and with a Feed
// whose handler only counts. It
// reports both rates and their ratio (feed/bare; the target is ≥ 0.8).
// Run it with a fixed count, e.g. -benchtime=20000x.
func BenchmarkFeedDrain(b *testing.B) {
	for _, perTx := range []int{1, 100} {
		b.Run(fmt.Sprintf("rows_per_tx=%d", perTx), func(b *testing.B) {
			b.StopTimer()
			e := newEnv(b, map[string]string{"t": `CREATE TABLE %s.t (id int PRIMARY KEY, v text)`})
			bare := pgtest.Slot(b, e.pool)
			if err := changefeed.EnsureSlot(ctxT(b, 30*time.Second), e.pool, bare); err != nil {
				b.Fatal(err)
			}
			n := b.N
			ctx := ctxT(b, 10*time.Minute)
			if perTx == 1 {
				for i := 0; i < n; i++ {
					if _, err := e.pool.Exec(ctx, fmt.Sprintf(`INSERT INTO %s.t VALUES ($1, 'v')`, e.schema), i); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				for i := 0; i < n; i += perTx {
					hi := min(i+perTx, n) - 1
					if _, err := e.pool.Exec(ctx, fmt.Sprintf(`INSERT INTO %s.t SELECT g, 'v' FROM generate_series($1::int, $2::int) g`, e.schema), i, hi); err != nil {
						b.Fatal(err)
					}
				}
			}

			// The bare loop drains its slot while the Feed drains its own,
			// so that both see the same load on the machine.
			type result struct {
				d   time.Duration
				err error
			}
			bareDone := make(chan result, 1)
			dsn := pgtest.DSN(b)
			go func() {
				d, err := bareDrain(dsn, e.pub, bare, n)
				bareDone <- result{d, err}
			}()
			var got atomic.Int64
			done := make(chan struct{})
			b.StartTimer()
			start := time.Now()
			f := e.start(b, func(_ context.Context, batch *changefeed.Batch) error {
				if got.Add(int64(len(batch.Changes))) == int64(n) {
					close(done)
				}
				return nil
			}, nil)
			select {
			case <-done:
			case <-ctx.Done():
				b.Fatalf("feed drained %d of %d changes", got.Load(), n)
			}
			feedTime := time.Since(start)
			b.StopTimer()
			f.Close()
			r := <-bareDone
			if r.err != nil {
				b.Fatal(r.err)
			}
			bareTime := r.d
			feedRate := float64(n) / feedTime.Seconds()
			bareRate := float64(n) / bareTime.Seconds()
			b.ReportMetric(feedRate, "feed_changes/s")
			b.ReportMetric(bareRate, "bare_changes/s")
			b.ReportMetric(feedRate/bareRate, "feed/bare")
		})
	}
}

// bareDrain streams slot with a bare pglogrepl loop until n inserts were
// parsed, and returns how long that took from connecting. It runs on a
// goroutine of its own, so it returns its errors.
func bareDrain(dsn, pub, slot string, n int) (time.Duration, error) {
	cfg, err := pgconn.ParseConfig(dsn)
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
		PluginArgs: []string{"proto_version '1'", "publication_names '" + pub + "'"},
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

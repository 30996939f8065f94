package main

import (
	"context"
	"fmt"
	"time"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/metrics"
	"github.com/AndrewDonelson/strata/tools/benchkit"
)

// Score is the write-behind model: a running total per player, updated far
// more often than it needs to reach PostgreSQL.
type Score struct {
	ID      string `strata:"primary_key"`
	Points  int64
	Updates int64
}

// stepWriteBehind registers a WriteBehind schema and hammers a few hundred
// score records with updates: each Set returns once memory holds the value,
// a background flusher writes the dirty records to PostgreSQL in batches
// (repeated updates of one record coalesce into one row write), and
// FlushDirty drains what is left.
func (d *demo) stepWriteBehind(ctx context.Context) error {
	name := "demo_" + d.runID + "_scores"
	d.scoreTable = name
	if err := d.writer.Register(strata.Schema{
		Name: name, Model: &Score{}, WriteMode: strata.WriteBehind,
		L2: strata.RedisPolicy{KeyPrefix: d.prefix + "_scores"},
	}); err != nil {
		return err
	}
	if err := d.writer.Migrate(ctx); err != nil {
		return err
	}
	rec := newTierRecorder(name)
	d.writerM.forward(rec)

	const ticks, perTick = 10, 2000
	keys := min(500, d.o.records)
	stream := benchkit.ZipfStream(7, benchkit.ZipfSkew, keys, ticks*perTick)
	want := map[string]*Score{}
	lat := newSampler()
	t := benchkit.NewTable(">time", ">updates acknowledged", ">dirty (not yet in PostgreSQL)", ">flush batches so far")
	start := time.Now()
	n := 0
	for tick := range ticks {
		tickEnd := start.Add(time.Duration(tick+1) * 100 * time.Millisecond)
		for range perTick {
			id := fmt.Sprintf("score-%04d", stream[n])
			s := want[id]
			if s == nil {
				s = &Score{ID: id}
				want[id] = s
			}
			s.Points += int64(1 + n%7)
			s.Updates++
			v := *s
			t0 := time.Now()
			if err := d.writer.Set(ctx, name, id, &v); err != nil {
				return err
			}
			lat.add(time.Since(t0))
			n++
		}
		// Sampled right after a burst, before the flusher catches up.
		if tick%2 == 1 {
			t.Row(benchkit.FormatNs(float64(time.Since(start).Round(time.Millisecond))), thousands(n),
				thousands(int(d.writer.Stats().DirtyCount)), thousands(int(rec.ops(metrics.TierL3, "flush"))))
		}
		if tick < ticks-1 {
			time.Sleep(time.Until(tickEnd))
		}
	}
	before := d.writer.Stats().DirtyCount
	fstart := time.Now()
	if err := d.writer.FlushDirty(ctx); err != nil {
		return err
	}
	flushTook := time.Since(fstart)
	t.Row("FlushDirty", thousands(n), thousands(int(d.writer.Stats().DirtyCount)), thousands(int(rec.ops(metrics.TierL3, "flush"))))
	d.table(t)

	// PostgreSQL now holds exactly the last value of every record.
	rows, err := d.pg.Query(ctx, "SELECT id, points, updates FROM "+quoteIdent(name))
	if err != nil {
		return err
	}
	defer rows.Close()
	match, total := 0, 0
	for rows.Next() {
		var id string
		var points, updates int64
		if err := rows.Scan(&id, &points, &updates); err != nil {
			return err
		}
		total++
		if w := want[id]; w != nil && w.Points == points && w.Updates == updates {
			match++
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "\n   %s updates of %s score records; Set p50 %s, p99 %s (memory only, then return).\n",
		thousands(n), thousands(len(want)), benchkit.FormatNs(lat.p(50)), benchkit.FormatNs(lat.p(99)))
	fmt.Fprintf(d.out, "   FlushDirty found %d dirty record(s) left and returned in %s.\n", before, benchkit.FormatNs(float64(flushTook)))
	fmt.Fprintf(d.out, "   PostgreSQL: %s rows, %s equal to the last acknowledged value. Repeated updates of\n", thousands(total), thousands(match))
	fmt.Fprintln(d.out, "   a record between two flushes coalesce into one row write.")
	if match != len(want) || total != len(want) {
		return fmt.Errorf("after FlushDirty PostgreSQL has %d rows, %d of them current, want %d", total, match, len(want))
	}
	return nil
}

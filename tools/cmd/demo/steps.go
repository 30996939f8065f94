package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/metrics"
	"github.com/AndrewDonelson/strata/tools/benchkit"
)

func (d *demo) stepMigrate(ctx context.Context) error {
	d.writerM = newTierRecorder(d.schema)
	ds, err := d.newInstance(d.writerM)
	if err != nil {
		return err
	}
	d.writer = ds
	start := time.Now()
	if err := ds.Migrate(ctx); err != nil {
		return err
	}
	took := time.Since(start)
	rows, err := d.pg.Query(ctx, `SELECT column_name, data_type, is_nullable FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, d.schema)
	if err != nil {
		return err
	}
	defer rows.Close()
	tags := map[string]string{
		"id": `primary_key`, "email": `encrypted`, "region": `index`, "score": `index`, "updated_at": `auto_now`,
	}
	t := benchkit.NewTable("column", "PostgreSQL type", "null", "tag")
	for rows.Next() {
		var name, typ, null string
		if err := rows.Scan(&name, &typ, &null); err != nil {
			return err
		}
		t.Row(name, typ, strings.ToLower(null), tags[name])
	}
	if err := rows.Err(); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   Register(Schema{Name: %q, Model: &Player{}}) then Migrate: %s\n\n", d.schema, benchkit.FormatNs(float64(took)))
	d.table(t)
	return nil
}

// stepLoad writes the records through instance A in SetMany batches.
func (d *demo) stepLoad(ctx context.Context) error {
	start := time.Now()
	bar := newProgress(d.out, d.o.records)
	how, err := d.loadWithSetMany(ctx, bar)
	bar.done()
	if err != nil {
		return err
	}
	took := time.Since(start)
	var n int
	if err := d.pg.QueryRow(ctx, "SELECT count(*) FROM "+quoteIdent(d.schema)).Scan(&n); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "\n   via %s\n\n", how)
	t := benchkit.NewTable("records", ">time", ">records/s", ">rows in PostgreSQL")
	t.Row(thousands(d.o.records), benchkit.FormatNs(float64(took)), benchkit.FormatCount(float64(d.o.records)/took.Seconds()), thousands(n))
	d.table(t)
	return nil
}

// progress draws a bar on a terminal, or a line per quarter elsewhere.
type progress struct {
	mu    sync.Mutex
	out   interface{ Write([]byte) (int, error) }
	total int
	n     int
	tty   bool
	shown int // quarters printed (non-terminal)
	last  time.Time
}

func newProgress(out interface{ Write([]byte) (int, error) }, total int) *progress {
	p := &progress{out: out, total: total}
	if f, ok := out.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) add(k int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n += k
	if p.tty {
		if time.Since(p.last) > 50*time.Millisecond || p.n == p.total {
			p.last = time.Now()
			p.draw()
		}
		return
	}
	if p.shown < 4 && p.n*4 >= (p.shown+1)*p.total {
		for p.shown < 4 && p.n*4 >= (p.shown+1)*p.total {
			p.shown++
		}
		fmt.Fprintf(p.out, "   loaded %s / %s (%d%%)\n", thousands(p.n), thousands(p.total), 100*p.n/max(p.total, 1))
	}
}

func (p *progress) draw() {
	const width = 40
	filled := width * p.n / max(p.total, 1)
	fmt.Fprintf(p.out, "\r   [%s%s] %s / %s", strings.Repeat("█", filled), strings.Repeat("·", width-filled), thousands(p.n), thousands(p.total))
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		p.draw()
		fmt.Fprintln(p.out)
	}
}

// readPhase is what one cold instance saw while reading hot records.
type readPhase struct {
	name  string
	reads int
	tiers map[string]*sampler
}

// stepHotReads empties Redis of the demo's records (as after a restart or
// once their TTL passed), then lets two fresh instances read a Zipf stream
// of ids in turn: B finds its first read of each record in PostgreSQL
// (filling Redis), C finds them in Redis, and both serve repeats from
// their own memory.
func (d *demo) stepHotReads(ctx context.Context) error {
	dropped, err := benchkit.DeleteKeys(ctx, d.rdb, "strata:"+d.prefix+":*")
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   Redis emptied (it held %s of the demo's records: writes invalidate, reads fill). Two new\n", thousands(dropped))
	fmt.Fprintf(d.out, "   instances (B, then C) each read a Zipf(%.2f) stream of ids for %s, one read at a time.\n\n", benchkit.ZipfSkew, d.o.duration)
	stream := benchkit.ZipfStream(42, benchkit.ZipfSkew, d.o.records, 1<<20)
	var phases []readPhase
	for _, name := range []string{"B", "C"} {
		rec := newTierRecorder(d.schema)
		ds, err := d.newInstance(rec)
		if err != nil {
			return err
		}
		ph, err := d.readFor(ctx, ds, rec, name, stream)
		cerr := ds.Close() // also waits for B's background Redis fills
		if err != nil {
			return err
		}
		if cerr != nil {
			return cerr
		}
		phases = append(phases, ph)
	}
	t := benchkit.NewTable("instance", "served by", ">reads", ">share", ">p50", ">p99")
	for i, ph := range phases {
		if i > 0 {
			t.Separator()
		}
		for _, tier := range []string{metrics.TierL1, metrics.TierL2, metrics.TierL3} {
			s := ph.tiers[tier]
			if s == nil || s.n == 0 {
				t.Row(ph.name, tierName(tier), "0", "-", "-", "-")
				continue
			}
			t.Row(ph.name, tierName(tier), thousands(s.n), pct(s.n, ph.reads), benchkit.FormatNs(s.p(50)), benchkit.FormatNs(s.p(99)))
		}
	}
	d.table(t)
	fmt.Fprintln(d.out, "\n   Latency is the whole GetTyped call as the caller sees it; the tier is the one")
	fmt.Fprintln(d.out, "   that answered (reported through a metrics.MetricsRecorder).")
	return nil
}

func tierName(t string) string {
	switch t {
	case metrics.TierL1:
		return "L1 memory"
	case metrics.TierL2:
		return "L2 Redis"
	case metrics.TierL3:
		return "L3 PostgreSQL"
	}
	return t
}

func (d *demo) readFor(ctx context.Context, ds *strata.DataStore, rec *tierRecorder, name string, stream []int) (readPhase, error) {
	ph := readPhase{name: name, tiers: map[string]*sampler{}}
	deadline := time.Now().Add(d.o.duration)
	for i := 0; ; i++ {
		if i%256 == 0 && time.Now().After(deadline) {
			break
		}
		id := playerID(stream[i%len(stream)])
		start := time.Now()
		p, err := strata.GetTyped[Player](ctx, ds, d.schema, id)
		took := time.Since(start)
		if err != nil {
			return ph, fmt.Errorf("instance %s: get %s: %w", name, id, err)
		}
		if p.ID != id {
			return ph, fmt.Errorf("instance %s: get %s returned %s", name, id, p.ID)
		}
		tier := rec.take()
		s := ph.tiers[tier]
		if s == nil {
			s = newSampler()
			ph.tiers[tier] = s
		}
		s.add(took)
		ph.reads++
	}
	return ph, nil
}

// stepInvalidation: B caches a record in memory, A changes it, and B's next
// reads return the new value as soon as A's invalidation message arrives.
func (d *demo) stepInvalidation(ctx context.Context) error {
	recB := newTierRecorder(d.schema)
	b, err := d.newInstance(recB)
	if err != nil {
		return err
	}
	defer b.Close()
	id := playerID(0)
	// Read until B serves the record from its memory. (A new instance
	// drops its L1 once its subscription is up, so the first fill may not
	// stay.)
	var before Player
	var beforeTier string
	for start := time.Now(); beforeTier != metrics.TierL1; {
		if before, err = strata.GetTyped[Player](ctx, b, d.schema, id); err != nil {
			return err
		}
		beforeTier = recB.take()
		if time.Since(start) > 5*time.Second {
			return fmt.Errorf("instance B never served %s from memory", id)
		}
		if beforeTier != metrics.TierL1 {
			time.Sleep(20 * time.Millisecond)
		}
	}

	updated := before
	updated.Level = before.Level + 1
	updated.Score = before.Score + 100
	wrote := time.Now()
	if err := d.writer.Set(ctx, d.schema, id, &updated); err != nil {
		return err
	}
	setTook := time.Since(wrote)

	var after Player
	var afterTier string
	polls := 0
	for {
		polls++
		after, err = strata.GetTyped[Player](ctx, b, d.schema, id)
		if err != nil {
			return err
		}
		afterTier = recB.take()
		if after.Level == updated.Level {
			break
		}
		if time.Since(wrote) > 5*time.Second {
			return fmt.Errorf("instance B still read level %d 5s after A wrote %d", after.Level, updated.Level)
		}
		time.Sleep(100 * time.Microsecond)
	}
	seen := time.Since(wrote)
	t := benchkit.NewTable("when", "instance", "call", ">level", ">score", "served by")
	t.Row("before", "B", "GetTyped "+id, fmt.Sprint(before.Level), fmt.Sprintf("%.1f", before.Score), tierName(beforeTier))
	t.Row("write", "A", "Set "+id, fmt.Sprint(updated.Level), fmt.Sprintf("%.1f", updated.Score), "L3, then DEL in L2, drop L1, publish ("+benchkit.FormatNs(float64(setTook))+")")
	t.Row("after", "B", "GetTyped "+id, fmt.Sprint(after.Level), fmt.Sprintf("%.1f", after.Score), tierName(afterTier))
	d.table(t)
	if polls == 1 {
		fmt.Fprintf(d.out, "\n   B's first read after A's Set returned the new value (%s after the Set began):\n", benchkit.FormatNs(float64(seen)))
		fmt.Fprintln(d.out, "   A's invalidation message had already made B drop its copy and read it again.")
	} else {
		fmt.Fprintf(d.out, "\n   B read the new value %s after A's Set began; %d read(s) of B in between still\n", benchkit.FormatNs(float64(seen)), polls-1)
		fmt.Fprintln(d.out, "   returned the old value from memory, until A's invalidation message arrived and B")
		fmt.Fprintln(d.out, "   dropped its copy and read the record again (from the first tier that had it).")
	}
	fmt.Fprintln(d.out, "   Pub/sub delivery is asynchronous: instances converge within milliseconds of a write,")
	fmt.Fprintln(d.out, "   not at the instant Set returns.")
	return nil
}

// stepEncryption reads one row's email straight from PostgreSQL with pgx
// and through Strata.
func (d *demo) stepEncryption(ctx context.Context) error {
	id := playerID(1)
	var raw string
	if err := d.pg.QueryRow(ctx, "SELECT email FROM "+quoteIdent(d.schema)+" WHERE id = $1", id).Scan(&raw); err != nil {
		return err
	}
	p, err := strata.GetTyped[Player](ctx, d.writer, d.schema, id)
	if err != nil {
		return err
	}
	shown := raw
	if len(shown) > 48 {
		shown = shown[:48] + "…"
	}
	t := benchkit.NewTable("read by", "email of "+id)
	t.Row("pgx: SELECT email FROM "+d.schema, shown+fmt.Sprintf(" (%d chars)", len(raw)))
	t.Row("strata.GetTyped", p.Email)
	d.table(t)
	fmt.Fprintln(d.out, "\n   The column holds base64(nonce ‖ AES-256-GCM ciphertext ‖ tag), bound to its table, column")
	fmt.Fprintln(d.out, "   and id; Redis and memory hold the plaintext, the database never does.")
	if raw == p.Email {
		return fmt.Errorf("the email is stored in plaintext")
	}
	return nil
}

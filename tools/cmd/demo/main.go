// Command demo tells the Strata story against the local PostgreSQL and
// Redis, with real numbers: it registers a schema and migrates it, loads
// records, reads hot records from cold instances and shows which tier
// served each read and how fast, shows a second instance seeing a write
// once the invalidation arrives, shows an UPDATE made with plain SQL reaching
// two instances through the change feed (PostgreSQL's commit log), shows an encrypted field as PostgreSQL
// stores it and as the caller reads it, caches a leaderboard query with
// SearchCached, acknowledges score updates from memory while a
// write-behind flusher writes them to PostgreSQL in batches, and shows one
// request's trace (strata/otel) and a Prometheus scrape (strata/prom).
//
//	make demo                        # starts the stack, then runs this
//	go run ./tools/cmd/demo -records 2000 -duration 1s
//
// Every run uses its own table, key prefix and invalidation channel (named
// after a random run id) and removes them at the end.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/tools/benchkit"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

type options struct {
	records  int
	duration time.Duration
	keep     bool
}

func main() {
	var o options
	flag.IntVar(&o.records, "records", 10_000, "number of records to load")
	flag.DurationVar(&o.duration, "duration", 2*time.Second, "how long each cold instance reads hot records")
	flag.BoolVar(&o.keep, "keep", false, "leave the table and Redis keys in place at the end")
	flag.Parse()
	if o.records < 10 || o.duration <= 0 {
		fmt.Fprintln(os.Stderr, "demo: -records must be >= 10 and -duration > 0")
		os.Exit(2)
	}
	if err := run(context.Background(), os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// demo holds what the steps share.
type demo struct {
	out     io.Writer
	o       options
	runID   string
	schema  string // schema and table name
	prefix  string // Redis key prefix
	channel string
	key     []byte // encryption key
	srv     benchkit.Servers
	pg      *pgxpool.Pool
	rdb     *redis.Client
	log     *quietLogger
	writer  *strata.DataStore // instance A: loads and writes
	writerM *tierRecorder
	// scoreTable is the write-behind step's table, dropped at the end.
	scoreTable string
}

func run(ctx context.Context, out io.Writer, o options) (err error) {
	wd, _ := os.Getwd()
	srv, err := benchkit.FindServers(wd)
	if err != nil {
		return err
	}
	id := benchkit.RunID()
	d := &demo{
		out: out, o: o, runID: id, srv: srv, log: &quietLogger{},
		schema:  "demo_" + id + "_players",
		prefix:  "demo_" + id,
		channel: "strata:demo:" + id,
		key:     make([]byte, 32),
	}
	_, _ = rand.Read(d.key)
	if d.pg, err = pgxpool.New(ctx, srv.PostgresDSN); err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer d.pg.Close()
	d.rdb = redis.NewClient(&redis.Options{Addr: srv.RedisAddr})
	defer d.rdb.Close()
	if err := d.pg.Ping(ctx); err != nil {
		return fmt.Errorf("PostgreSQL at %s does not answer (start it with `make stack-up`): %w", hostOf(srv.PostgresDSN), err)
	}
	if err := d.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("Redis at %s does not answer (start it with `make stack-up`): %w", srv.RedisAddr, err)
	}
	defer func() {
		if cerr := d.cleanup(); cerr != nil && err == nil {
			err = cerr
		}
	}()

	d.header()
	steps := []struct {
		title string
		fn    func(context.Context) error
	}{
		{"Register a schema and migrate", d.stepMigrate},
		{fmt.Sprintf("Load %s players", thousands(o.records)), d.stepLoad},
		{"Hot reads from cold instances: which tier served them", d.stepHotReads},
		{"A second instance sees a write once the invalidation arrives", d.stepInvalidation},
		{"A write made outside Strata reaches every instance: the change feed", d.stepChangeFeed},
		{"An encrypted field: ciphertext in PostgreSQL, plaintext to the caller", d.stepEncryption},
	}
	steps = append(steps, struct {
		title string
		fn    func(context.Context) error
	}{"A cached leaderboard: SearchCached", d.stepLeaderboard}, struct {
		title string
		fn    func(context.Context) error
	}{"Write-behind: score updates acknowledged from memory, flushed in batches", d.stepWriteBehind}, struct {
		title string
		fn    func(context.Context) error
	}{"Observability: one request's trace (strata/otel) and a metrics scrape (strata/prom)", d.stepObserve})
	for i, s := range steps {
		fmt.Fprintf(out, "\n%d. %s\n\n", i+1, s.title)
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("step %d (%s): %w", i+1, s.title, err)
		}
	}
	return nil
}

func (d *demo) header() {
	fmt.Fprintf(d.out, "Strata demo · run %s · strata %s\n", d.runID, strata.Version())
	t := benchkit.NewTable("what", "where")
	t.Row("PostgreSQL (L3)", hostOf(d.srv.PostgresDSN))
	t.Row("Redis (L2)", d.srv.RedisAddr)
	t.Row("table", d.schema)
	t.Row("Redis keys", "strata:"+d.prefix+":{id}")
	t.Row("invalidation channel", d.channel)
	t.Row("records / read time", fmt.Sprintf("%s / %s per instance", thousands(d.o.records), d.o.duration))
	d.table(t)
}

// newInstance opens a DataStore on the demo's servers with the demo schema
// registered, as another process of the same service would.
func (d *demo) newInstance(rec *tierRecorder) (*strata.DataStore, error) {
	ds, err := strata.NewDataStore(strata.Config{
		PostgresDSN:         d.srv.PostgresDSN,
		RedisAddr:           d.srv.RedisAddr,
		InvalidationChannel: d.channel,
		EncryptionKey:       d.key,
		Metrics:             rec,
		Logger:              d.log,
	})
	if err != nil {
		return nil, err
	}
	err = ds.Register(strata.Schema{
		Name:  d.schema,
		Model: &Player{},
		L2:    strata.RedisPolicy{KeyPrefix: d.prefix},
	})
	if err != nil {
		_ = ds.Close()
		return nil, err
	}
	return ds, nil
}

func (d *demo) table(t *benchkit.Table) {
	var b indentWriter
	_ = t.Render(&b)
	fmt.Fprint(d.out, b.String())
}

// cleanup closes the writer instance and removes the run's table and keys.
func (d *demo) cleanup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	if d.writer != nil {
		errs = append(errs, d.writer.Close())
	}
	if n, lines := d.log.report(); n > 0 {
		fmt.Fprintf(d.out, "\nStrata logged %d warning(s) or error(s); the first:\n", n)
		for _, l := range lines {
			fmt.Fprintln(d.out, "   ", l)
		}
	}
	if d.o.keep {
		fmt.Fprintf(d.out, "\nKept table %s and keys *%s* (-keep).\n", d.schema, d.runID)
		return errors.Join(errs...)
	}
	for _, table := range []string{d.schema, d.scoreTable} {
		if table != "" {
			_, err := d.pg.Exec(ctx, "DROP TABLE IF EXISTS "+quoteIdent(table))
			errs = append(errs, err)
		}
	}
	deleted, err := benchkit.DeleteKeys(ctx, d.rdb, "*"+d.runID+"*")
	errs = append(errs, err)
	fmt.Fprintf(d.out, "\nCleaned up: dropped the run's tables, deleted %s Redis keys.\n", thousands(deleted))
	return errors.Join(errs...)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/tools/benchkit"
)

// feedChanges is how many UPDATEs the change-feed step times.
const feedChanges = 200

// stepChangeFeed updates rows with plain SQL, outside Strata, and times
// how long two instances with Config.ChangeFeed take to serve the new
// values they had cached.
func (d *demo) stepChangeFeed(ctx context.Context) (err error) {
	slot := "strata_demo_" + d.runID
	defer func() { err = errors.Join(err, d.dropFeed(slot)) }()
	var stores []*strata.DataStore
	defer func() {
		for _, ds := range stores {
			_ = ds.Close()
		}
	}()
	for range 2 {
		ds, err := strata.NewDataStore(strata.Config{
			PostgresDSN: d.srv.PostgresDSN, RedisAddr: d.srv.RedisAddr, InvalidationChannel: d.channel,
			EncryptionKey: d.key, Logger: d.log, ChangeFeed: true, ChangeFeedSlot: slot,
		})
		if err != nil {
			return err
		}
		stores = append(stores, ds)
		if err := ds.Register(strata.Schema{Name: d.schema, Model: &Player{}, L2: strata.RedisPolicy{KeyPrefix: d.prefix}}); err != nil {
			return err
		}
	}
	c, e := stores[0], stores[1]
	if err := c.Migrate(ctx); err != nil { // the publication and the slot
		return fmt.Errorf("%w\n   (the change feed needs wal_level=logical; `make stack-up` starts PostgreSQL with it)", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !c.Stats().ChangeFeed.Active && !e.Stats().ChangeFeed.Active {
		if time.Now().After(deadline) {
			return errors.New("neither instance took the change-feed slot within 15s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	consumer := "C"
	if e.Stats().ChangeFeed.Active {
		consumer = "D"
	}

	// A plain pgx connection, as psql or another service would use; its
	// commits are flushed at once (the stack runs with synchronous_commit
	// off, under which a commit reaches the slot at the WAL writer's next
	// flush, up to 200 ms later).
	conn, err := d.pg.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET synchronous_commit = on"); err != nil {
		return err
	}
	n := min(feedChanges, d.o.records)
	lags := make([]float64, 0, n)
	var first [2]Player
	for i := range n {
		id := playerID(i)
		var before int64
		for _, ds := range stores { // each instance caches the row (L1, and L2)
			p, err := strata.GetTyped[Player](ctx, ds, d.schema, id)
			if err != nil {
				return err
			}
			before = p.Level
		}
		wrote := time.Now()
		if _, err := conn.Exec(ctx, "UPDATE "+quoteIdent(d.schema)+" SET level = level + 1000 WHERE id = $1", id); err != nil {
			return err
		}
		for j, ds := range stores {
			for {
				p, err := strata.GetTyped[Player](ctx, ds, d.schema, id)
				if err != nil {
					return err
				}
				if p.Level == before+1000 {
					if i == 0 {
						first[j] = p
					}
					break
				}
				if time.Since(wrote) > 5*time.Second {
					return fmt.Errorf("instance %c still reads level %d of %s 5s after the UPDATE", 'C'+j, p.Level, id)
				}
				time.Sleep(50 * time.Microsecond)
			}
		}
		lags = append(lags, float64(time.Since(wrote)))
	}
	fmt.Fprintf(d.out, "   %s UPDATEs of cached rows, made with plain pgx (not through Strata):\n\n", thousands(n))
	fmt.Fprintf(d.out, "   UPDATE %s SET level = level + 1000 WHERE id = $1\n\n", d.schema)
	t := benchkit.NewTable("instance", "role", "first row, after the UPDATE")
	for j, name := range []string{"C", "D"} {
		role := "waits; takes over if the consumer dies"
		if name == consumer {
			role = "streams the slot (the consumer)"
		}
		t.Row(name, role, fmt.Sprintf("level %d", first[j].Level))
	}
	d.table(t)
	slices.Sort(lags)
	fmt.Fprintf(d.out, "\n   From each UPDATE's commit to both instances serving the new level (measured by reading\n")
	fmt.Fprintf(d.out, "   both): p50 %s, p99 %s, max %s over %d changes.\n", benchkit.FormatNs(benchkit.Percentile(lags, 50)),
		benchkit.FormatNs(benchkit.Percentile(lags, 99)), benchkit.FormatNs(lags[len(lags)-1]), n)
	s := stores[0].Stats().ChangeFeed
	if consumer == "D" {
		s = stores[1].Stats().ChangeFeed
	}
	fmt.Fprintf(d.out, "   The consumer read each commit from the replication slot %s, deleted the Redis\n", slot)
	fmt.Fprintln(d.out, "   key, dropped its own L1 copy and told the other instance to drop its copy.")
	fmt.Fprintf(d.out, "   Consumer position %s, %s changes applied, lag now %s.\n", s.AppliedLSN, thousands(int(s.Changes)), s.Lag)
	fmt.Fprintln(d.out, "   Without ChangeFeed they would serve the old level until the L1 TTL (5 min) and Redis")
	fmt.Fprintln(d.out, "   the old row until the L2 TTL (30 min), or until someone called Invalidate.")
	return nil
}

// dropFeed removes the step's slot and publication, waiting for the
// consumer's session to end.
func (d *demo) dropFeed(slot string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return dropSlotAndPublication(ctx, d.pg, slot)
}

func dropSlotAndPublication(ctx context.Context, pg *pgxpool.Pool, name string) error {
	for {
		_, err := pg.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, name)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("drop the demo's replication slot %s: %w", name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, err := pg.Exec(ctx, "DROP PUBLICATION IF EXISTS "+pgx.Identifier{name}.Sanitize())
	return err
}

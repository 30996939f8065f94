package pgtest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// SlotPrefix begins the name of every replication slot and publication a
// test creates; [DropLeakedSlots] removes what crashed tests left.
const SlotPrefix = "strata_test_"

// leakAge is how old an unused test slot must be before DropLeakedSlots
// treats it as leaked, so that it never drops the slot of a test that is
// running in another process.
const leakAge = 10 * time.Minute

// SlotName returns a fresh name for a test's slot or publication:
// SlotPrefix, the creation time in seconds, and a random suffix.
func SlotName() string {
	return SlotPrefix + strconv.FormatInt(time.Now().Unix(), 10) + "_" + Suffix()
}

// DropLeakedSlots drops the inactive replication slots (and the
// publications) named by SlotName more than ten minutes ago: a test
// process that was killed leaves its slot behind, and a slot without a
// consumer retains WAL for ever. It returns how many slots it dropped.
func DropLeakedSlots(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	rows, err := pool.Query(ctx, `SELECT slot_name FROM pg_replication_slots WHERE NOT active AND slot_name LIKE $1`, SlotPrefix+"%")
	if err != nil {
		return 0, err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return 0, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	dropped := 0
	for _, n := range names {
		if !leaked(n, time.Now()) {
			continue
		}
		if _, err := pool.Exec(ctx, `SELECT pg_drop_replication_slot($1)`, n); err != nil {
			return dropped, fmt.Errorf("drop leaked slot %s: %w", n, err)
		}
		dropped++
	}
	pubs, err := pool.Query(ctx, `SELECT pubname FROM pg_publication WHERE pubname LIKE $1`, SlotPrefix+"%")
	if err != nil {
		return dropped, err
	}
	names = names[:0]
	for pubs.Next() {
		var n string
		if err := pubs.Scan(&n); err != nil {
			pubs.Close()
			return dropped, err
		}
		names = append(names, n)
	}
	pubs.Close()
	for _, n := range names {
		if leaked(n, time.Now()) {
			if _, err := pool.Exec(ctx, `DROP PUBLICATION IF EXISTS "`+n+`"`); err != nil {
				return dropped, err
			}
		}
	}
	return dropped, nil
}

// leaked reports whether a SlotName-made name is older than leakAge.
func leaked(name string, now time.Time) bool {
	rest, ok := strings.CutPrefix(name, SlotPrefix)
	if !ok {
		return false
	}
	rest = strings.TrimPrefix(rest, "pub_")
	secs, _, ok := strings.Cut(rest, "_")
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return false
	}
	return now.Sub(time.Unix(n, 0)) > leakAge
}

// Slot returns a fresh slot name (see SlotName) whose slot, if the test
// creates it, is dropped when the test ends, waiting for a consumer that
// is still disconnecting.
func Slot(tb testing.TB, pool *pgxpool.Pool) string {
	tb.Helper()
	name := SlotName()
	tb.Cleanup(func() {
		deadline := time.Now().Add(15 * time.Second)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := pool.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, name)
			cancel()
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				tb.Errorf("drop slot %s: %v", name, err)
				return
			}
			time.Sleep(50 * time.Millisecond) // the consumer's walsender is exiting
		}
	})
	return name
}

// Publication returns a fresh publication name, dropped when the test ends.
func Publication(tb testing.TB, pool *pgxpool.Pool) string {
	tb.Helper()
	name := SlotPrefix + "pub_" + strings.TrimPrefix(SlotName(), SlotPrefix)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, `DROP PUBLICATION IF EXISTS "`+name+`"`); err != nil {
			tb.Errorf("drop publication %s: %v", name, err)
		}
	})
	return name
}

package pgkit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/AndrewDonelson/strata/testkit"
)

// SlotPrefix begins the name of every replication slot and publication a
// test creates, so that [DropLeakedSlots] can find those a killed test
// process left behind (a slot without a consumer retains WAL for ever).
const SlotPrefix = "strata_test_"

// LeakAge is how old an unused test slot must be before DropLeakedSlots
// treats it as leaked, so that it never drops the slot of a test running
// in another process.
const LeakAge = 10 * time.Minute

// SlotName returns a fresh slot (and publication) name: SlotPrefix, the
// time in seconds, a random suffix.
func SlotName() string {
	return SlotPrefix + strconv.FormatInt(time.Now().Unix(), 10) + "_" + testkit.Suffix()
}

// Leaked reports whether a name made by SlotName (or Publication) is
// older than LeakAge at now.
func Leaked(name string, now time.Time) bool {
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
	return now.Sub(time.Unix(n, 0)) > LeakAge
}

// Slot returns a fresh name for a test's replication slot and publication
// on the server behind dsn, and drops both when tb ends (waiting while the
// last consumer disconnects).
func Slot(tb testing.TB, dsn string) string {
	tb.Helper()
	name := SlotName()
	tb.Cleanup(func() { dropSlot(tb, dsn, name) })
	return name
}

// Publication returns a fresh publication name, dropped when tb ends.
func Publication(tb testing.TB, dsn string) string {
	tb.Helper()
	name := SlotPrefix + "pub_" + strings.TrimPrefix(SlotName(), SlotPrefix)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("drop publication %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, `DROP PUBLICATION IF EXISTS `+pgx.Identifier{name}.Sanitize()); err != nil {
			tb.Errorf("drop publication %s: %v", name, err)
		}
	})
	return name
}

func dropSlot(tb testing.TB, dsn, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Errorf("drop slot %s: %v", name, err)
		return
	}
	defer conn.Close(context.Background())
	for {
		_, err := conn.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, name)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			tb.Errorf("drop slot %s: %v", name, err)
			return
		}
		time.Sleep(50 * time.Millisecond) // its consumer's walsender is exiting
	}
	if _, err := conn.Exec(ctx, `DROP PUBLICATION IF EXISTS `+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Errorf("drop publication %s: %v", name, err)
	}
}

// DropLeakedSlots drops the inactive test slots, and the publications,
// named by SlotName more than LeakAge ago (never a running test's), on the
// server behind dsn; it does nothing when dsn is empty. It returns how many
// slots it dropped. Call it from TestMain.
func DropLeakedSlots(dsn string) (int, error) {
	if dsn == "" {
		return 0, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	list := func(sql string) ([]string, error) {
		rows, err := conn.Query(ctx, sql, SlotPrefix+"%")
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[string])
	}
	slots, err := list(`SELECT slot_name::text FROM pg_replication_slots WHERE NOT active AND slot_name LIKE $1`)
	if err != nil {
		return 0, err
	}
	now, n := time.Now(), 0
	for _, s := range slots {
		if Leaked(s, now) {
			if _, err := conn.Exec(ctx, `SELECT pg_drop_replication_slot($1)`, s); err != nil {
				return n, fmt.Errorf("drop leaked slot %s: %w", s, err)
			}
			n++
		}
	}
	pubs, err := list(`SELECT pubname::text FROM pg_publication WHERE pubname LIKE $1`)
	if err != nil {
		return n, err
	}
	for _, p := range pubs {
		if Leaked(p, now) {
			if _, err := conn.Exec(ctx, `DROP PUBLICATION IF EXISTS `+pgx.Identifier{p}.Sanitize()); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

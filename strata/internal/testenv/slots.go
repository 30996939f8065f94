package testenv

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// SlotPrefix begins the name of every replication slot and publication
// the tests create, so that DropLeakedSlots can find those a killed test
// process left behind (a slot without a consumer retains WAL for ever).
const SlotPrefix = "strata_test_"

// SlotName returns a fresh slot (and publication) name: SlotPrefix, the
// time in seconds, a random suffix.
func SlotName() string {
	return SlotPrefix + strconv.FormatInt(time.Now().Unix(), 10) + "_" + Suffix()
}

// FeedSlot returns a fresh name for a test's change-feed slot and
// publication and drops both when the test ends (waiting while the last
// consumer disconnects).
func FeedSlot(t testing.TB) string {
	t.Helper()
	dsn := PostgresDSN(t)
	name := SlotName()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop slot %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		for {
			_, err := conn.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, name)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				t.Errorf("drop slot %s: %v", name, err)
				return
			}
			time.Sleep(50 * time.Millisecond) // its consumer is disconnecting
		}
		if _, err := conn.Exec(ctx, `DROP PUBLICATION IF EXISTS `+pgx.Identifier{name}.Sanitize()); err != nil {
			t.Errorf("drop publication %s: %v", name, err)
		}
	})
	return name
}

// DropLeakedSlots drops the inactive test slots, and the publications,
// named by SlotName more than ten minutes ago (never a running test's).
// It does nothing without STRATA_POSTGRES_DSN.
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
	old := func(name string) bool {
		rest, ok := strings.CutPrefix(name, SlotPrefix)
		secs, _, ok2 := strings.Cut(rest, "_")
		n, err := strconv.ParseInt(secs, 10, 64)
		return ok && ok2 && err == nil && time.Since(time.Unix(n, 0)) > 10*time.Minute
	}
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
	n := 0
	for _, s := range slots {
		if old(s) {
			if _, err := conn.Exec(ctx, `SELECT pg_drop_replication_slot($1)`, s); err != nil {
				return n, err
			}
			n++
		}
	}
	pubs, err := list(`SELECT pubname::text FROM pg_publication WHERE pubname LIKE $1`)
	if err != nil {
		return n, err
	}
	for _, p := range pubs {
		if old(p) {
			if _, err := conn.Exec(ctx, `DROP PUBLICATION IF EXISTS `+pgx.Identifier{p}.Sanitize()); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

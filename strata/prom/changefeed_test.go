package strataprom_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/internal/testenv"
	strataprom "github.com/AndrewDonelson/strata/strata/prom"
)

// TestWatchExportsTheChangeFeedsCounters: with Config.ChangeFeed, Watch
// exports the feed's gauges and its counters (changes applied, retries,
// takeovers, releases) as ChangeFeedStats reports them.
func TestWatchExportsTheChangeFeedsCounters(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	redisAddr := testenv.RedisAddr(t)
	sfx := testenv.Suffix()
	schema := "promfeed_" + sfx
	reg := prometheus.NewRegistry()
	rec, err := strataprom.New(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := strata.NewDataStore(strata.Config{
		PostgresDSN: dsn, RedisAddr: redisAddr, InvalidationChannel: "strata:test:" + sfx, Metrics: rec,
		ChangeFeed: true, ChangeFeedSlot: testenv.FeedSlot(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ds.Close()
		ctx := context.Background()
		if conn, err := pgx.Connect(ctx, dsn); err == nil {
			_, _ = conn.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{schema}.Sanitize())
			conn.Close(ctx)
		}
	})
	if err := ds.Register(strata.Schema{Name: schema, Model: &Item{}}); err != nil {
		t.Fatal(err)
	}
	if err := rec.Watch(ds); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if err := ds.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "this instance to take the change feed's slot", func() bool {
		return value(t, reg, "strata_changefeed_active", nil) == 1
	})
	for _, id := range []string{"c1", "c2", "c3"} {
		if err := ds.Set(ctx, schema, id, &Item{ID: id, Name: id}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the feed to apply the three writes", func() bool {
		return value(t, reg, "strata_changefeed_changes_total", nil) >= 3
	})
	if got, want := value(t, reg, "strata_changefeed_changes_total", nil), float64(ds.ChangeFeedStats().Changes); got > want {
		t.Fatalf("changefeed_changes_total = %v, more than ChangeFeedStats().Changes = %v", got, want)
	}
	want := `
# HELP strata_changefeed_releases_total Times this instance gave the replication slot up after failing to apply for Config.ChangeFeedReleaseAfter.
# TYPE strata_changefeed_releases_total counter
strata_changefeed_releases_total 0
# HELP strata_changefeed_retries_total Change-feed batches that failed to apply and were offered again.
# TYPE strata_changefeed_retries_total counter
strata_changefeed_retries_total 0
# HELP strata_changefeed_takeovers_total Times this instance took the replication slot from a consumer that had stopped reporting.
# TYPE strata_changefeed_takeovers_total counter
strata_changefeed_takeovers_total 0
`
	if err := testutil.GatherAndCompare(reg, bytes.NewBufferString(want),
		"strata_changefeed_releases_total", "strata_changefeed_retries_total", "strata_changefeed_takeovers_total"); err != nil {
		t.Fatal(err)
	}
}

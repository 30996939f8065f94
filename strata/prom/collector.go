package strataprom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/AndrewDonelson/strata/strata"
)

// storeCollector reads a DataStore's gauges at scrape time.
type storeCollector struct {
	ds                                *strata.DataStore
	wbDepth, wbOldest                 *prometheus.Desc
	feedLag, feedLagBytes, feedActive *prometheus.Desc
	// the change feed's counters (ChangeFeedStats), read at scrape time
	feedChanges, feedRetries, feedTakeovers, feedReleases *prometheus.Desc
	l1Entries                                             *prometheus.Desc
}

func newStoreCollector(ds *strata.DataStore, o Options) *storeCollector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(o.Namespace, "", name), help, labels, o.ConstLabels)
	}
	return &storeCollector{
		ds:           ds,
		wbDepth:      desc("write_behind_depth", "Write-behind records not yet written to PostgreSQL.", "schema"),
		wbOldest:     desc("write_behind_oldest_seconds", "How long the oldest write-behind record not yet in PostgreSQL has waited.", "schema"),
		feedLag:      desc("changefeed_lag_seconds", "How long ago the oldest committed change not yet invalidated committed (0 when caught up)."),
		feedLagBytes: desc("changefeed_lag_bytes", "How far PostgreSQL's WAL is ahead of the change feed's applied position."),
		feedActive:   desc("changefeed_active", "1 while this instance holds the change feed's replication slot."),
		feedChanges:  desc("changefeed_changes_total", "Changes this instance's change feed applied."),
		feedRetries:  desc("changefeed_retries_total", "Change-feed batches that failed to apply and were offered again."),
		feedTakeovers: desc("changefeed_takeovers_total",
			"Times this instance took the replication slot from a consumer that had stopped reporting."),
		feedReleases: desc("changefeed_releases_total",
			"Times this instance gave the replication slot up after failing to apply for Config.ChangeFeedReleaseAfter."),
		l1Entries: desc("l1_entries", "Entries held in L1, every schema."),
	}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.wbDepth, c.wbOldest, c.feedLag, c.feedLagBytes, c.feedActive,
		c.feedChanges, c.feedRetries, c.feedTakeovers, c.feedReleases, c.l1Entries} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	for _, b := range c.ds.WriteBehindBacklog() {
		ch <- prometheus.MustNewConstMetric(c.wbDepth, prometheus.GaugeValue, float64(b.Depth), b.Schema)
		ch <- prometheus.MustNewConstMetric(c.wbOldest, prometheus.GaugeValue, b.Oldest.Seconds(), b.Schema)
	}
	s := c.ds.Stats()
	if s.ChangeFeed.Enabled {
		active := 0.0
		if s.ChangeFeed.Active {
			active = 1
		}
		ch <- prometheus.MustNewConstMetric(c.feedLag, prometheus.GaugeValue, s.ChangeFeed.Lag.Seconds())
		ch <- prometheus.MustNewConstMetric(c.feedLagBytes, prometheus.GaugeValue, float64(s.ChangeFeed.LagBytes))
		ch <- prometheus.MustNewConstMetric(c.feedActive, prometheus.GaugeValue, active)
		for _, m := range []struct {
			d *prometheus.Desc
			n int64
		}{
			{c.feedChanges, s.ChangeFeed.Changes}, {c.feedRetries, s.ChangeFeed.Retries},
			{c.feedTakeovers, s.ChangeFeed.Takeovers}, {c.feedReleases, s.ChangeFeed.Releases},
		} {
			ch <- prometheus.MustNewConstMetric(m.d, prometheus.CounterValue, float64(m.n))
		}
	}
	ch <- prometheus.MustNewConstMetric(c.l1Entries, prometheus.GaugeValue, float64(s.L1Entries))
}

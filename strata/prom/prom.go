// Package strataprom exports a Strata DataStore's metrics to Prometheus
// (client_golang). It is a module of its own, so that Strata's core does not
// depend on Prometheus:
//
//	go get github.com/AndrewDonelson/strata/strata/prom
//
// A Recorder is a metrics.MetricsRecorder that also implements every
// optional recorder interface of package metrics. Put it in
// strata.Config.Metrics, then let it Watch the DataStore for the figures
// that are read at scrape time (write-behind backlog, change feed, L1
// size):
//
//	rec, err := strataprom.New(prometheus.DefaultRegisterer, nil)
//	ds, err := strata.NewDataStore(strata.Config{Metrics: rec, ...})
//	err = rec.Watch(ds)
//	http.Handle("/metrics", promhttp.Handler())
//
// Every metric's name starts with Options.Namespace ("strata" by default):
//
//	strata_hits_total{schema,tier}                  reads a tier served
//	strata_misses_total{schema,tier}                reads a tier did not have
//	strata_tier_duration_seconds{schema,tier,op}    each Redis and PostgreSQL operation
//	strata_tier_errors_total{schema,tier,op}        failed tier operations
//	strata_invalidations_sent_total{schema,op}      invalidation messages published
//	strata_invalidations_received_total{schema,op}  messages from other instances
//	strata_resubscribe_flushes_total{reason}        L1 flushes after the bus (re)subscribed or missed messages
//	strata_resubscribe_flushed_entries_total        L1 entries those flushes dropped
//	strata_lease_waits_total{schema,outcome}        reads that waited for another reader's fill
//	strata_lease_wait_seconds{schema}               how long they waited
//	strata_breaker_changes_total{tier,state}        circuit breaker openings and closings
//	strata_breaker_open{tier}                       1 while the breaker is open
//	strata_search_cache_hits_total{schema}          SearchCached results served from Redis
//	strata_search_cache_misses_total{schema}        SearchCached queries run (and cached)
//	strata_changefeed_apply_lag_seconds{schema}     commit-to-invalidation time of change-feed batches
//
// and, once Watch is called, gauges and counters read at scrape time (the
// change feed's only while Config.ChangeFeed is set):
//
//	strata_write_behind_depth{schema}               write-behind records not yet in PostgreSQL
//	strata_write_behind_oldest_seconds{schema}      age of the oldest of them
//	strata_changefeed_lag_seconds                   age of the oldest change not yet invalidated
//	strata_changefeed_lag_bytes                     WAL not yet applied
//	strata_changefeed_active                        1 while this instance holds the slot
//	strata_changefeed_changes_total                 changes the change feed applied
//	strata_changefeed_retries_total                 batches that failed to apply and were offered again
//	strata_changefeed_takeovers_total               slot takeovers from a consumer that stopped reporting
//	strata_changefeed_releases_total                slot releases after failing to apply for ChangeFeedReleaseAfter
//	strata_l1_entries                               entries in L1, every schema
//
// Hits and misses are counted through a per-schema table read without a
// lock, so the L1 hit path costs one atomic add per event and allocates
// nothing; still, a shared counter is a point of contention under many
// cores, which is the price of the metric.
package strataprom

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/AndrewDonelson/strata/strata"
	"github.com/AndrewDonelson/strata/strata/metrics"
)

// Options tunes a Recorder; the zero value (or nil) is the defaults.
type Options struct {
	// Namespace prefixes every metric name. Default: "strata".
	Namespace string
	// ConstLabels are added to every metric, e.g. {"service": "api"}.
	ConstLabels prometheus.Labels
	// Buckets are the latency histograms' buckets, in seconds. Default:
	// 100µs doubling to about 3.3s.
	Buckets []float64
}

// ErrInvalidOptions is returned by New for options it cannot use.
var ErrInvalidOptions = errors.New("strataprom: invalid options")

// Recorder keeps a DataStore's metrics; see the package documentation. It
// is safe for concurrent use. One Recorder may serve several DataStores
// (their schemas are labelled), but Watch only one.
type Recorder struct {
	reg  prometheus.Registerer
	opts Options

	hits, misses  *prometheus.CounterVec
	tierDuration  *prometheus.HistogramVec
	tierErrors    *prometheus.CounterVec
	invSent       *prometheus.CounterVec
	invReceived   *prometheus.CounterVec
	flushes       *prometheus.CounterVec
	flushed       prometheus.Counter
	leaseWaits    *prometheus.CounterVec
	leaseWait     *prometheus.HistogramVec
	breakerChange *prometheus.CounterVec
	breakerOpen   *prometheus.GaugeVec
	searchHits    *prometheus.CounterVec
	searchMisses  *prometheus.CounterVec
	feedApplyLag  *prometheus.HistogramVec

	// bySchema maps a schema to its hit and miss counters, one per tier;
	// it is replaced, never changed, so reads take no lock.
	bySchema atomic.Pointer[map[string]*schemaCounters]
	mu       sync.Mutex // serialises additions to bySchema
	watched  bool
}

// schemaCounters are one schema's hit and miss counters by tier index.
type schemaCounters struct {
	hits, misses [len(tiers)]prometheus.Counter
}

var tiers = [...]string{metrics.TierL1, metrics.TierL2, metrics.TierL3}

// tierIndex returns tier's index in tiers, or -1.
func tierIndex(tier string) int {
	switch tier {
	case metrics.TierL1:
		return 0
	case metrics.TierL2:
		return 1
	case metrics.TierL3:
		return 2
	}
	return -1
}

// changefeedLagOp is the Latency op by which the change feed reports each
// batch's commit-to-invalidation time.
const changefeedLagOp = "changefeed_lag"

// New returns a Recorder whose metrics are registered with reg (nil:
// prometheus.DefaultRegisterer). It fails if reg already holds metrics of
// the same names, e.g. a second Recorder with the same Namespace.
func New(reg prometheus.Registerer, opts *Options) (*Recorder, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Namespace == "" {
		o.Namespace = "strata"
	}
	if o.Buckets == nil {
		o.Buckets = prometheus.ExponentialBuckets(0.0001, 2, 16)
	}
	for i := 1; i < len(o.Buckets); i++ {
		if o.Buckets[i] <= o.Buckets[i-1] {
			return nil, fmt.Errorf("%w: Buckets must increase, got %v", ErrInvalidOptions, o.Buckets)
		}
	}
	if reg == nil {
		reg = prometheus.DefaultRegisterer
	}
	r := &Recorder{reg: reg, opts: o}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: o.Namespace, Name: name, Help: help, ConstLabels: o.ConstLabels}, labels)
	}
	histogram := func(name, help string, labels ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: o.Namespace, Name: name, Help: help, ConstLabels: o.ConstLabels, Buckets: o.Buckets}, labels)
	}
	r.hits = counter("hits_total", "Reads of a record that a tier served.", "schema", "tier")
	r.misses = counter("misses_total", "Reads of a record that a tier did not have.", "schema", "tier")
	r.tierDuration = histogram("tier_duration_seconds", "Duration of each operation on Redis (l2) and PostgreSQL (l3).", "schema", "tier", "op")
	r.tierErrors = counter("tier_errors_total", "Failed operations on a tier; op decode counts undecodable cached values.", "schema", "tier", "op")
	r.invSent = counter("invalidations_sent_total", "Invalidation messages this instance published.", "schema", "op")
	r.invReceived = counter("invalidations_received_total", "Invalidation messages received from other instances.", "schema", "op")
	r.flushes = counter("resubscribe_flushes_total", "Flushes of every L1 after the invalidation bus subscribed again, or missed or could not read a message.", "reason")
	r.flushed = prometheus.NewCounter(prometheus.CounterOpts{Namespace: o.Namespace, Name: "resubscribe_flushed_entries_total", Help: "L1 entries dropped by resubscribe flushes.", ConstLabels: o.ConstLabels})
	r.leaseWaits = counter("lease_waits_total", "Reads that found another reader filling the key in Redis and waited, by outcome (filled, granted, gave_up, error).", "schema", "outcome")
	r.leaseWait = histogram("lease_wait_seconds", "How long reads waited for another reader's fill.", "schema")
	r.breakerChange = counter("breaker_changes_total", "Circuit breaker state changes (state open or closed).", "tier", "state")
	r.breakerOpen = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: o.Namespace, Name: "breaker_open", Help: "1 while the tier's circuit breaker is open.", ConstLabels: o.ConstLabels}, []string{"tier"})
	r.searchHits = counter("search_cache_hits_total", "SearchCached calls served from the result set cached in Redis.", "schema")
	r.searchMisses = counter("search_cache_misses_total", "SearchCached calls that ran the query and cached its result.", "schema")
	r.feedApplyLag = histogram("changefeed_apply_lag_seconds", "Time from a change-feed batch's commit to every cache having been told.", "schema")
	for _, c := range []prometheus.Collector{
		r.hits, r.misses, r.tierDuration, r.tierErrors, r.invSent, r.invReceived, r.flushes, r.flushed,
		r.leaseWaits, r.leaseWait, r.breakerChange, r.breakerOpen, r.searchHits, r.searchMisses, r.feedApplyLag,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("strataprom: registering the metrics: %w", err)
		}
	}
	r.bySchema.Store(&map[string]*schemaCounters{})
	return r, nil
}

// counters returns schema's hit and miss counters, creating them once.
func (r *Recorder) counters(schema string) *schemaCounters {
	if c, ok := (*r.bySchema.Load())[schema]; ok {
		return c
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.bySchema.Load()
	if c, ok := old[schema]; ok {
		return c
	}
	c := &schemaCounters{}
	for i, tier := range tiers {
		c.hits[i] = r.hits.WithLabelValues(schema, tier)
		c.misses[i] = r.misses.WithLabelValues(schema, tier)
	}
	m := make(map[string]*schemaCounters, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[schema] = c
	r.bySchema.Store(&m)
	return c
}

// Hit implements metrics.MetricsRecorder.
func (r *Recorder) Hit(schema, tier string) {
	if i := tierIndex(tier); i >= 0 {
		r.counters(schema).hits[i].Inc()
		return
	}
	r.hits.WithLabelValues(schema, tier).Inc()
}

// Miss implements metrics.MetricsRecorder.
func (r *Recorder) Miss(schema, tier string) {
	if i := tierIndex(tier); i >= 0 {
		r.counters(schema).misses[i].Inc()
		return
	}
	r.misses.WithLabelValues(schema, tier).Inc()
}

// Latency implements metrics.MetricsRecorder. The change feed's lag
// (op "changefeed_lag") goes to its own histogram.
func (r *Recorder) Latency(schema, tier, op string, d time.Duration) {
	if op == changefeedLagOp {
		r.feedApplyLag.WithLabelValues(schema).Observe(d.Seconds())
		return
	}
	r.tierDuration.WithLabelValues(schema, tier, op).Observe(d.Seconds())
}

// Error implements metrics.MetricsRecorder.
func (r *Recorder) Error(schema, tier, op string) {
	r.tierErrors.WithLabelValues(schema, tier, op).Inc()
}

// InvalidationSent implements metrics.InvalidationRecorder.
func (r *Recorder) InvalidationSent(schema, op string, ids int) {
	r.invSent.WithLabelValues(schema, op).Inc()
}

// InvalidationReceived implements metrics.InvalidationRecorder.
func (r *Recorder) InvalidationReceived(schema, op string, ids int) {
	r.invReceived.WithLabelValues(schema, op).Inc()
}

// ResubscribeFlush implements metrics.ResubscribeRecorder.
func (r *Recorder) ResubscribeFlush(reason string, entries int) {
	r.flushes.WithLabelValues(reason).Inc()
	r.flushed.Add(float64(entries))
}

// LeaseWait implements metrics.LeaseRecorder.
func (r *Recorder) LeaseWait(schema string, d time.Duration, outcome string) {
	r.leaseWaits.WithLabelValues(schema, outcome).Inc()
	r.leaseWait.WithLabelValues(schema).Observe(d.Seconds())
}

// BreakerStateChange implements metrics.BreakerRecorder.
func (r *Recorder) BreakerStateChange(tier string, open bool) {
	state, v := "closed", 0.0
	if open {
		state, v = "open", 1
	}
	r.breakerChange.WithLabelValues(tier, state).Inc()
	r.breakerOpen.WithLabelValues(tier).Set(v)
}

// SearchCacheHit implements metrics.SearchCacheRecorder.
func (r *Recorder) SearchCacheHit(schema string) { r.searchHits.WithLabelValues(schema).Inc() }

// SearchCacheMiss implements metrics.SearchCacheRecorder.
func (r *Recorder) SearchCacheMiss(schema string) { r.searchMisses.WithLabelValues(schema).Inc() }

// The Recorder implements every optional interface.
var (
	_ metrics.MetricsRecorder      = (*Recorder)(nil)
	_ metrics.InvalidationRecorder = (*Recorder)(nil)
	_ metrics.ResubscribeRecorder  = (*Recorder)(nil)
	_ metrics.LeaseRecorder        = (*Recorder)(nil)
	_ metrics.BreakerRecorder      = (*Recorder)(nil)
	_ metrics.SearchCacheRecorder  = (*Recorder)(nil)
)

// Watch registers, with the Recorder's registerer, the gauges read from ds
// at scrape time: write-behind depth and oldest age per schema, the change
// feed's lag and whether this instance holds its slot, and L1's size. Call
// it once, after NewDataStore; a second call fails.
func (r *Recorder) Watch(ds *strata.DataStore) error {
	if ds == nil {
		return fmt.Errorf("%w: Watch needs a DataStore, got nil", ErrInvalidOptions)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.watched {
		return fmt.Errorf("%w: Watch was already called; one Recorder watches one DataStore", ErrInvalidOptions)
	}
	if err := r.reg.Register(newStoreCollector(ds, r.opts)); err != nil {
		return fmt.Errorf("strataprom: registering the DataStore's gauges: %w", err)
	}
	r.watched = true
	return nil
}

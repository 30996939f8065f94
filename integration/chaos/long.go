package chaos

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ParseSeeds parses CHAOS_SEEDS ("1,2,3"); empty means 1, 2 and 3.
func ParseSeeds(s string) ([]uint64, error) {
	if strings.TrimSpace(s) == "" {
		return []uint64{1, 2, 3}, nil
	}
	var out []uint64
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("chaos: %s=%q: %w", EnvSeeds, s, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// ModeTotals adds up the runs of one mode (change feed off or on).
type ModeTotals struct {
	Runs          int            `json:"runs"`
	Duration      time.Duration  `json:"duration_ns"`
	Ops           int            `json:"ops"`
	Faults        int            `json:"faults"`
	FaultsByKind  map[string]int `json:"faults_by_kind"`
	AckedWrites   int            `json:"acked_writes"`
	UnknownWrites int            `json:"unknown_writes"`
	LostWrites    int            `json:"lost_writes"`
	// StaleAfterQuiescence counts the disagreements with PostgreSQL left
	// when the settle bound ran out; FirstPollMismatches those seen at the
	// first comparison after quiescence (which may have cleared later).
	StaleAfterQuiescence int           `json:"stale_after_quiescence"`
	FirstPollMismatches  int           `json:"first_poll_mismatches"`
	ConvergeMax          time.Duration `json:"converge_max_ns"`
	ReadElements         int           `json:"read_elements"`
	StaleReads           int           `json:"stale_reads"`
	ExcusedReads         int           `json:"excused_reads"`
	Staleness            Dist          `json:"staleness"`
	// StalenessBySchema: "wt" (write-through) and "wb" (write-behind, which
	// other instances see once flushed).
	StalenessBySchema map[string]Dist `json:"staleness_by_schema"`
	// StalenessOutsideFaultsBySchema is the same over the reads that began
	// outside every fault and its grace period.
	StalenessOutsideFaultsBySchema map[string]Dist `json:"staleness_outside_faults_by_schema"`
	StalenessOutsideFaults         Dist            `json:"staleness_outside_faults"`
	Violations                     int             `json:"violations"`
	Linearizable                   map[string]int  `json:"linearizable"`             // result → runs
	LinearizableWithSearch         map[string]int  `json:"linearizable_with_search"` // reported, not gated
	Failures                       int             `json:"failures"`

	values, calm []time.Duration
	bySchema     map[string][]time.Duration
	calmBySchema map[string][]time.Duration
}

// LongReport is make chaos's report.
type LongReport struct {
	Started  time.Time              `json:"started"`
	Took     time.Duration          `json:"took_ns"`
	Duration time.Duration          `json:"chaos_duration_ns"`
	Seeds    []uint64               `json:"seeds"`
	Command  string                 `json:"command"`
	Bounds   map[string]string      `json:"bounds"`
	Totals   map[string]*ModeTotals `json:"totals"` // "feed-off", "feed-on"
	Runs     []*RunReport           `json:"runs"`
}

// NewLongReport starts a report of runs over seeds for total.
func NewLongReport(total time.Duration, seeds []uint64) *LongReport {
	ss := make([]string, len(seeds))
	for i, s := range seeds {
		ss[i] = strconv.FormatUint(s, 10)
	}
	b := DefaultBounds()
	return &LongReport{Started: time.Now(), Duration: total, Seeds: seeds,
		Command: fmt.Sprintf("make chaos CHAOS_DURATION=%v CHAOS_SEEDS=%s", total, strings.Join(ss, ",")),
		Bounds: map[string]string{"calm_wt": b.Calm[SchemaWT].String(), "calm_wb": b.Calm[SchemaWB].String(),
			"grace": b.Grace.String(), "settle": Settle.String()},
		Totals: map[string]*ModeTotals{}}
}

func modeName(feed bool) string {
	if feed {
		return "feed-on"
	}
	return "feed-off"
}

// Add adds one run.
func (l *LongReport) Add(r *RunReport) {
	l.Runs = append(l.Runs, r)
	m := l.Totals[modeName(r.Feed)]
	if m == nil {
		m = &ModeTotals{FaultsByKind: map[string]int{}, Linearizable: map[string]int{}, LinearizableWithSearch: map[string]int{},
			bySchema: map[string][]time.Duration{}, calmBySchema: map[string][]time.Duration{}}
		l.Totals[modeName(r.Feed)] = m
	}
	m.Runs++
	m.Duration += r.Duration
	m.Ops += r.Ops
	m.Faults += len(r.Faults)
	for k, n := range r.FaultsByKind {
		m.FaultsByKind[k] += n
	}
	m.AckedWrites += r.Lost.Acked
	m.UnknownWrites += r.Lost.Unknown
	m.LostWrites += r.Lost.Lost
	m.StaleAfterQuiescence += len(r.Converge.Mismatches)
	m.FirstPollMismatches += len(r.Converge.FirstMismatches)
	m.ConvergeMax = max(m.ConvergeMax, r.Converge.Took)
	m.ReadElements += r.Reads.Elements
	m.StaleReads += r.Reads.Stale
	m.ExcusedReads += r.Reads.Excused
	m.values = append(m.values, r.Reads.values...)
	m.calm = append(m.calm, r.Reads.calmValues...)
	for k, v := range r.Reads.schemaValues {
		m.bySchema[k] = append(m.bySchema[k], v...)
	}
	for k, v := range r.Reads.schemaCalm {
		m.calmBySchema[k] = append(m.calmBySchema[k], v...)
	}
	m.Violations += len(r.Reads.Violations) + len(r.Lost.Violations)
	m.Linearizable[r.Linear.Result]++
	m.LinearizableWithSearch[r.LinearWithSearch.Result]++
	m.Failures += len(r.Failures)
}

// Finish computes the distributions.
func (l *LongReport) Finish() {
	l.Took = time.Since(l.Started)
	for _, m := range l.Totals {
		m.Staleness, m.StalenessOutsideFaults = distOf(m.values), distOf(m.calm)
		m.StalenessBySchema = map[string]Dist{}
		for k, v := range m.bySchema {
			m.StalenessBySchema[k] = distOf(v)
		}
		m.StalenessOutsideFaultsBySchema = map[string]Dist{}
		for k, v := range m.calmBySchema {
			m.StalenessOutsideFaultsBySchema[k] = distOf(v)
		}
	}
}

// Summary is the report's figures in a few lines.
func (l *LongReport) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (took %v)\n", l.Command, l.Took.Round(time.Second))
	modes := make([]string, 0, len(l.Totals))
	for k := range l.Totals {
		modes = append(modes, k)
	}
	sort.Strings(modes)
	for _, k := range modes {
		m := l.Totals[k]
		fmt.Fprintf(&b, "%s: %d runs, %v, %d ops, %d faults (%s)\n", k, m.Runs, m.Duration.Round(time.Second), m.Ops, m.Faults, countString(m.FaultsByKind))
		fmt.Fprintf(&b, "  writes: %d acknowledged, %d unknown, %d lost; stale after quiescence: %d (first poll %d, converged within %v)\n",
			m.AckedWrites, m.UnknownWrites, m.LostWrites, m.StaleAfterQuiescence, m.FirstPollMismatches, m.ConvergeMax.Round(time.Millisecond))
		fmt.Fprintf(&b, "  reads: %d key-level, %d stale, %d excused by faults; staleness %v; outside faults %v\n",
			m.ReadElements, m.StaleReads, m.ExcusedReads, m.Staleness, m.StalenessOutsideFaults)
		fmt.Fprintf(&b, "  write-through: %v (outside faults %v); write-behind: %v (outside faults %v)\n",
			m.StalenessBySchema[SchemaWT], m.StalenessOutsideFaultsBySchema[SchemaWT], m.StalenessBySchema[SchemaWB], m.StalenessOutsideFaultsBySchema[SchemaWB])
		fmt.Fprintf(&b, "  linearizable (single writer): %v; with Search: %v; violations %d; failures %d\n",
			m.Linearizable, m.LinearizableWithSearch, m.Violations, m.Failures)
	}
	return b.String()
}

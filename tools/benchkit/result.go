package benchkit

import (
	"encoding/json"
	"fmt"
	"os"
)

// Result is one row of the report: subject measured in workload, compared
// to baseline. See the package documentation for the meaning of Ratio.
type Result struct {
	Workload    string  `json:"workload"`
	Subject     string  `json:"subject"`
	Baseline    string  `json:"baseline"`
	NsPerOp     float64 `json:"ns_per_op"`
	AllocsPerOp float64 `json:"allocs_per_op"`
	OpsPerSec   float64 `json:"ops_per_sec"`
	Ratio       float64 `json:"ratio"`

	// HitPct is the hit ratio in percent, for hit-ratio workloads.
	HitPct *float64 `json:"hit_pct,omitempty"`
	// L3Queries is the median number of PostgreSQL queries one stampede
	// caused, for stampede workloads.
	L3Queries *float64 `json:"l3_queries,omitempty"`
	// P50Ns and P99Ns are percentiles of single-call latency in
	// nanoseconds, for workloads that time each call (fleet stampedes).
	P50Ns *float64 `json:"p50_ns,omitempty"`
	P99Ns *float64 `json:"p99_ns,omitempty"`
	// RedisBytes is the size of one record's value in Redis, for the
	// codec workloads.
	RedisBytes *float64 `json:"redis_bytes,omitempty"`
	// Note explains anything a reader needs to read the row right.
	Note string `json:"note,omitempty"`
}

// Measured is the median outcome of one subject of a workload.
type Measured struct {
	Subject     string
	Ours        bool // a Strata subject, compared to every baseline
	NsPerOp     float64
	AllocsPerOp float64
	HitPct      *float64
	L3Queries   *float64
	P50Ns       *float64
	P99Ns       *float64
	RedisBytes  *float64
	Note        string
}

// Compare turns the medians of one workload into rows: each baseline (a
// subject that is not Ours) gets its own row with ratio 1, and each of
// our subjects gets one row per baseline with the ratio of their ns/op.
// A workload without baselines yields one row per subject, ratio 0.
func Compare(workload string, ms []Measured) []Result {
	var ours, base []Measured
	for _, m := range ms {
		if m.Ours {
			ours = append(ours, m)
		} else {
			base = append(base, m)
		}
	}
	row := func(m Measured, baseline string, ratio float64) Result {
		r := Result{
			Workload: workload, Subject: m.Subject, Baseline: baseline,
			NsPerOp: m.NsPerOp, AllocsPerOp: m.AllocsPerOp, OpsPerSec: Ratio(1e9, m.NsPerOp),
			Ratio: ratio, HitPct: m.HitPct, L3Queries: m.L3Queries,
			P50Ns: m.P50Ns, P99Ns: m.P99Ns, RedisBytes: m.RedisBytes, Note: m.Note,
		}
		return r
	}
	var out []Result
	for _, o := range ours {
		if len(base) == 0 {
			out = append(out, row(o, "", 0))
		}
		for _, b := range base {
			out = append(out, row(o, b.Subject, Ratio(o.NsPerOp, b.NsPerOp)))
		}
	}
	for _, b := range base {
		out = append(out, row(b, b.Subject, 1))
	}
	return out
}

// WriteJSON writes results to path as an indented JSON array ("[]" when
// there are none).
func WriteJSON(path string, results []Result) error {
	if results == nil {
		results = []Result{}
	}
	data, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return fmt.Errorf("benchkit: encode results: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("benchkit: write results: %w", err)
	}
	return nil
}

// Float returns a pointer to v, for the optional fields of Measured.
func Float(v float64) *float64 { return &v }

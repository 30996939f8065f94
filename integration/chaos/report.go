package chaos

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// Summary is a few lines a human reads first.
func (r *RunReport) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d, change feed %v: %d operations in %v", r.Seed, r.Feed, r.Ops, r.Duration.Round(time.Millisecond))
	kinds := make([]string, 0, len(r.OpsByKind))
	for k := range r.OpsByKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var parts []string
	for _, k := range kinds {
		m := r.OpsByKind[k]
		parts = append(parts, fmt.Sprintf("%s %d/%d/%d", k, m[StatusOK], m[StatusFail], m[StatusUnknown]))
	}
	fmt.Fprintf(&b, " (ok/fail/unknown: %s)\n", strings.Join(parts, ", "))
	fmt.Fprintf(&b, "faults: %d (%s)\n", len(r.Faults), countString(r.FaultsByKind))
	fmt.Fprintf(&b, "reads: %d key-level, %d stale (%d beyond the calm bound, excused by faults); staleness all %v; stale only %v; outside faults %v; during faults %v\n",
		r.Reads.Elements, r.Reads.Stale, r.Reads.Excused, r.Reads.All, r.Reads.StaleOnly, r.Reads.OutsideFaults, r.Reads.DuringFaults)
	fmt.Fprintf(&b, "lost writes: %d of %d acknowledged (%d unknown); linearizable (single writer %s): %s over %d ops in %v; with Search: %s\n",
		r.Lost.Lost, r.Lost.Acked, r.Lost.Unknown, r.Linear.Proc, r.Linear.Result, r.Linear.Operations, r.Linear.Took.Round(time.Millisecond), r.LinearWithSearch.Result)
	fmt.Fprintf(&b, "after the workload, %d Sets while a's link to PostgreSQL was blackholed: %d failed, %d applied afterwards\n",
		r.Ambiguous.Sent, r.Ambiguous.Failed, r.Ambiguous.Applied)
	fmt.Fprintf(&b, "converged: %v after %v (bound %v, %d polls, the last taking %v; %d mismatches at the first)\n",
		r.Converge.Converged, r.Converge.Took.Round(time.Millisecond), r.Converge.Settle, r.Converge.Polls,
		r.Converge.LastPoll.Round(time.Millisecond), len(r.Converge.FirstMismatches))
	for _, m := range first(r.Converge.FirstMismatches, 5) {
		fmt.Fprintf(&b, "  at the first poll: %s\n", m)
	}
	fmt.Fprintf(&b, "failures: %d", len(r.Failures))
	return b.String()
}

func countString(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// WriteJSON writes v, indented, to path.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

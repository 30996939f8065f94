package benchkit

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Table is a terminal table with aligned columns.
type Table struct {
	header []string
	right  []bool
	rows   [][]string // a nil row is a separator
}

// NewTable starts a table with the given column headers. A header that
// starts with '>' (which is not printed) marks a right-aligned column, for
// numbers.
func NewTable(header ...string) *Table {
	t := &Table{}
	for _, h := range header {
		r := strings.HasPrefix(h, ">")
		t.header = append(t.header, strings.TrimPrefix(h, ">"))
		t.right = append(t.right, r)
	}
	return t
}

// Row appends a row; missing cells are empty, extra cells are dropped.
func (t *Table) Row(cells ...string) {
	row := make([]string, len(t.header))
	copy(row, cells)
	t.rows = append(t.rows, row)
}

// Separator appends a horizontal rule.
func (t *Table) Separator() { t.rows = append(t.rows, nil) }

// Render writes the table to w, two spaces between columns.
func (t *Table) Render(w io.Writer) error {
	widths := make([]int, len(t.header))
	for i, h := range t.header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	total := 0
	for _, wd := range widths {
		total += wd
	}
	total += 2 * max(len(widths)-1, 0)
	rule := strings.Repeat("─", total)
	var b strings.Builder
	line := func(cells []string) {
		for i, c := range cells {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			if t.right[i] {
				b.WriteString(pad + c)
			} else if i < len(cells)-1 {
				b.WriteString(c + pad)
			} else {
				b.WriteString(c) // no trailing spaces
			}
		}
		b.WriteString("\n")
	}
	line(t.header)
	b.WriteString(rule + "\n")
	for _, r := range t.rows {
		if r == nil {
			b.WriteString(rule + "\n")
			continue
		}
		line(r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// FormatNs renders a duration given in nanoseconds with three significant
// digits and a unit: "41.2ns", "3.08µs", "1.25ms", "2.10s".
func FormatNs(ns float64) string {
	switch {
	case ns < 0:
		return "-" + FormatNs(-ns)
	case ns < 1e3:
		return sig3(ns) + "ns"
	case ns < 1e6:
		return sig3(ns/1e3) + "µs"
	case ns < 1e9:
		return sig3(ns/1e6) + "ms"
	default:
		return sig3(ns/1e9) + "s"
	}
}

func sig3(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// FormatCount renders a rate or count compactly: "812", "12.4k", "3.10M".
func FormatCount(v float64) string {
	switch {
	case v >= 1e6:
		return sig3(v/1e6) + "M"
	case v >= 1e3:
		return sig3(v/1e3) + "k"
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// ResultsTable lays results out one row each, with a rule between
// workloads.
func ResultsTable(results []Result) *Table {
	t := NewTable("workload", "subject", ">ns/op", ">allocs/op", ">ops/s", "vs", ">ratio", "extra")
	prev := ""
	for i, r := range results {
		if i > 0 && r.Workload != prev {
			t.Separator()
		}
		prev = r.Workload
		vs, ratio := r.Baseline, ""
		switch {
		case r.Baseline == r.Subject:
			vs = "(baseline)"
		case r.HitPct != nil:
			// the ratio of a hit-ratio row is of replay time: not shown
		case r.Ratio > 0:
			ratio = fmt.Sprintf("%.2f×", r.Ratio)
		}
		var extra []string
		if r.HitPct != nil {
			extra = append(extra, fmt.Sprintf("hit %.2f%%", *r.HitPct))
		}
		if r.L3Queries != nil {
			extra = append(extra, fmt.Sprintf("%.0f L3 queries", *r.L3Queries))
		}
		if r.P50Ns != nil && r.P99Ns != nil {
			extra = append(extra, fmt.Sprintf("p50 %s p99 %s", FormatNs(*r.P50Ns), FormatNs(*r.P99Ns)))
		}
		if r.RedisBytes != nil {
			extra = append(extra, fmt.Sprintf("%.0f B in Redis", *r.RedisBytes))
		}
		if r.Note != "" {
			extra = append(extra, r.Note)
		}
		t.Row(r.Workload, r.Subject, FormatNs(r.NsPerOp), fmt.Sprintf("%.1f", r.AllocsPerOp),
			FormatCount(r.OpsPerSec), vs, ratio, strings.Join(extra, "; "))
	}
	return t
}

// SummaryTable has one row per comparison (our subject against one
// baseline) with both medians side by side: the short form of the report.
func SummaryTable(results []Result) *Table {
	own := map[[2]string]Result{}
	for _, r := range results {
		if r.Baseline == r.Subject {
			own[[2]string{r.Workload, r.Subject}] = r
		}
	}
	t := NewTable("workload", "strata", ">ns/op", "baseline", ">ns/op", ">ratio", "extra")
	prev := ""
	for _, r := range results {
		if r.Baseline == "" || r.Baseline == r.Subject {
			continue
		}
		if prev != "" && r.Workload != prev {
			t.Separator()
		}
		prev = r.Workload
		b := own[[2]string{r.Workload, r.Baseline}]
		ratio, extra := fmt.Sprintf("%.2f×", r.Ratio), ""
		switch {
		case r.HitPct != nil && b.HitPct != nil:
			ratio, extra = "", fmt.Sprintf("hit %.2f%% vs %.2f%%", *r.HitPct, *b.HitPct)
		case r.L3Queries != nil && b.L3Queries != nil:
			extra = fmt.Sprintf("L3 queries %.0f vs %.0f", *r.L3Queries, *b.L3Queries)
			if r.P99Ns != nil && b.P99Ns != nil {
				extra += fmt.Sprintf("; p99 %s vs %s", FormatNs(*r.P99Ns), FormatNs(*b.P99Ns))
			}
		case r.RedisBytes != nil && b.RedisBytes != nil:
			extra = fmt.Sprintf("Redis bytes %.0f vs %.0f", *r.RedisBytes, *b.RedisBytes)
		case r.Note != "":
			extra = r.Note
		}
		t.Row(r.Workload, r.Subject, FormatNs(r.NsPerOp), r.Baseline, FormatNs(b.NsPerOp), ratio, extra)
	}
	return t
}

package benchkit_test

import (
	"strings"
	"testing"

	"github.com/AndrewDonelson/strata/tools/benchkit"
)

func TestTableAligns(t *testing.T) {
	t.Parallel()
	tb := benchkit.NewTable("name", ">n")
	tb.Row("a", "1")
	tb.Separator()
	tb.Row("long name", "1234")
	var b strings.Builder
	if err := tb.Render(&b); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"name          n\n" +
		"───────────────\n" +
		"a             1\n" +
		"───────────────\n" +
		"long name  1234\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{benchkit.FormatNs(41.23), "41.2ns"},
		{benchkit.FormatNs(3081), "3.08µs"},
		{benchkit.FormatNs(1_250_000), "1.25ms"},
		{benchkit.FormatNs(2.1e9), "2.10s"},
		{benchkit.FormatNs(512), "512ns"},
		{benchkit.FormatCount(812), "812"},
		{benchkit.FormatCount(12_400), "12.4k"},
		{benchkit.FormatCount(3_100_000), "3.10M"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestResultsTable(t *testing.T) {
	t.Parallel()
	rows := benchkit.Compare("l1-get", []benchkit.Measured{
		{Subject: "l1mem", Ours: true, NsPerOp: 20},
		{Subject: "otter", NsPerOp: 40},
	})
	var b strings.Builder
	if err := benchkit.ResultsTable(rows).Render(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"l1mem", "0.50×", "(baseline)", "20.0ns", "50.0M"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestSummaryTable(t *testing.T) {
	t.Parallel()
	rows := benchkit.Compare("get", []benchkit.Measured{
		{Subject: "strata", Ours: true, NsPerOp: 30},
		{Subject: "raw", NsPerOp: 20},
	})
	rows = append(rows, benchkit.Compare("stampede", []benchkit.Measured{
		{Subject: "strata", Ours: true, NsPerOp: 10, L3Queries: benchkit.Float(1)},
		{Subject: "aside", NsPerOp: 20, L3Queries: benchkit.Float(64)},
	})...)
	var b strings.Builder
	if err := benchkit.SummaryTable(rows).Render(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"1.50×", "30.0ns", "20.0ns", "L3 queries 1 vs 64"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "\n") != 5 { // header, rule, row, separator, row
		t.Errorf("summary has %d lines, want 5:\n%s", strings.Count(out, "\n"), out)
	}
}

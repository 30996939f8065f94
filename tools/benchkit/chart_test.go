package benchkit_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/AndrewDonelson/strata/tools/benchkit"
)

func TestChartRows(t *testing.T) {
	t.Parallel()
	rows := benchkit.Compare("get", []benchkit.Measured{
		{Subject: "strata", Ours: true, NsPerOp: 10},
		{Subject: "peer", NsPerOp: 20},
	})
	rows = append(rows, benchkit.Compare("stampede", []benchkit.Measured{
		{Subject: "strata", Ours: true, NsPerOp: 10, L3Queries: benchkit.Float(1)},
		{Subject: "peer", NsPerOp: 20, L3Queries: benchkit.Float(9)},
	})...)
	got := benchkit.ChartRows(rows)
	if len(got) != 1 || got[0].Workload != "get" || got[0].Baseline != "peer" {
		t.Fatalf("chart rows = %+v, want only strata vs peer in get", got)
	}
}

func TestWriteChartPNG(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ratios.png")
	rows := benchkit.Compare("get", []benchkit.Measured{
		{Subject: "strata", Ours: true, NsPerOp: 10},
		{Subject: "peer a", NsPerOp: 20},
		{Subject: "peer b", NsPerOp: 5},
	})
	if err := benchkit.WriteChart(path, "test", rows); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("%s is not a PNG", path)
	}
	if err := benchkit.WriteChart(filepath.Join(t.TempDir(), "x.png"), "none", nil); err == nil {
		t.Error("a chart without ratios did not fail")
	}
	if got := benchkit.ChartPath("out/bench.json"); got != "out/bench.png" {
		t.Errorf("ChartPath = %q", got)
	}
}

package benchkit_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/AndrewDonelson/strata/tools/benchkit"
)

func TestCompare(t *testing.T) {
	t.Parallel()
	rows := benchkit.Compare("get-l2", []benchkit.Measured{
		{Subject: "raw go-redis", NsPerOp: 200, AllocsPerOp: 4},
		{Subject: "strata", Ours: true, NsPerOp: 100, AllocsPerOp: 2},
		{Subject: "raw pgx", NsPerOp: 400},
	})
	type row struct {
		subject, baseline string
		ratio             float64
	}
	var got []row
	for _, r := range rows {
		if r.Workload != "get-l2" {
			t.Errorf("workload = %q", r.Workload)
		}
		got = append(got, row{r.Subject, r.Baseline, r.Ratio})
	}
	want := []row{
		{"strata", "raw go-redis", 0.5},
		{"strata", "raw pgx", 0.25},
		{"raw go-redis", "raw go-redis", 1},
		{"raw pgx", "raw pgx", 1},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("rows = %v, want %v", got, want)
	}
	if rows[0].OpsPerSec != 1e7 {
		t.Errorf("ops/s of 100ns/op = %v, want 1e7", rows[0].OpsPerSec)
	}
}

func TestCompareWithoutBaselines(t *testing.T) {
	t.Parallel()
	rows := benchkit.Compare("setmany", []benchkit.Measured{{Subject: "strata", Ours: true, NsPerOp: 10}})
	if len(rows) != 1 || rows[0].Baseline != "" || rows[0].Ratio != 0 {
		t.Fatalf("rows = %+v, want one row without baseline or ratio", rows)
	}
}

// TestWriteJSONShape pins the file format: an array of objects with exactly
// the documented keys (plus the optional ones when set).
func TestWriteJSONShape(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "out.json")
	results := benchkit.Compare("stampede", []benchkit.Measured{
		{Subject: "strata", Ours: true, NsPerOp: 1000, L3Queries: benchkit.Float(1)},
		{Subject: "cache-aside", NsPerOp: 2000, L3Queries: benchkit.Float(64), Note: "no single-flight"},
	})
	if err := benchkit.WriteJSON(path, results); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var decoded []map[string]any
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatalf("not a JSON array of objects: %v\n%s", err, data)
	}
	if len(decoded) != 2 {
		t.Fatalf("got %d objects, want 2", len(decoded))
	}
	required := []string{"workload", "subject", "baseline", "ns_per_op", "allocs_per_op", "ops_per_sec", "ratio"}
	for i, obj := range decoded {
		for _, k := range required {
			if _, ok := obj[k]; !ok {
				t.Errorf("object %d lacks %q: %v", i, k, obj)
			}
		}
		for k := range obj {
			if !slices.Contains(required, k) && k != "l3_queries" && k != "note" && k != "hit_pct" {
				t.Errorf("object %d has unexpected key %q", i, k)
			}
		}
	}
	if decoded[0]["ratio"].(float64) != 0.5 || decoded[0]["l3_queries"].(float64) != 1 {
		t.Errorf("first object = %v", decoded[0])
	}
	if _, ok := decoded[0]["hit_pct"]; ok {
		t.Errorf("unset hit_pct was written: %v", decoded[0])
	}
}

func TestWriteJSONEmpty(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "out.json")
	if err := benchkit.WriteJSON(path, nil); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if string(data) != "[]\n" {
		t.Errorf("empty results wrote %q, want []", data)
	}
}

package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/testkit"

	"github.com/AndrewDonelson/strata/tools/benchkit"
)

// TestSmallRunAgainstTheStack runs the tier and stampede workloads with a
// tiny plan and checks the files it writes. It needs the servers (see
// needServers) and never runs in the unit phase of make test.
func TestSmallRunAgainstTheStack(t *testing.T) {
	testkit.PostgresDSN(t)
	testkit.RedisAddr(t)
	cfg := newConfig(true)
	cfg.rows, cfg.setManyRows, cfg.writeBehindN, cfg.stampedeN, cfg.stampedeRounds = 200, 500, 500, 16, 2
	cfg.fleetN, cfg.fleetM, cfg.codecRecords = 3, 4, 5
	small := benchkit.Plan{Rounds: 2, RoundTime: 10 * time.Millisecond, MaxOps: 50}
	cfg.net, cfg.batch = small, benchkit.Plan{Rounds: 2, RoundTime: 10 * time.Millisecond, MaxOps: 1}
	cfg.only = "tiers/,peers/,stampede/,codec/,journal/" // everything but l1 and refresh/ (its rounds span seconds of TTLs)
	dir := t.TempDir()
	jsonPath, chartPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, cfg, jsonPath, chartPath); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rows []benchkit.Result
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	bytes := map[string]float64{} // largest compressed and the plain value per codec workload
	for _, r := range rows {
		seen[r.Workload] = true
		if r.NsPerOp <= 0 {
			t.Errorf("%s %s: ns/op %v", r.Workload, r.Subject, r.NsPerOp)
		}
		if r.Workload == "stampede/16-gets-cold-key" && r.Subject == "strata GetTyped" && (r.L3Queries == nil || *r.L3Queries != 1) {
			t.Errorf("a stampede on Strata made %v PostgreSQL queries, want 1", r.L3Queries)
		}
		if r.Workload == "stampede/fleet-3x4-cold-key" && (r.L3Queries == nil || r.P50Ns == nil || r.P99Ns == nil || *r.P99Ns < *r.P50Ns) {
			t.Errorf("fleet stampede row %s: queries %v, p50 %v, p99 %v", r.Subject, r.L3Queries, r.P50Ns, r.P99Ns)
		}
		if strings.HasPrefix(r.Workload, "codec/") {
			if r.RedisBytes == nil {
				t.Errorf("%s %s: no Redis bytes", r.Workload, r.Subject)
			} else if strings.Contains(r.Subject, "+") {
				bytes[r.Workload+" compressed"] = max(bytes[r.Workload+" compressed"], *r.RedisBytes)
			} else {
				bytes[r.Workload+" plain"] = *r.RedisBytes
			}
		}
	}
	for _, w := range []string{"tiers/get-l1-hit", "tiers/get-l2-hit", "tiers/get-l3", "tiers/set-writethrough", "tiers/setmany-500", "tiers/writebehind", "peers/read-through-zipf", "stampede/16-gets-cold-key",
		"stampede/fleet-3x4-cold-key", "codec/l2-hit-1KB", "codec/l2-hit-10KB", "codec/l2-hit-100KB"} {
		if !seen[w] {
			t.Errorf("no rows for %s (have %v)", w, seen)
		}
	}
	for _, size := range []string{"1KB", "10KB", "100KB"} {
		w := "codec/l2-hit-" + size
		if c, p := bytes[w+" compressed"], bytes[w+" plain"]; c <= 0 || c >= p {
			t.Errorf("%s: compressed records take %v bytes in Redis, plain ones %v; want fewer", w, c, p)
		}
	}
	if st, err := os.Stat(chartPath); err != nil || st.Size() == 0 {
		t.Errorf("chart: %v", err)
	}
}

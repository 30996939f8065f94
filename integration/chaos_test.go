package integration_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/integration/chaos"
)

// chaosSeed is the short form's seed; CHAOS_SEED replays another (and
// CHAOS_FAULTS restricts the fault kinds).
func chaosSeed(t *testing.T) uint64 {
	if s := os.Getenv(chaos.EnvSeed); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", chaos.EnvSeed, s, err)
		}
		return n
	}
	return 1
}

// faultKinds reads CHAOS_FAULTS.
func faultKinds(t *testing.T) []string {
	kinds, err := chaos.FaultKindsFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	return kinds
}

// TestChaosShort is the fault suite's short form, part of `make test` (10 s
// of workload per mode, about 40 s in all): four
// instances (one a child process that is SIGKILLed and restarted) under a
// seeded workload with faults, once without and once with the change feed,
// every read checked against the bounds, no acknowledged write lost,
// convergence within the settle bound, and the single-writer instance's
// history linearizable.
func TestChaosShort(t *testing.T) {
	chaos.SkipUnlessServersWanted(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv := chaos.StartServersFor(t, ctx)
	seed := chaosSeed(t)
	for _, feed := range []bool{false, true} {
		t.Run(fmt.Sprintf("feed=%v", feed), func(t *testing.T) {
			dir := t.TempDir()
			cfg := chaos.DefaultConfig(seed, feed, 10*time.Second, srv, dir)
			if feed { // a second fault schedule: the short form sees more kinds
				cfg.FaultSeed = seed + 1
			}
			cfg.FaultKinds = faultKinds(t)
			cfg.Log = t.Logf
			rep, err := chaos.Run(ctx, cfg)
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			t.Log(rep.Summary())
			for _, f := range rep.Failures {
				t.Errorf("seed %d feed=%v: %s", seed, feed, f)
			}
			if t.Failed() {
				keepLogs(t, dir)
			}
		})
	}
}

// keepLogs copies a failed run's logs where they survive the test.
func keepLogs(t *testing.T, dir string) {
	keep, err := os.MkdirTemp("", "strata-chaos-failed-")
	if err != nil {
		return
	}
	if err := os.CopyFS(keep, os.DirFS(dir)); err == nil {
		t.Logf("logs kept in %s", keep)
	}
}

// TestChaosLong is `make chaos`: CHAOS_DURATION (default 10m) of workload
// with faults, split evenly over CHAOS_SEEDS (default 1,2,3) × the change
// feed off and on, on servers the suite starts itself. It writes
// CHAOS_OUT/report.json and a staleness chart per run, and fails like the
// short form.
func TestChaosLong(t *testing.T) {
	total, err := time.ParseDuration(os.Getenv(chaos.EnvDuration))
	if os.Getenv(chaos.EnvDuration) == "" {
		t.Skip("the long form runs under `make chaos` (CHAOS_DURATION set)")
	}
	if err != nil {
		t.Fatalf("%s: %v", chaos.EnvDuration, err)
	}
	seeds, err := chaos.ParseSeeds(os.Getenv(chaos.EnvSeeds))
	if err != nil {
		t.Fatal(err)
	}
	out := os.Getenv(chaos.EnvOut)
	if out == "" {
		out = t.TempDir()
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	per := total / time.Duration(2*len(seeds))
	ctx, cancel := context.WithTimeout(context.Background(), total*3+10*time.Minute)
	defer cancel()
	srv := chaos.StartServersFor(t, ctx)
	long := chaos.NewLongReport(total, seeds)
	for _, seed := range seeds {
		for _, feed := range []bool{false, true} {
			name := fmt.Sprintf("seed=%d/feed=%v", seed, feed)
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				cfg := chaos.DefaultConfig(seed, feed, per, srv, dir)
				cfg.FaultKinds = faultKinds(t)
				rep, err := chaos.Run(ctx, cfg)
				if err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
				t.Log(rep.Summary())
				long.Add(rep)
				if err := chaos.WriteChart(filepath.Join(out, fmt.Sprintf("staleness-seed%d-feed-%v.png", seed, feed)), rep); err != nil {
					t.Error(err)
				}
				for _, f := range rep.Failures {
					t.Errorf("seed %d feed=%v: %s", seed, feed, f)
				}
				if t.Failed() {
					keepLogs(t, dir)
				}
			})
		}
	}
	long.Finish()
	if err := chaos.WriteJSON(filepath.Join(out, "report.json"), long); err != nil {
		t.Fatal(err)
	}
	t.Logf("report: %s\n%s", filepath.Join(out, "report.json"), long.Summary())
}

package integration_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/integration/chaos"
)

// chaosSeed is the short form's seed; CHAOS_SEED replays another.
func chaosSeed(t *testing.T) uint64 {
	if s := os.Getenv("CHAOS_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CHAOS_SEED=%q: %v", s, err)
		}
		return n
	}
	return 1
}

// startServers starts the PostgreSQL and Redis the suite owns.
func startServers(t *testing.T, ctx context.Context) (*chaos.Postgres, *chaos.Redis) {
	t.Helper()
	type pgRes struct {
		pg  *chaos.Postgres
		err error
	}
	ch := make(chan pgRes, 1)
	go func() { pg, err := chaos.StartPostgres(ctx); ch <- pgRes{pg, err} }()
	rd, rerr := chaos.StartRedis(ctx)
	res := <-ch
	if res.pg != nil {
		t.Cleanup(res.pg.Cleanup)
	}
	if rd != nil {
		t.Cleanup(rd.Cleanup)
	}
	for _, err := range []error{res.err, rerr} {
		if errors.Is(err, chaos.ErrNoServerBinaries) {
			chaos.SkipOrFail(t, err)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return res.pg, rd
}

// TestChaosShort is the fault suite's short form, part of `make test`: four
// instances (one a child process that is SIGKILLed and restarted) under a
// seeded workload with faults, once without and once with the change feed,
// every read checked against the bounds, no acknowledged write lost,
// convergence within the settle bound, and the single-writer instance's
// history linearizable.
func TestChaosShort(t *testing.T) {
	chaos.SkipUnlessServersWanted(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pg, rd := startServers(t, ctx)
	seed := chaosSeed(t)
	for _, feed := range []bool{false, true} {
		t.Run(fmt.Sprintf("feed=%v", feed), func(t *testing.T) {
			dir := t.TempDir()
			cfg := chaos.DefaultConfig(seed, feed, 12*time.Second, pg, rd, dir)
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

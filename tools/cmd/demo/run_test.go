package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/testkit"
)

// needServers skips unless the stack's variables are set (a failure under
// STRATA_REQUIRE_SERVERS=1). It reads the environment only, never
// .devstack/env, so that the unit phase of make test stays server-free.
func needServers(t *testing.T) {
	t.Helper()
	testkit.PostgresDSN(t)
	testkit.RedisAddr(t)
}

// TestDemoEndToEnd runs the whole demo on a small data set.
func TestDemoEndToEnd(t *testing.T) {
	needServers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out strings.Builder
	if err := run(ctx, &out, options{records: 300, duration: 100 * time.Millisecond}); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"1. Register a schema and migrate", "via 1 SetMany calls", "L1 memory", "L3 PostgreSQL",
		"player1@example.com", "the change feed", "streams the slot", "SearchCached", "FlushDirty",
		"strata.get", "tier=l1 hit=true", "error.type=not_found", `strata_search_cache_hits_total{schema=`, "Cleaned up",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
}

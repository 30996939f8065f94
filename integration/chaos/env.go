package chaos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/AndrewDonelson/strata/testkit"
	"github.com/AndrewDonelson/strata/testkit/rediskit"
)

// The suite starts servers of its own, so it does not need the devstack's
// variables; it runs where servers are wanted — in `make test`'s
// integration phase (STRATA_REQUIRE_SERVERS=1), with a stack up
// (STRATA_POSTGRES_DSN set, so the binaries are installed), or under
// `make chaos` (CHAOS_DURATION set) — and skips in the unit phase, which
// must need nothing but Go.
const (
	EnvDuration = "CHAOS_DURATION"
	EnvSeeds    = "CHAOS_SEEDS"
	EnvOut      = "CHAOS_OUT"
	// EnvFaults restricts the fault kinds, e.g. CHAOS_FAULTS=redis-blackhole,pg-pause
	// (see FaultKinds), to replay or study one kind of failure.
	EnvFaults = "CHAOS_FAULTS"
	// EnvSeed replays the short form with another seed.
	EnvSeed = "CHAOS_SEED"
)

// FaultKindsFromEnv returns the kinds CHAOS_FAULTS names (nil: all), or an
// error naming one it does not know.
func FaultKindsFromEnv() ([]string, error) {
	v := strings.TrimSpace(os.Getenv(EnvFaults))
	if v == "" {
		return nil, nil
	}
	var out []string
	for _, k := range strings.Split(v, ",") {
		k = strings.TrimSpace(k)
		if !contains(FaultKinds(), k) {
			return nil, fmt.Errorf("chaos: %s names %q; the kinds are %s", EnvFaults, k, strings.Join(FaultKinds(), ", "))
		}
		out = append(out, k)
	}
	return out, nil
}

// SkipUnlessServersWanted skips t in a run that wants no servers.
func SkipUnlessServersWanted(t testing.TB) {
	t.Helper()
	if testkit.Required() || os.Getenv(testkit.EnvPostgresDSN) != "" || os.Getenv(EnvDuration) != "" {
		return
	}
	t.Skip("the fault suite starts its own PostgreSQL and Redis: it runs in `make test`'s integration phase, " +
		"with " + testkit.EnvRequireServers + "=1, or under `make chaos`")
}

// StartServersFor starts the servers for t (see StartServers), stopped
// when t ends. A server program that is not installed skips t, or fails it
// under STRATA_REQUIRE_SERVERS=1, as every server test of the kit does.
func StartServersFor(t testing.TB, ctx context.Context) *Servers {
	t.Helper()
	s, err := StartServers(ctx)
	if errors.Is(err, testkit.ErrNoPostgresBinaries) || errors.Is(err, rediskit.ErrNoRedisServer) {
		testkit.Unavailable(t, err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

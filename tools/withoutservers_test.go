package tools_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestMakeTestRunsEveryModulesTestsWithoutServers: make test runs each
// module's tests with no server somewhere — the unit phase (test-unit-local)
// runs the modules without server tests, and the integration phase runs the
// server modules' test binaries through .ci/without-servers-first, which
// runs each one with the servers' variables removed before running it with
// them. Every module of go.work is in exactly one of the two phases, and
// every go test builds with -race and -trimpath.
func TestMakeTestRunsEveryModulesTestsWithoutServers(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	// -n prints the recipes; neither target's recipe runs make itself
	// (without COVER), so nothing is executed.
	out := makeDryRun(t, root, []string{"COVER="}, "test-unit-local", "test-integration")
	var unit, integration []string
	for line := range strings.Lines(out) {
		if !strings.Contains(line, "go test ") {
			continue
		}
		if !strings.Contains(line, " -race ") {
			t.Errorf("a go test without -race: %s", line)
		}
		if !strings.Contains(line, " -trimpath ") {
			t.Errorf("a go test without -trimpath (a fresh clone would compile every package of Strata again): %s", line)
		}
		mods := modulePatterns(line)
		switch {
		case strings.Contains(line, "env -u STRATA_POSTGRES_DSN -u STRATA_REDIS_ADDR -u STRATA_REQUIRE_SERVERS go test"):
			unit = append(unit, mods...)
		case strings.Contains(line, "STRATA_REQUIRE_SERVERS=1 go test") &&
			strings.Contains(line, " -exec "+filepath.Join(root, ".ci", "without-servers-first")+" "):
			integration = append(integration, mods...)
		default:
			t.Errorf("a go test that is neither the unit phase's (no server variables) nor the integration phase's (-exec .ci/without-servers-first): %s", line)
		}
	}
	for _, m := range workModules(t, root) {
		inUnit, inIntegration := slices.Contains(unit, m), slices.Contains(integration, m)
		if inUnit == inIntegration {
			t.Errorf("module %s: in the unit phase %v, in the integration phase %v; want exactly one", m, inUnit, inIntegration)
		}
	}
}

// TestWithoutServersFirstRunsTheBinaryWithNoServerThenAsAsked drives
// .ci/without-servers-first with a stand-in test binary that logs the
// server variables it sees and fails when told to.
func TestWithoutServersFirstRunsTheBinaryWithNoServerThenAsAsked(t *testing.T) {
	t.Parallel()
	script := filepath.Join(repoRoot(t), ".ci", "without-servers-first")
	tests := []struct {
		name      string
		failWhen  string // "no-servers", "servers" or ""
		wantExit  int
		wantRuns  []string
		wantInOut string
	}{
		{"passes both", "", 0, []string{"[] [] [] -test.count=1", "[dsn] [addr] [1] -test.count=1"}, ""},
		{"fails without servers", "no-servers", 1, []string{"[] [] [] -test.count=1"}, "FAIL without servers"},
		{"fails with servers", "servers", 3, []string{"[] [] [] -test.count=1", "[dsn] [addr] [1] -test.count=1"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			log := filepath.Join(dir, "runs")
			bin := filepath.Join(dir, "pkg.test")
			stub := `#!/bin/sh
echo "[${STRATA_POSTGRES_DSN-}] [${STRATA_REDIS_ADDR-}] [${STRATA_REQUIRE_SERVERS-}] $*" >>"` + log + `"
if [ -z "${STRATA_REDIS_ADDR-}" ] && [ "$FAIL_WHEN" = no-servers ]; then exit 3; fi
if [ -n "${STRATA_REDIS_ADDR-}" ] && [ "$FAIL_WHEN" = servers ]; then exit 3; fi
`
			if err := os.WriteFile(bin, []byte(stub), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(script, bin, "-test.count=1")
			cmd.Env = append(os.Environ(), "STRATA_POSTGRES_DSN=dsn", "STRATA_REDIS_ADDR=addr", "STRATA_REQUIRE_SERVERS=1", "FAIL_WHEN="+tt.failWhen)
			out, err := cmd.CombinedOutput()
			exit := 0
			if ee, ok := err.(*exec.ExitError); ok {
				exit = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if exit != tt.wantExit {
				t.Errorf("exit status %d, want %d; output:\n%s", exit, tt.wantExit, out)
			}
			if !strings.Contains(string(out), tt.wantInOut) {
				t.Errorf("output %q does not say %q", out, tt.wantInOut)
			}
			data, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			if runs := strings.Split(strings.TrimSpace(string(data)), "\n"); !slices.Equal(runs, tt.wantRuns) {
				t.Errorf("the binary ran as %q, want %q", runs, tt.wantRuns)
			}
		})
	}
}

// repoRoot is the repository's root, this module's parent; it skips t when
// the module is not inside the repository (no ../go.work).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.work")); err != nil {
		t.Skip("not in the repository (no ../go.work)")
	}
	return root
}

// workModules lists the module directories of root's go.work ("codec",
// "strata/otel", ...).
func workModules(t *testing.T, root string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "go.work"))
	if err != nil {
		t.Fatal(err)
	}
	var mods []string
	for line := range strings.Lines(string(data)) {
		if f := strings.TrimSpace(line); strings.HasPrefix(f, "./") {
			mods = append(mods, strings.TrimPrefix(f, "./"))
		}
	}
	if len(mods) == 0 {
		t.Fatal("go.work lists no module")
	}
	return mods
}

// modulePatterns returns the modules of a go test line's ./<module>/...
// patterns.
func modulePatterns(line string) []string {
	var mods []string
	for _, f := range strings.Fields(line) {
		if strings.HasPrefix(f, "./") && strings.HasSuffix(f, "/...") {
			mods = append(mods, strings.TrimSuffix(strings.TrimPrefix(f, "./"), "/..."))
		}
	}
	return mods
}

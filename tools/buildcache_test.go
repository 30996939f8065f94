package tools_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestHelpersAndInstallCheckBuildWithTheTestsFlags: the helper commands
// make runs (devstack, modset), install-check and the GOWORK=off check
// build with -race -trimpath, the flags of make test's go test commands,
// so that they take the standard library and the third-party packages from
// the build cache instead of compiling them once more without -race.
func TestHelpersAndInstallCheckBuildWithTheTestsFlags(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	out := makeDryRun(t, root, nil, "gowork-off/codec", "install-check", "stack-status")
	for _, want := range []string{
		"GOWORK=off go build -race -trimpath ",
		"go run -race -trimpath ./tools/cmd/modset install-check -race",
		"go run -race -trimpath ./tools/cmd/devstack ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("make -n does not run %q: a build without the tests' flags -race -trimpath compiles the standard library and its dependencies once more:\n%s", want, out)
		}
	}
	src, err := os.ReadFile(filepath.Join(root, "tools", "cmd", "modset", "installcheck.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), `"GOFLAGS=-mod=mod -trimpath"`) || !strings.Contains(string(src), `goFlags += " -race"`) {
		t.Error("install-check no longer builds with GOFLAGS=-mod=mod -trimpath [-race]: it shares nothing with the GOWORK=off phase's build any more")
	}
}

// TestEveryModuleAloneSelectsTheWorkspacesVersions: each module built alone
// (GOWORK=off, as make test's GOWORK=off phase and a user's build do) uses
// the same version of every third-party module its packages and tests
// import as the workspace does. Otherwise pgx, say, is compiled once
// against golang.org/x/text v0.41.0 and once against v0.43.0, and so is
// everything above it. Fix a failure by raising the module's requirement
// (GOWORK=off go get path@version in the module, then go mod tidy).
func TestEveryModuleAloneSelectsTheWorkspacesVersions(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	mods := workModules(t, root)
	var patterns []string
	for _, m := range mods {
		patterns = append(patterns, "./"+m+"/...")
	}
	workspace := moduleVersions(t, root, nil, patterns...)
	for _, m := range mods {
		t.Run(strings.ReplaceAll(m, "/", "_"), func(t *testing.T) {
			t.Parallel()
			alone := moduleVersions(t, filepath.Join(root, m), []string{"GOWORK=off"}, "./...")
			want := map[string]string{}
			for path := range alone {
				want[path] = workspace[path]
			}
			if diff := cmp.Diff(want, alone); diff != "" {
				t.Errorf("module %s alone selects other versions than the workspace (-workspace +alone):\n%s", m, diff)
			}
		})
	}
}

// moduleVersions runs go list -deps -test on patterns in dir and returns
// the version of each third-party module that provides one of the
// packages (Strata's own modules, replaced by directories, are left out).
func moduleVersions(t *testing.T, dir string, env []string, patterns ...string) map[string]string {
	t.Helper()
	args := append([]string{"list", "-deps", "-test", "-f", "{{with .Module}}{{.Path}} {{.Version}}{{end}}"}, patterns...)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, stderrOf(err))
	}
	versions := map[string]string{}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) != 2 || strings.HasPrefix(f[0], "github.com/AndrewDonelson/strata") {
			continue
		}
		versions[f[0]] = f[1]
	}
	return versions
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// TestDevstackNeedsNoGoRedis: make test builds devstack (go run) before
// the integration phase's go test starts. Were go-redis among its
// dependencies, a cold make test would compile that package alone (35 s
// of wall on 2 cores, one core mostly idle) before anything else, instead
// of beside the rest of the build.
func TestDevstackNeedsNoGoRedis(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	for path := range moduleVersions(t, root, nil, "./tools/cmd/devstack") {
		if strings.Contains(path, "/go-redis/") {
			t.Errorf("devstack depends on the module %s", path)
		}
	}
}

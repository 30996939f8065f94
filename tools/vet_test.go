package tools_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCIVetsWhatMakeTestDoesNot: make test's go test commands run with
// -vet=off, so CI's vet is make vet, which .ci/run runs after make test;
// make vet covers every module of the workspace and builds with make
// test's flags (-race -trimpath), sharing its compiled packages.
func TestCIVetsWhatMakeTestDoesNot(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	tests := makeDryRun(t, root, []string{"COVER="}, "test-unit-local", "test-arm32", "test-integration")
	for line := range strings.Lines(tests) {
		if strings.Contains(line, "go test ") && !strings.Contains(line, " -vet=off") {
			t.Errorf("a go test of make test vets (without -vet=off), which make vet already does:\n%s", line)
		}
	}

	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^make test\n(.*\n)*time make --no-print-directory vet$`).Match(ci) {
		t.Errorf(".ci/run does not run make vet after make test:\n%s", ci)
	}

	vet := makeDryRun(t, root, nil, "vet")
	if !strings.Contains(vet, "go vet -race -trimpath ") {
		t.Errorf("make vet does not build with make test's -race -trimpath:\n%s", vet)
	}
	for _, m := range workModules(t, root) {
		if !strings.Contains(vet, " ./"+m+"/...") {
			t.Errorf("make vet leaves out module %s:\n%s", m, vet)
		}
	}
}

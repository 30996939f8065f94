package tools_test

import (
	"os"
	"os/exec"
	"testing"
)

// makeDryRun returns the recipes `make -n` prints for targets in the
// repository at root, without running them; it skips the test when there is
// no make command. The caller's MAKEFLAGS and MAKELEVEL are cleared so that
// an enclosing make (make test runs this test) does not change the output.
func makeDryRun(t *testing.T, root string, env []string, targets ...string) string {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make command")
	}
	args := append([]string{"-n", "-C", root, "--no-print-directory"}, targets...)
	cmd := exec.Command("make", args...)
	cmd.Env = append(append(os.Environ(), "MAKEFLAGS=", "MAKELEVEL="), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n: %v\n%s", err, out)
	}
	return string(out)
}

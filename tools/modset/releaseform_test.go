package modset_test

import (
	"strings"
	"testing"

	"github.com/AndrewDonelson/strata/tools/modset"
)

// TestReleaseFormDropsEveryWorkspaceReplace: a command's go.mod may carry a
// replace of a workspace module it does not require (one its
// dependencies' tests need, as the test kit); go install refuses any
// replace, so the release form drops it with the others.
func TestReleaseFormDropsEveryWorkspaceReplace(t *testing.T) {
	files := threeModules("v0.1.0")
	files["go.work"] = "go 1.26\n\nuse (\n\t./lib\n\t./app\n\t./app/cmd/tool\n\t./kit\n)\n"
	files["kit/go.mod"] = "module example.com/r/kit\n\ngo 1.26\n"
	files["kit/kit.go"] = "package kit\n"
	files["app/cmd/tool/go.mod"] = strings.Replace(files["app/cmd/tool/go.mod"],
		"\texample.com/r/lib => ../../../lib\n", "\texample.com/r/lib => ../../../lib\n\texample.com/r/kit => ../../../kit\n", 1)
	root := repo(t, files)
	s, err := modset.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	tool := s.Module("example.com/r/app/cmd/tool")
	served, err := s.WriteProxy(t.TempDir(), "v0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	libs := map[string]modset.Sums{}
	for _, sv := range served {
		libs[sv.Module.Path] = sv.Sums
	}
	goMod, _, err := s.ReleaseForm(tool, "v0.1.0", libs)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(goMod), "replace") {
		t.Errorf("release form keeps a replace:\n%s", goMod)
	}
}

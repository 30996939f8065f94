package tools_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// walkRepoGoFiles calls visit with the path (relative to this module, so
// beginning with "..") and contents of every .go file of the repository,
// leaving out hidden directories and testdata. It skips t when the module
// is not inside the repository (no ../go.work).
func walkRepoGoFiles(t *testing.T, visit func(path string, data []byte)) error {
	t.Helper()
	root := ".."
	if _, err := os.Stat(filepath.Join(root, "go.work")); err != nil {
		t.Skip("not in the repository (no ../go.work)")
	}
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		visit(path, data)
		return nil
	})
}

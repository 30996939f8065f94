package modset_test

import (
	"archive/zip"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/AndrewDonelson/strata/tools/modset"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// TestRepositoryModulesRequireOneReleaseVersionWithReplace checks this
// repository: every intra-repo requirement names the same real version
// (not the zero pseudo-version a consumer cannot resolve) and carries its
// relative replace, and every module is in go.work.
func TestRepositoryModulesRequireOneReleaseVersionWithReplace(t *testing.T) {
	s, err := modset.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	v, err := s.Version()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("module set version %s", v)
	var published []string
	for _, m := range s.Published() {
		published = append(published, m.Dir)
	}
	for _, want := range []string{"codec", "l1mem", "l2redis", "l3postgres", "migrate", "strata"} {
		if !slices.Contains(published, want) {
			t.Errorf("module %s is not published; published: %v", want, published)
		}
	}
}

// repo writes files into a new git repository with one commit and returns
// its root.
func repo(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	write(t, root, files)
	gitRun(t, root, "init", "--quiet", "--initial-branch=main")
	gitRun(t, root, "add", "-A")
	gitRun(t, root, "commit", "--quiet", "-m", "initial")
	return root
}

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.com",
		"GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// A set of three modules: lib (no dependency), app (requires lib) and a
// command, tool, nested under app (requires app and lib).
func threeModules(version string) map[string]string {
	return map[string]string{
		"go.work":    "go 1.26\n\nuse (\n\t./lib\n\t./app\n\t./app/cmd/tool\n)\n",
		"lib/go.mod": "module example.com/r/lib\n\ngo 1.26\n",
		"lib/lib.go": "package lib\n\nfunc Greeting() string { return \"hello\" }\n",
		"app/go.mod": "module example.com/r/app\n\ngo 1.26\n\nrequire example.com/r/lib " + version +
			"\n\nreplace example.com/r/lib => ../lib\n",
		"app/app.go": "package app\n\nimport \"example.com/r/lib\"\n\nfunc Message() string { return lib.Greeting() + \", world\" }\n",
		"app/cmd/tool/go.mod": "module example.com/r/app/cmd/tool\n\ngo 1.26\n\nrequire (\n\texample.com/r/app " + version +
			"\n\texample.com/r/lib " + version + " // indirect\n)\n\nreplace (\n\texample.com/r/app => ../../../app\n\texample.com/r/lib => ../../../lib\n)\n",
		"app/cmd/tool/main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/r/app\"\n)\n\nfunc main() { fmt.Println(app.Message()) }\n",
		".gitignore":           "*.out\n",
	}
}

func TestCheckReportsInconsistencies(t *testing.T) {
	tests := []struct {
		name  string
		edit  map[string]string
		wants []string // substrings of the error
	}{
		{
			name: "consistent",
		},
		{
			name:  "zero pseudo-version",
			edit:  map[string]string{"app/go.mod": "module example.com/r/app\n\ngo 1.26\n\nrequire example.com/r/lib v0.0.0-00010101000000-000000000000\n\nreplace example.com/r/lib => ../lib\n"},
			wants: []string{"app requires example.com/r/lib at v0.0.0-00010101000000-000000000000, not a release version", "2 versions"},
		},
		{
			name:  "missing replace",
			edit:  map[string]string{"app/go.mod": "module example.com/r/app\n\ngo 1.26\n\nrequire example.com/r/lib v0.1.0\n"},
			wants: []string{"app requires example.com/r/lib without `replace example.com/r/lib => ../lib`"},
		},
		{
			name:  "two versions",
			edit:  map[string]string{"app/go.mod": "module example.com/r/app\n\ngo 1.26\n\nrequire example.com/r/lib v0.2.0\n\nreplace example.com/r/lib => ../lib\n"},
			wants: []string{"intra-repo requirements name 2 versions: v0.1.0 (app/cmd/tool → app, app/cmd/tool → lib); v0.2.0 (app → lib)"},
		},
		{
			name:  "module not in go.work",
			edit:  map[string]string{"extra/go.mod": "module example.com/r/extra\n\ngo 1.26\n"},
			wants: []string{"extra/go.mod is not in go.work"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			write(t, root, threeModules("v0.1.0"))
			write(t, root, tt.edit)
			s, err := modset.Load(root)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Check()
			if len(tt.wants) == 0 {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if !errors.Is(err, modset.ErrInconsistent) {
				t.Fatalf("Check = %v, want an error wrapping ErrInconsistent", err)
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Check error\n%v\ndoes not say %q", err, w)
				}
			}
		})
	}
}

func TestCheckNewVersion(t *testing.T) {
	tests := []struct {
		current, next string
		ok            bool
	}{
		{"v0.1.0", "v0.2.0", true},
		{"v0.1.0", "v0.1.1", true},
		{"v0.1.0", "v1.0.0", true},
		{"v0.1.0", "v0.2.0-rc.1", true},
		{"v0.1.0", "v0.1.0", false},   // not above
		{"v0.2.0", "v0.1.9", false},   // below
		{"v0.1.0", "0.2.0", false},    // no v
		{"v0.1.0", "v0.2", false},     // not canonical
		{"v0.1.0", "v2.0.0", false},   // needs /v2 module paths
		{"v0.1.0", "v0.2.0+x", false}, // build metadata is not canonical
		{"v0.1.0", "v0.0.0-20200101000000-abcdefabcdef", false},
	}
	for _, tt := range tests {
		err := modset.CheckNewVersion(tt.current, tt.next)
		if (err == nil) != tt.ok {
			t.Errorf("CheckNewVersion(%s, %s) = %v, want ok=%v", tt.current, tt.next, err, tt.ok)
		}
	}
}

// TestZipHoldsWhatGitKnowsWithoutNestedModules: a module zip from the
// working tree has the module's tracked and new files, not ignored files
// nor the files of a nested module, and the root LICENSE when the module
// has none (as the go command adds it).
func TestZipHoldsWhatGitKnowsWithoutNestedModules(t *testing.T) {
	files := threeModules("v0.1.0")
	files["LICENSE"] = "license text\n"
	root := repo(t, files)
	write(t, root, map[string]string{
		"app/new.go":    "package app\n", // untracked, not ignored: part of the working tree
		"app/cover.out": "ignored\n",     // ignored by .gitignore
	})
	s, err := modset.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	zipName := filepath.Join(t.TempDir(), "app.zip")
	f, err := os.Create(zipName)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteZip(f, s.Module("example.com/r/app"), "v0.1.0", nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	zr, err := zip.OpenReader(zipName)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var got []string
	for _, zf := range zr.File {
		got = append(got, zf.Name)
	}
	slices.Sort(got)
	want := []string{
		"example.com/r/app@v0.1.0/LICENSE",
		"example.com/r/app@v0.1.0/app.go",
		"example.com/r/app@v0.1.0/go.mod",
		"example.com/r/app@v0.1.0/new.go",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("zip entries (-want +got):\n%s", diff)
	}
}

func TestReleaseRefusesDirtyTreeAndOldVersion(t *testing.T) {
	root := repo(t, threeModules("v0.1.0"))
	s, err := modset.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := modset.Release(s, "v0.1.0"); err == nil || !strings.Contains(err.Error(), "not above the current v0.1.0") {
		t.Errorf("Release(v0.1.0) = %v, want a refusal: not above the current version", err)
	}
	write(t, root, map[string]string{"lib/extra.go": "package lib\n"})
	if _, err := modset.Release(s, "v0.2.0"); err == nil || !strings.Contains(err.Error(), "uncommitted changes") {
		t.Errorf("Release on a dirty tree = %v, want a refusal naming the uncommitted changes", err)
	}
	if out := gitRun(t, root, "tag"); out != "" {
		t.Errorf("a refused release left tags: %s", out)
	}
}

// TestReleaseTagsEveryModuleAndTheCommandInstallsFromTheTags releases a
// small module set and then does what a user does once the tags are
// pushed: go install the command at the new version, through a proxy
// that builds each module zip from its git tag (as the public proxy does),
// with GONOSUMDB for the set's path. It proves the tagged go.mod files
// resolve each other and that the command's tagged go.sum holds the right
// hashes.
func TestReleaseTagsEveryModuleAndTheCommandInstallsFromTheTags(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command")
	}
	root := repo(t, threeModules("v0.1.0"))
	s, err := modset.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GIT_AUTHOR_NAME", "test")
	t.Setenv("GIT_AUTHOR_EMAIL", "test@example.com")
	t.Setenv("GIT_COMMITTER_NAME", "test")
	t.Setenv("GIT_COMMITTER_EMAIL", "test@example.com")
	r, err := modset.Release(s, "v0.2.0")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"lib/v0.2.0", "app/v0.2.0", "app/cmd/tool/v0.2.0"}, r.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	for _, tag := range r.Tags {
		if got := gitRun(t, root, "rev-list", "-n", "1", tag); got != r.Commit {
			t.Errorf("tag %s points at %s, want the release commit %s", tag, got, r.Commit)
		}
	}
	// Tagged: app requires lib v0.2.0 and keeps its replace; the command
	// has no replace and pins the siblings' hashes.
	appMod := gitRun(t, root, "show", r.Commit+":app/go.mod")
	for _, want := range []string{"require example.com/r/lib v0.2.0", "replace example.com/r/lib => ../lib"} {
		if !strings.Contains(appMod, want) {
			t.Errorf("tagged app/go.mod lacks %q:\n%s", want, appMod)
		}
	}
	toolMod := gitRun(t, root, "show", r.Commit+":app/cmd/tool/go.mod")
	if strings.Contains(toolMod, "replace") || !strings.Contains(toolMod, "example.com/r/app v0.2.0") {
		t.Errorf("tagged app/cmd/tool/go.mod should require app v0.2.0 without replace:\n%s", toolMod)
	}
	toolSum := gitRun(t, root, "show", r.Commit+":app/cmd/tool/go.sum")
	for _, want := range []string{"example.com/r/app v0.2.0 h1:", "example.com/r/app v0.2.0/go.mod h1:", "example.com/r/lib v0.2.0 h1:", "example.com/r/lib v0.2.0/go.mod h1:"} {
		if !strings.Contains(toolSum, want) {
			t.Errorf("tagged app/cmd/tool/go.sum lacks %q:\n%s", want, toolSum)
		}
	}
	// After the release: the command's replaces are back, at v0.2.0, and
	// the tree is clean.
	s2, err := modset.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Check(); err != nil {
		t.Errorf("the set after the release: %v", err)
	}
	if v, _ := s2.Version(); v != "v0.2.0" {
		t.Errorf("version after the release = %s, want v0.2.0", v)
	}
	if out := gitRun(t, root, "status", "--porcelain"); out != "" {
		t.Errorf("work tree not clean after the release:\n%s", out)
	}

	// A proxy built from the tags, the way the public proxy builds it.
	proxy := t.TempDir()
	for _, m := range s2.Published() {
		vcsProxy(t, proxy, root, m, "v0.2.0")
	}
	bin := t.TempDir()
	cmd := exec.Command("go", "install", "example.com/r/app/cmd/tool@v0.2.0")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(),
		"GOWORK=off", "GOFLAGS=-modcacherw", "GOPROXY=file://"+filepath.ToSlash(proxy), "GONOSUMDB=example.com/r",
		"GONOPROXY=", "GOPRIVATE=", "GOMODCACHE="+t.TempDir(), "GOBIN="+bin, "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install example.com/r/app/cmd/tool@v0.2.0: %v\n%s", err, out)
	}
	out, err := exec.Command(filepath.Join(bin, "tool")).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "hello, world" {
		t.Errorf("installed tool printed %q, %v; want \"hello, world\"", out, err)
	}
}

// vcsProxy writes module m at version into the file proxy dir, its zip
// made from the git tag.
func vcsProxy(t *testing.T, dir, root string, m *modset.Module, version string) {
	t.Helper()
	vdir := filepath.Join(dir, filepath.FromSlash(m.Path), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		t.Fatal(err)
	}
	tag := m.Tag(version)
	write(t, vdir, map[string]string{
		"list":            version + "\n",
		version + ".info": `{"Version":"` + version + `"}`,
		version + ".mod":  gitRun(t, root, "show", tag+":"+m.Dir+"/go.mod") + "\n",
	})
	f, err := os.Create(filepath.Join(vdir, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := modzip.CreateFromVCS(f, module.Version{Path: m.Path, Version: version}, root, tag, m.Dir); err != nil {
		t.Fatal(err)
	}
}

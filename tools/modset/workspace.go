package modset

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// ErrInconsistent is returned by [Set.Check] and [Set.Version] when the
// go.mod files do not agree: two versions of the set, an intra-repo
// requirement without its relative replace, a workspace module missing
// from go.work.
var ErrInconsistent = errors.New("modset: inconsistent module set")

// Development modules are in the workspace but never published: their
// requirements are bumped with the others, but they get no tag.
var Development = []string{"integration", "tools"}

// Module is one module of the workspace.
type Module struct {
	// Dir is the module's directory relative to the repository root,
	// slash-separated: "codec", "tools/cmd/strata".
	Dir string
	// Path is the module path.
	Path string
	// Published is false for the development modules.
	Published bool
	// Command is true when the module's root package is package main: it
	// is installed with go install and tagged in its release form.
	Command bool
	// GoMod is the go.mod file as read (or as bumped, before Save).
	GoMod *modfile.File
}

// Tag returns the module's release tag for version: "codec/v0.2.0".
func (m *Module) Tag(version string) string { return m.Dir + "/" + version }

// Set is the workspace's modules.
type Set struct {
	Root    string    // the repository root, which holds go.work
	Modules []*Module // in go.work order
}

// Load reads go.work at root and the go.mod of every module it uses.
func Load(root string) (*Set, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(root, "go.work"))
	if err != nil {
		return nil, fmt.Errorf("modset: %w", err)
	}
	wf, err := modfile.ParseWork("go.work", data, nil)
	if err != nil {
		return nil, fmt.Errorf("modset: %w", err)
	}
	s := &Set{Root: root}
	for _, u := range wf.Use {
		dir := path.Clean(filepath.ToSlash(u.Path))
		if path.IsAbs(dir) || strings.HasPrefix(dir, "../") {
			return nil, fmt.Errorf("%w: go.work uses %s, outside the repository", ErrInconsistent, u.Path)
		}
		m, err := s.readModule(dir)
		if err != nil {
			return nil, err
		}
		s.Modules = append(s.Modules, m)
	}
	return s, nil
}

func (s *Set) readModule(dir string) (*Module, error) {
	name := filepath.Join(s.Root, filepath.FromSlash(dir), "go.mod")
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("modset: %w", err)
	}
	f, err := modfile.Parse(name, data, nil)
	if err != nil {
		return nil, fmt.Errorf("modset: %w", err)
	}
	if f.Module == nil {
		return nil, fmt.Errorf("%w: %s has no module line", ErrInconsistent, name)
	}
	cmd, err := isCommand(filepath.Dir(name))
	if err != nil {
		return nil, err
	}
	return &Module{
		Dir:       dir,
		Path:      f.Module.Mod.Path,
		Published: !slices.Contains(Development, dir),
		Command:   cmd,
		GoMod:     f,
	}, nil
}

// isCommand reports whether the package at the root of dir is package main.
func isCommand(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("modset: %w", err)
	}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, n), nil, parser.PackageClauseOnly)
		if err != nil {
			return false, fmt.Errorf("modset: %w", err)
		}
		return f.Name.Name == "main", nil
	}
	return false, nil
}

// Module returns the workspace module with the given path, or nil.
func (s *Set) Module(modPath string) *Module {
	for _, m := range s.Modules {
		if m.Path == modPath {
			return m
		}
	}
	return nil
}

// Published lists the modules that get a tag.
func (s *Set) Published() []*Module {
	var out []*Module
	for _, m := range s.Modules {
		if m.Published {
			out = append(out, m)
		}
	}
	return out
}

// intraRequires lists m's requirements on other workspace modules.
func (s *Set) intraRequires(m *Module) []*modfile.Require {
	var out []*modfile.Require
	for _, r := range m.GoMod.Require {
		if s.Module(r.Mod.Path) != nil {
			out = append(out, r)
		}
	}
	return out
}

// Check reports every inconsistency of the set, joined: an intra-repo
// requirement at a version other than the others, or without a replace by
// the relative directory of the module it names; a module directory under
// the root that go.work does not use.
func (s *Set) Check() error {
	var problems []string
	versions := map[string][]string{}
	for _, m := range s.Modules {
		for _, r := range s.intraRequires(m) {
			dep := s.Module(r.Mod.Path)
			versions[r.Mod.Version] = append(versions[r.Mod.Version], m.Dir+" → "+dep.Dir)
			if !semver.IsValid(r.Mod.Version) || module.IsPseudoVersion(r.Mod.Version) {
				problems = append(problems, fmt.Sprintf("%s requires %s at %s, not a release version", m.Dir, r.Mod.Path, r.Mod.Version))
			}
			want := relDir(m.Dir, dep.Dir)
			if !hasReplace(m.GoMod, r.Mod.Path, want) {
				problems = append(problems, fmt.Sprintf("%s requires %s without `replace %s => %s`", m.Dir, r.Mod.Path, r.Mod.Path, want))
			}
		}
	}
	if len(versions) > 1 {
		var parts []string
		for v, uses := range versions {
			parts = append(parts, fmt.Sprintf("%s (%s)", v, strings.Join(uses, ", ")))
		}
		slices.Sort(parts)
		problems = append(problems, fmt.Sprintf("intra-repo requirements name %d versions: %s", len(versions), strings.Join(parts, "; ")))
	}
	if len(versions) == 0 {
		problems = append(problems, "no module requires another, so the set has no version")
	}
	unused, err := s.unusedModules()
	if err != nil {
		return fmt.Errorf("modset: %w", err)
	}
	for _, d := range unused {
		problems = append(problems, d+"/go.mod is not in go.work")
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w:\n  %s", ErrInconsistent, strings.Join(problems, "\n  "))
}

// Version returns the one version at which the go.mod files require their
// siblings: the version of the set.
func (s *Set) Version() (string, error) {
	var v string
	for _, m := range s.Modules {
		for _, r := range s.intraRequires(m) {
			switch {
			case v == "":
				v = r.Mod.Version
			case v != r.Mod.Version:
				return "", fmt.Errorf("%w: requirements name both %s and %s (run make release, or fix the go.mod files)", ErrInconsistent, v, r.Mod.Version)
			}
		}
	}
	if v == "" {
		return "", fmt.Errorf("%w: no module requires another, so the set has no version", ErrInconsistent)
	}
	return v, nil
}

// unusedModules lists the directories below the root that hold a go.mod
// but are not used by go.work (hidden directories and testdata skipped).
func (s *Set) unusedModules() ([]string, error) {
	used := map[string]bool{}
	for _, m := range s.Modules {
		used[m.Dir] = true
	}
	var out []string
	err := filepath.WalkDir(s.Root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != s.Root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || d.Name() != "go.mod" {
			return nil
		}
		rel, err := filepath.Rel(s.Root, filepath.Dir(p))
		if err != nil {
			return err
		}
		if rel = filepath.ToSlash(rel); rel != "." && !used[rel] {
			out = append(out, rel)
		}
		return nil
	})
	return out, err
}

// relDir is the replace target of module dir "to" from module dir "from":
// "../codec", "../../../strata".
func relDir(from, to string) string {
	up := strings.Repeat("../", strings.Count(from, "/")+1)
	return up + to
}

func hasReplace(f *modfile.File, modPath, dir string) bool {
	for _, r := range f.Replace {
		if r.Old.Path == modPath && r.Old.Version == "" && path.Clean(r.New.Path) == path.Clean(dir) && r.New.Version == "" {
			return true
		}
	}
	return false
}

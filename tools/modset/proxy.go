package modset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// Served is one module written by [Set.WriteProxy].
type Served struct {
	Module  *Module
	Version string
	Sums    Sums
	ZipSize int64
}

// WriteProxy writes every published module at version, from the working
// tree, into dir in the GOPROXY file layout
// (<escaped path>/@v/{list,<version>.info,<version>.mod,<version>.zip}),
// commands in their release form. The go.mod files on disk must already
// require their siblings at version (see [Set.Version]).
func (s *Set) WriteProxy(dir, version string) ([]Served, error) {
	var served []Served
	libs := map[string]Sums{}
	for _, m := range s.Published() {
		if m.Command {
			continue
		}
		goMod, err := s.readFile(m, "go.mod")
		if err != nil {
			return nil, err
		}
		sv, err := s.serve(dir, m, version, goMod, nil)
		if err != nil {
			return nil, err
		}
		libs[m.Path] = sv.Sums
		served = append(served, sv)
	}
	for _, m := range s.Published() {
		if !m.Command {
			continue
		}
		goMod, goSum, err := s.ReleaseForm(m, version, libs)
		if err != nil {
			return nil, err
		}
		sv, err := s.serve(dir, m, version, goMod, map[string][]byte{"go.mod": goMod, "go.sum": goSum})
		if err != nil {
			return nil, err
		}
		served = append(served, sv)
	}
	return served, nil
}

// serve writes one module's files into the proxy directory.
func (s *Set) serve(dir string, m *Module, version string, goMod []byte, override map[string][]byte) (Served, error) {
	escPath, err := module.EscapePath(m.Path)
	if err != nil {
		return Served{}, fmt.Errorf("modset: %w", err)
	}
	escVer, err := module.EscapeVersion(version)
	if err != nil {
		return Served{}, fmt.Errorf("modset: %w", err)
	}
	vdir := filepath.Join(dir, filepath.FromSlash(escPath), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return Served{}, fmt.Errorf("modset: %w", err)
	}
	zipName := filepath.Join(vdir, escVer+".zip")
	zf, err := os.Create(zipName)
	if err != nil {
		return Served{}, fmt.Errorf("modset: %w", err)
	}
	err = s.WriteZip(zf, m, version, override)
	if cerr := zf.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("modset: %w", cerr)
	}
	if err != nil {
		return Served{}, err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return Served{}, fmt.Errorf("modset: %w", err)
	}
	for name, data := range map[string][]byte{
		escVer + ".mod":  goMod,
		escVer + ".info": info,
		"list":           []byte(version + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(vdir, name), data, 0o644); err != nil {
			return Served{}, fmt.Errorf("modset: %w", err)
		}
	}
	sv := Served{Module: m, Version: version}
	if sv.Sums.Zip, err = HashZip(zipName); err != nil {
		return Served{}, err
	}
	if sv.Sums.GoMod, err = HashGoMod(goMod); err != nil {
		return Served{}, err
	}
	if st, err := os.Stat(zipName); err == nil {
		sv.ZipSize = st.Size()
	}
	return sv, nil
}

// ReleaseForm returns the go.mod and go.sum that command module m is
// tagged with at version: go install pkg@version refuses a go.mod with
// replace directives, so the intra-repo replaces are dropped, and since the
// siblings then come from the proxy, go.sum gains their lines, with the
// hashes libs gives (by module path). m's go.mod on disk must require its
// siblings at version.
func (s *Set) ReleaseForm(m *Module, version string, libs map[string]Sums) (goMod, goSum []byte, err error) {
	data, err := s.readFile(m, "go.mod")
	if err != nil {
		return nil, nil, err
	}
	f, err := modfile.Parse(m.Dir+"/go.mod", data, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("modset: %w", err)
	}
	sum, err := s.readFile(m, "go.sum")
	if err != nil && !os.IsNotExist(err) {
		return nil, nil, err
	}
	lines := strings.SplitAfter(string(sum), "\n")
	for _, r := range s.intraRequires(&Module{GoMod: f}) {
		if r.Mod.Version != version {
			return nil, nil, fmt.Errorf("%w: %s requires %s at %s, not %s", ErrInconsistent, m.Dir, r.Mod.Path, r.Mod.Version, version)
		}
		h, ok := libs[r.Mod.Path]
		if !ok {
			return nil, nil, fmt.Errorf("%w: %s requires %s, which is not a published library", ErrInconsistent, m.Dir, r.Mod.Path)
		}
		if err := f.DropReplace(r.Mod.Path, ""); err != nil {
			return nil, nil, fmt.Errorf("modset: %w", err)
		}
		lines = append(lines, strings.SplitAfter(h.Lines(r.Mod.Path, version), "\n")...)
	}
	// A replace of a workspace module the command does not require (one
	// its dependencies' tests need, such as the test kit) must go too: go
	// install refuses any replace.
	for _, r := range slices.Clone(f.Replace) {
		if s.Module(r.Old.Path) == nil {
			continue
		}
		if err := f.DropReplace(r.Old.Path, r.Old.Version); err != nil {
			return nil, nil, fmt.Errorf("modset: %w", err)
		}
	}
	f.Cleanup()
	if goMod, err = f.Format(); err != nil {
		return nil, nil, fmt.Errorf("modset: %w", err)
	}
	lines = slices.DeleteFunc(lines, func(l string) bool { return strings.TrimSpace(l) == "" })
	slices.Sort(lines)
	lines = slices.Compact(lines)
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(strings.TrimRight(l, "\n") + "\n")
	}
	return goMod, b.Bytes(), nil
}

// Libraries returns the go.sum hashes of every published module that is
// not a command, at version, from the working tree.
func (s *Set) Libraries(version string) (map[string]Sums, error) {
	tmp, err := os.MkdirTemp("", "modset-zip-")
	if err != nil {
		return nil, fmt.Errorf("modset: %w", err)
	}
	defer os.RemoveAll(tmp)
	libs := map[string]Sums{}
	for _, m := range s.Published() {
		if m.Command {
			continue
		}
		goMod, err := s.readFile(m, "go.mod")
		if err != nil {
			return nil, err
		}
		sv, err := s.serve(tmp, m, version, goMod, nil)
		if err != nil {
			return nil, err
		}
		libs[m.Path] = sv.Sums
	}
	return libs, nil
}

func (s *Set) readFile(m *Module, name string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(s.Root, filepath.FromSlash(m.Dir), name))
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("modset: %w", err)
	}
	return data, err
}

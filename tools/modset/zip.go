package modset

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/zip"
)

// files lists the files of module m in the working tree, as zip.Files with
// paths relative to the module's directory. In a git work tree they are
// the files git knows or would add (tracked, or untracked and not
// ignored), so build output and local state never enter a zip; elsewhere,
// every file below the directory. Files in nested modules are listed too:
// zip.Create omits them. As the go command does for a module in a
// subdirectory, the repository root's LICENSE is added when the module has
// none. override replaces the content of the named files (go.mod, go.sum).
func (s *Set) files(m *Module, override map[string][]byte) ([]zip.File, error) {
	dir := filepath.Join(s.Root, filepath.FromSlash(m.Dir))
	rels, err := gitFiles(s.Root, m.Dir)
	if errors.Is(err, errNotGit) {
		rels, err = walkFiles(dir)
	}
	if err != nil {
		return nil, err
	}
	var out []zip.File
	seen := map[string]bool{}
	for _, rel := range rels {
		if data, ok := override[rel]; ok {
			out = append(out, memFile{rel: rel, data: data})
			seen[rel] = true
			continue
		}
		abs := filepath.Join(dir, filepath.FromSlash(rel))
		info, err := os.Lstat(abs)
		if errors.Is(err, fs.ErrNotExist) {
			continue // tracked but deleted in the working tree
		}
		if err != nil {
			return nil, fmt.Errorf("modset: %w", err)
		}
		out = append(out, diskFile{rel: rel, abs: abs, info: info})
		seen[rel] = true
	}
	for rel, data := range override {
		if !seen[rel] {
			out = append(out, memFile{rel: rel, data: data})
			seen[rel] = true
		}
	}
	if !seen["LICENSE"] {
		if info, err := os.Lstat(filepath.Join(s.Root, "LICENSE")); err == nil && info.Mode().IsRegular() {
			out = append(out, diskFile{rel: "LICENSE", abs: filepath.Join(s.Root, "LICENSE"), info: info})
		}
	}
	return out, nil
}

var errNotGit = errors.New("not a git work tree")

// gitFiles lists, relative to dir (a slash path below root), the files git
// tracks or would add there.
func gitFiles(root, dir string) ([]string, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, errNotGit
	}
	if out, err := exec.Command("git", "-C", root, "rev-parse", "--show-toplevel").Output(); err != nil ||
		filepath.Clean(strings.TrimSpace(string(out))) != filepath.Clean(evalSymlinks(root)) {
		return nil, errNotGit
	}
	cmd := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("modset: git ls-files %s: %v: %s", dir, err, strings.TrimSpace(stderr.String()))
	}
	var rels []string
	seen := map[string]bool{}
	for _, p := range strings.Split(string(out), "\x00") {
		rel, ok := strings.CutPrefix(p, dir+"/")
		if !ok || seen[rel] {
			continue
		}
		seen[rel] = true
		rels = append(rels, rel)
	}
	return rels, nil
}

func evalSymlinks(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

// walkFiles lists every file below dir, skipping version-control
// directories.
func walkFiles(dir string) ([]string, error) {
	var rels []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".hg", ".svn", ".bzr":
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rels = append(rels, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("modset: %w", err)
	}
	return rels, nil
}

// WriteZip writes the zip of module m at version, from the working tree
// with override applied (see files).
func (s *Set) WriteZip(w io.Writer, m *Module, version string, override map[string][]byte) error {
	files, err := s.files(m, override)
	if err != nil {
		return err
	}
	if err := zip.Create(w, module.Version{Path: m.Path, Version: version}, files); err != nil {
		return fmt.Errorf("modset: %s: %w", m.Dir, err)
	}
	return nil
}

// Sums are a module's two go.sum hashes.
type Sums struct {
	Zip   string // h1: of the module zip
	GoMod string // h1: of its go.mod
}

// Lines returns the module's two go.sum lines.
func (h Sums) Lines(modPath, version string) string {
	return fmt.Sprintf("%s %s %s\n%s %s/go.mod %s\n", modPath, version, h.Zip, modPath, version, h.GoMod)
}

// HashZip returns the h1: hash of a module zip, as go.sum records it.
func HashZip(zipFile string) (string, error) {
	h, err := dirhash.HashZip(zipFile, dirhash.Hash1)
	if err != nil {
		return "", fmt.Errorf("modset: %w", err)
	}
	return h, nil
}

// HashGoMod returns the h1: hash of a go.mod's content, as go.sum records
// it on the ".../go.mod" line.
func HashGoMod(data []byte) (string, error) {
	h, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
	if err != nil {
		return "", fmt.Errorf("modset: %w", err)
	}
	return h, nil
}

type diskFile struct {
	rel, abs string
	info     fs.FileInfo
}

func (f diskFile) Path() string                 { return f.rel }
func (f diskFile) Lstat() (fs.FileInfo, error)  { return f.info, nil }
func (f diskFile) Open() (io.ReadCloser, error) { return os.Open(f.abs) }

type memFile struct {
	rel  string
	data []byte
}

func (f memFile) Path() string                 { return f.rel }
func (f memFile) Lstat() (fs.FileInfo, error)  { return memInfo(f), nil }
func (f memFile) Open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(f.data)), nil }

type memInfo memFile

func (i memInfo) Name() string       { return path.Base(i.rel) }
func (i memInfo) Size() int64        { return int64(len(i.data)) }
func (i memInfo) Mode() fs.FileMode  { return 0o644 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

package modset

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// CheckNewVersion reports whether version can follow current: a canonical
// semantic version (vX.Y.Z, optionally -pre), not a pseudo-version, above
// current, and within the major version of the module paths (v0 or v1).
func CheckNewVersion(current, version string) error {
	switch {
	case !semver.IsValid(version) || semver.Canonical(version) != version:
		return fmt.Errorf("modset: version %q is not a canonical semantic version such as v0.2.0", version)
	case module.IsPseudoVersion(version):
		return fmt.Errorf("modset: version %q is a pseudo-version", version)
	case semver.Major(version) != "v0" && semver.Major(version) != "v1":
		return fmt.Errorf("modset: version %q needs a /%s suffix on every module path first", version, semver.Major(version))
	case current != "" && semver.Compare(version, current) <= 0:
		return fmt.Errorf("modset: version %s is not above the current %s", version, current)
	}
	return nil
}

// Bump sets every intra-repo requirement of every module to version, in
// memory; [Set.Save] writes the files.
func (s *Set) Bump(version string) error {
	for _, m := range s.Modules {
		for _, r := range s.intraRequires(m) {
			if err := m.GoMod.AddRequire(r.Mod.Path, version); err != nil {
				return fmt.Errorf("modset: %s: %w", m.Dir, err)
			}
		}
		m.GoMod.Cleanup()
	}
	return nil
}

// Save writes every module's go.mod.
func (s *Set) Save() error {
	for _, m := range s.Modules {
		data, err := m.GoMod.Format()
		if err != nil {
			return fmt.Errorf("modset: %s/go.mod: %w", m.Dir, err)
		}
		if err := os.WriteFile(filepath.Join(s.Root, filepath.FromSlash(m.Dir), "go.mod"), data, 0o644); err != nil {
			return fmt.Errorf("modset: %w", err)
		}
	}
	return nil
}

package modset

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Released is what [Release] did.
type Released struct {
	From, To string   // the previous and the new version
	Commit   string   // the tagged commit
	Tags     []string // one per published module, e.g. "codec/v0.2.0"
	Restore  string   // the commit that brought commands back to their development form, or ""
}

// Release makes version the set's version in the git work tree at s.Root,
// which must be clean: it bumps every intra-repo requirement to version,
// puts command modules in their release form (see [Set.ReleaseForm]),
// commits, tags every published module (annotated tags "<dir>/<version>"),
// and, when there are commands, commits their development form again
// (replace directives back) on top. It pushes nothing.
func Release(s *Set, version string) (Released, error) {
	current, err := s.Version()
	if err != nil {
		return Released{}, err
	}
	if err := CheckNewVersion(current, version); err != nil {
		return Released{}, err
	}
	if err := s.Check(); err != nil {
		return Released{}, err
	}
	r := Released{From: current, To: version}
	if out, err := git(s.Root, "status", "--porcelain"); err != nil {
		return r, err
	} else if out != "" {
		return r, fmt.Errorf("modset: the work tree has uncommitted changes; commit or remove them first:\n%s", out)
	}
	for _, m := range s.Published() {
		if out, _ := git(s.Root, "tag", "--list", m.Tag(version)); out != "" {
			return r, fmt.Errorf("modset: tag %s exists already", m.Tag(version))
		}
	}

	if err := s.Bump(version); err != nil {
		return r, err
	}
	if err := s.Save(); err != nil {
		return r, err
	}
	var changed []string
	for _, m := range s.Modules {
		changed = append(changed, m.Dir+"/go.mod")
	}
	// Commands: remember the development form, write the release form.
	dev := map[string][2][]byte{}
	var cmds []*Module
	for _, m := range s.Published() {
		if m.Command {
			cmds = append(cmds, m)
		}
	}
	if len(cmds) > 0 {
		libs, err := s.Libraries(version)
		if err != nil {
			return r, err
		}
		for _, m := range cmds {
			goMod, _ := s.readFile(m, "go.mod")
			goSum, _ := s.readFile(m, "go.sum")
			dev[m.Dir] = [2][]byte{goMod, goSum}
			relMod, relSum, err := s.ReleaseForm(m, version, libs)
			if err != nil {
				return r, err
			}
			if err := s.writeFile(m, "go.mod", relMod); err != nil {
				return r, err
			}
			if err := s.writeFile(m, "go.sum", relSum); err != nil {
				return r, err
			}
			changed = append(changed, m.Dir+"/go.sum")
		}
	}
	if _, err := git(s.Root, append([]string{"add", "--"}, changed...)...); err != nil {
		return r, err
	}
	msg := fmt.Sprintf("release %s\n\nEvery intra-repo requirement moves from %s to %s; commands drop their\nreplace directives for go install (restored by the next commit).", version, current, version)
	if _, err := git(s.Root, "commit", "--quiet", "-m", msg); err != nil {
		return r, err
	}
	if r.Commit, err = git(s.Root, "rev-parse", "HEAD"); err != nil {
		return r, err
	}
	for _, m := range s.Published() {
		tag := m.Tag(version)
		if _, err := git(s.Root, "tag", "-a", tag, "-m", m.Path+" "+version); err != nil {
			return r, err
		}
		r.Tags = append(r.Tags, tag)
	}
	if len(cmds) == 0 {
		return r, nil
	}
	var restored []string
	for _, m := range cmds {
		if err := s.writeFile(m, "go.mod", dev[m.Dir][0]); err != nil {
			return r, err
		}
		if err := s.writeFile(m, "go.sum", dev[m.Dir][1]); err != nil {
			return r, err
		}
		restored = append(restored, m.Dir+"/go.mod", m.Dir+"/go.sum")
	}
	if _, err := git(s.Root, append([]string{"add", "--"}, restored...)...); err != nil {
		return r, err
	}
	msg = fmt.Sprintf("back to development after %s\n\nCommands get their replace directives back, so the workspace builds them\nfrom the working tree again.", version)
	if _, err := git(s.Root, "commit", "--quiet", "-m", msg); err != nil {
		return r, err
	}
	r.Restore, err = git(s.Root, "rev-parse", "HEAD")
	return r, err
}

func (s *Set) writeFile(m *Module, name string, data []byte) error {
	if err := os.WriteFile(filepath.Join(s.Root, filepath.FromSlash(m.Dir), name), data, 0o644); err != nil {
		return fmt.Errorf("modset: %w", err)
	}
	return nil
}

// git runs git in dir and returns its trimmed standard output.
func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("modset: git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

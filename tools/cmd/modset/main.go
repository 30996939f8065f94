// Command modset handles Strata's modules as one release set (see package
// tools/modset).
//
// Usage, from the repository root:
//
//	modset version                      print the set's version (what every go.mod requires its siblings at)
//	modset check                        report go.mod files that disagree on it, or lack their replace
//	modset proxy -out DIR               write the published modules at that version as a file GOPROXY
//	modset install-check [-keep] [-race] build an outside consumer and go install the CLI from such a proxy
//	modset release -version V [-dry-run] bump, commit and tag every published module (pushes nothing)
//
// make install-check and make release VERSION=V [DRY_RUN=1] run it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/AndrewDonelson/strata/tools/modset"
)

const usage = `usage: modset [-root DIR] COMMAND

commands:
  version                  print the version every go.mod requires its siblings at
  check                    report go.mod files that disagree on it or lack their replace
  proxy -out DIR           write the published modules at that version as a file GOPROXY
  install-check [-keep] [-race]
                           build an outside consumer and go install the commands from such a proxy
  release -version V [-dry-run]
                           bump every intra-repo requirement to V, commit, tag each published
                           module <dir>/V; -dry-run does it in a temporary clone
`

func main() {
	root := flag.String("root", ".", "the repository root (holds go.work)")
	flag.Usage = func() { fmt.Fprint(flag.CommandLine.Output(), usage); flag.PrintDefaults() }
	flag.Parse()
	if flag.NArg() < 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *root, flag.Arg(0), flag.Args()[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "modset:", strings.TrimPrefix(err.Error(), "modset: "))
		os.Exit(1)
	}
}

func run(ctx context.Context, root, verb string, args []string) error {
	s, err := modset.Load(root)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet(verb, flag.ExitOnError)
	switch verb {
	case "version":
		v, err := s.Version()
		if err != nil {
			return err
		}
		fmt.Println(v)
		return nil
	case "check":
		if err := s.Check(); err != nil {
			return err
		}
		v, _ := s.Version()
		fmt.Printf("%d modules, %d published, all at %s with their replace directives\n", len(s.Modules), len(s.Published()), v)
		return nil
	case "proxy":
		out := fs.String("out", "", "directory to write the proxy into (required)")
		_ = fs.Parse(args)
		if *out == "" {
			return errors.New("proxy needs -out DIR")
		}
		return writeProxy(s, *out)
	case "install-check":
		keep := fs.Bool("keep", false, "keep the temporary directory (proxy, consumer, module cache)")
		race := fs.Bool("race", false, "build and install with the race detector, as make test's other builds do, so that the build cache's packages are reused")
		_ = fs.Parse(args)
		return installCheck(ctx, s, *keep, *race)
	case "release":
		version := fs.String("version", "", "the new version, e.g. v0.2.0 (required)")
		dry := fs.Bool("dry-run", false, "release in a temporary clone of HEAD and show the result; the repository is left untouched")
		_ = fs.Parse(args)
		if *version == "" {
			return errors.New("release needs -version vX.Y.Z")
		}
		if *dry {
			return dryRelease(s.Root, *version)
		}
		return release(s, *version)
	}
	flag.Usage()
	os.Exit(2)
	return nil
}

func writeProxy(s *modset.Set, out string) error {
	if err := s.Check(); err != nil {
		return err
	}
	v, err := s.Version()
	if err != nil {
		return err
	}
	served, err := s.WriteProxy(out, v)
	if err != nil {
		return err
	}
	printServed(served)
	return nil
}

func printServed(served []modset.Served) {
	for _, sv := range served {
		form := ""
		if sv.Module.Command {
			form = "  (release form: no replace)"
		}
		fmt.Printf("  %-52s %s %7.1f kB  %s%s\n", sv.Module.Path, sv.Version, float64(sv.ZipSize)/1000, sv.Sums.Zip, form)
	}
}

func release(s *modset.Set, version string) error {
	r, err := modset.Release(s, version)
	if err != nil {
		return err
	}
	fmt.Printf("released %s (was %s) at commit %s\n", r.To, r.From, r.Commit)
	for _, t := range r.Tags {
		fmt.Println("  tag", t)
	}
	if r.Restore != "" {
		fmt.Printf("commands back to their development form in commit %s\n", r.Restore)
	}
	fmt.Printf("nothing was pushed; to publish:\n  git push origin HEAD %s\n", strings.Join(r.Tags, " "))
	return nil
}

// dryRelease releases in a temporary clone of root's HEAD and shows what
// it did.
func dryRelease(root, version string) error {
	tmp, err := os.MkdirTemp("", "strata-release-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	clone := filepath.Join(tmp, "repo")
	if out, err := exec.Command("git", "clone", "--quiet", root, clone).CombinedOutput(); err != nil {
		return fmt.Errorf("git clone: %v: %s", err, out)
	}
	s, err := modset.Load(clone)
	if err != nil {
		return err
	}
	fmt.Printf("dry run in a temporary clone of HEAD (%s); this repository is not changed\n", clone)
	if err := release(s, version); err != nil {
		return err
	}
	cmd := exec.Command("git", "-C", clone, "log", "--stat", "--format=%n%h %s", "-2")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

// since formats the time elapsed since t for the report.
func since(t time.Time) string { return time.Since(t).Round(100 * time.Millisecond).String() }

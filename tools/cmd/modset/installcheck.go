package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/AndrewDonelson/strata/tools/modset"
)

// ownPrefix is the module path prefix that must never be asked of a public
// proxy or checksum database.
const ownPrefix = "github.com/AndrewDonelson/strata"

// closedSumDB is sum.golang.org's name and key with the URL of a closed
// local port.
const closedSumDB = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8 http://127.0.0.1:9"

// consumerProgram is the outside module's program: an in-memory DataStore
// (no server needed), which proves the module builds, links and works, and
// reports the versions of Strata's modules it was built with.
const consumerProgram = `package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/AndrewDonelson/strata/strata"
)

type Note struct {
	ID   string ` + "`strata:\"primary_key\"`" + `
	Text string
}

func main() {
	ctx := context.Background()
	ds, err := strata.NewDataStore(strata.Config{})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	defer ds.Close()
	if err := ds.Register(strata.Schema{Name: "notes", Model: &Note{}}); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	if err := ds.Set(ctx, "notes", "n1", &Note{ID: "n1", Text: "hello from the proxy"}); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	n, err := strata.GetTyped[Note](ctx, ds, "notes", "n1")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	var mods []string
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if strings.HasPrefix(d.Path, "github.com/AndrewDonelson/strata/") {
				mods = append(mods, strings.TrimPrefix(d.Path, "github.com/AndrewDonelson/strata/")+"@"+d.Version)
			}
		}
	}
	fmt.Printf("Get(notes, n1) = %q; built with %s\n", n.Text, strings.Join(mods, " "))
}
`

// adaptersProgram is the second outside module's program: the
// OpenTelemetry and Prometheus adapters (modules of their own) on an
// in-memory DataStore, which proves they install beside strata.
const adaptersProgram = `package main

import (
	"context"
	"fmt"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/AndrewDonelson/strata/strata"
	strataotel "github.com/AndrewDonelson/strata/strata/otel"
	strataprom "github.com/AndrewDonelson/strata/strata/prom"
)

type Note struct {
	ID string ` + "`strata:\"primary_key\"`" + `
}

func main() {
	reg := prometheus.NewRegistry()
	rec, err := strataprom.New(reg, nil)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	ds, err := strata.NewDataStore(strata.Config{Metrics: rec, Tracer: strataotel.NewTracer()})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	defer ds.Close()
	if err := rec.Watch(ds); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	if err := ds.Register(strata.Schema{Name: "notes", Model: &Note{}}); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	ctx := context.Background()
	if err := ds.Set(ctx, "notes", "n1", &Note{ID: "n1"}); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	if _, err := strata.GetTyped[Note](ctx, ds, "notes", "n1"); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	families, err := reg.Gather()
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Printf("strataprom and strataotel on an in-memory DataStore: %d metric families gathered\n", len(families))
}
`

// adapterDeps are module path prefixes of the adapters' dependencies, which
// the core's consumer must not resolve.
var adapterDeps = []string{"go.opentelemetry.io/", "github.com/prometheus/"}

// installCheck serves the published modules at the set's version from a
// file proxy built from the working tree, builds and runs an outside
// module that requires only the strata module, with no replace, and go
// installs every command from the proxy: what users get once the tags are
// pushed. Nothing reaches a public proxy or checksum database: GOPROXY
// lists only file:// proxies (ours, then the local module cache's downloads
// for third-party modules), GONOSUMDB covers our path, the third-party
// hashes come from our go.sum files, and GOSUMDB points at a closed port so
// that any lookup would fail. A temporary GOMODCACHE keeps the served
// versions out of the machine's module cache. With race, everything is
// built with -race too: make test's other phases build with -race
// -trimpath, so the standard library and the third-party packages come from
// the build cache instead of being compiled once more without -race.
// Module resolution, what this check is about, does not depend on it.
func installCheck(ctx context.Context, s *modset.Set, keep, race bool) error {
	start := time.Now()
	if err := s.Check(); err != nil {
		return err
	}
	version, err := s.Version()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "strata-install-check-")
	if err != nil {
		return err
	}
	modCache := filepath.Join(tmp, "modcache")
	defer func() {
		if keep {
			fmt.Println("kept", tmp)
			return
		}
		// The module cache's files are read-only.
		_ = filepath.WalkDir(modCache, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
		os.RemoveAll(tmp)
	}()

	// Third-party modules come from the local module cache: make sure it
	// holds what the published modules need (our own paths are replaced by
	// directories there, so nothing of ours is fetched).
	hostCache, err := goEnv(ctx, s.Root, "GOMODCACHE")
	if err != nil {
		return err
	}
	var sums []string
	for _, m := range s.Published() {
		dir := filepath.Join(s.Root, filepath.FromSlash(m.Dir))
		if out, err := command(ctx, dir, []string{"GOWORK=off"}, "go", "mod", "download"); err != nil {
			return fmt.Errorf("go mod download in %s: %v\n%s", m.Dir, err, out)
		}
		sums = append(sums, thirdPartySums(filepath.Join(dir, "go.sum"))...)
	}

	proxyDir := filepath.Join(tmp, "proxy")
	served, err := s.WriteProxy(proxyDir, version)
	if err != nil {
		return err
	}
	goFlags := "GOFLAGS=-mod=mod -trimpath"
	if race {
		goFlags += " -race"
	}
	env := []string{
		"GOWORK=off",
		goFlags,
		"GOPROXY=file://" + filepath.ToSlash(proxyDir) + ",file://" + filepath.ToSlash(filepath.Join(hostCache, "cache", "download")),
		"GONOSUMDB=" + ownPrefix,
		// The checksum database is pointed at a closed port: a lookup of
		// any module, ours or not, would fail the check.
		"GOSUMDB=" + closedSumDB,
		"GONOPROXY=", "GOPRIVATE=", "GOINSECURE=",
		"GOMODCACHE=" + modCache,
		"GOTOOLCHAIN=local",
	}
	fmt.Printf("install-check: the published modules at %s, from the working tree, served by a file proxy:\n", version)
	printServed(served)
	fmt.Println("  environment:", strings.Join(env, " "))

	// The consumer: require strata only, no replace; go.sum starts with the
	// third-party hashes our modules already pin, so no checksum database
	// is needed for them either.
	consumer := filepath.Join(tmp, "consumer")
	if err := os.MkdirAll(consumer, 0o755); err != nil {
		return err
	}
	goMod := fmt.Sprintf("module example.com/consumer\n\ngo 1.26\n\nrequire %s/strata %s\n", ownPrefix, version)
	slices.Sort(sums)
	files := map[string]string{
		"go.mod":  goMod,
		"go.sum":  strings.Join(slices.Compact(sums), ""),
		"main.go": consumerProgram,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(consumer, name), []byte(data), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("consumer module (go.mod: require %s/strata %s, no replace):\n", ownPrefix, version)
	if out, err := command(ctx, consumer, env, "go", "build", "-o", "consumer", "."); err != nil {
		return fmt.Errorf("consumer: go build: %v\n%s", err, out)
	}
	// -mod=mod wrote the modules the build resolved into go.mod.
	resolved, err := os.ReadFile(filepath.Join(consumer, "go.mod"))
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(resolved), "\n") {
		if f := strings.Fields(strings.TrimPrefix(line, "require ")); len(f) >= 2 && strings.HasPrefix(f[0], ownPrefix+"/") {
			fmt.Println("  resolved", f[0], f[1])
		}
	}
	out, err := command(ctx, consumer, nil, filepath.Join(consumer, "consumer"))
	if err != nil {
		return fmt.Errorf("consumer: run: %v\n%s", err, out)
	}
	fmt.Println("  ran:", strings.TrimSpace(out))
	for _, dep := range adapterDeps {
		if strings.Contains(string(resolved), dep) {
			return fmt.Errorf("consumer: requiring strata alone resolved %s modules, which only the adapter modules may need:\n%s", dep, resolved)
		}
	}
	fmt.Println("  no OpenTelemetry or Prometheus module resolved: the core stays free of them")

	// The adapters' consumer: require strata/otel and strata/prom (and
	// client_golang, which its program uses), no replace.
	adapters := filepath.Join(tmp, "adapters")
	if err := os.MkdirAll(adapters, 0o755); err != nil {
		return err
	}
	adaptersMod := fmt.Sprintf("module example.com/adapters\n\ngo 1.26\n\nrequire (\n\t%[1]s/strata %[2]s\n\t%[1]s/strata/otel %[2]s\n\t%[1]s/strata/prom %[2]s\n)\n", ownPrefix, version)
	for name, data := range map[string]string{"go.mod": adaptersMod, "go.sum": files["go.sum"], "main.go": adaptersProgram} {
		if err := os.WriteFile(filepath.Join(adapters, name), []byte(data), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("adapters module (go.mod: require strata, strata/otel and strata/prom %s, no replace):\n", version)
	if out, err := command(ctx, adapters, env, "go", "build", "-o", "adapters", "."); err != nil {
		return fmt.Errorf("adapters: go build: %v\n%s", err, out)
	}
	if out, err = command(ctx, adapters, nil, filepath.Join(adapters, "adapters")); err != nil {
		return fmt.Errorf("adapters: run: %v\n%s", err, out)
	}
	fmt.Println("  ran:", strings.TrimSpace(out))

	bin := filepath.Join(tmp, "bin")
	for _, m := range s.Published() {
		if !m.Command {
			continue
		}
		target := m.Path + "@" + version
		// go install pkg@version verifies third-party modules with the
		// checksum database, never with the module's go.sum (which holds
		// them). They come from the local module cache, checked against our
		// go.sum files when go mod download fetched them above, so this step
		// turns the database off; our own path is under GONOSUMDB anyway.
		installEnv := append(slices.Clone(env), "GOBIN="+bin, "GOSUMDB=off")
		if out, err := command(ctx, tmp, installEnv, "go", "install", target); err != nil {
			return fmt.Errorf("go install %s: %v\n%s", target, err, out)
		}
		exe := filepath.Join(bin, filepath.Base(m.Path))
		out, err := command(ctx, tmp, nil, exe, "version")
		if err != nil {
			return fmt.Errorf("%s version: %v\n%s", exe, err, out)
		}
		fmt.Printf("go install %s: ok\n  %s version: %s\n", target, filepath.Base(m.Path), strings.TrimSpace(out))
	}
	fmt.Printf("install-check: ok in %s\n", since(start))
	return nil
}

// thirdPartySums returns the lines of a go.sum that are not about our
// modules.
func thirdPartySums(name string) []string {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, ownPrefix+"/") {
			out = append(out, l+"\n")
		}
	}
	return out
}

// command runs name in dir with env added to the environment (nil: the
// environment as it is) and returns its combined output.
func command(ctx context.Context, dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func goEnv(ctx context.Context, dir, name string) (string, error) {
	out, err := command(ctx, dir, nil, "go", "env", name)
	if err != nil {
		return "", fmt.Errorf("go env %s: %v: %s", name, err, out)
	}
	return strings.TrimSpace(out), nil
}

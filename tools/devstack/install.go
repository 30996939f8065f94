package devstack

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
)

// installer installs Debian packages with apt-get, refreshing the package
// lists once per process when an install fails on a stale list.
type installer struct {
	log     io.Writer
	updated sync.Once
}

func (in *installer) install(ctx context.Context, pkg string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("devstack: %s is not installed and installing it needs root: run `sudo apt-get install -y %s`", pkg, pkg)
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("devstack: %s is not installed and apt-get is not available to install it", pkg)
	}
	fmt.Fprintf(in.log, "devstack: installing %s with apt-get\n", pkg)
	err := in.aptInstall(ctx, pkg)
	if err == nil {
		return nil
	}
	var updateErr error
	in.updated.Do(func() {
		fmt.Fprintln(in.log, "devstack: apt-get update")
		updateErr = run(in.apt(ctx, "update"))
	})
	if updateErr != nil {
		return updateErr
	}
	return in.aptInstall(ctx, pkg)
}

func (in *installer) aptInstall(ctx context.Context, pkg string) error {
	return run(in.apt(ctx, "install", "-y", "--no-install-recommends", pkg))
}

func (in *installer) apt(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "apt-get", args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	return cmd
}

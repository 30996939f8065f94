package testkit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
)

// PostgresUser is the system account PostgreSQL runs as when the caller is
// root (the server refuses to run as root).
const PostgresUser = "postgres"

// RunAs returns the user PostgreSQL binaries must run as: PostgresUser for
// root, "" (the current user) otherwise.
func RunAs() string {
	if os.Geteuid() == 0 {
		return PostgresUser
	}
	return ""
}

// Command builds a command that runs name as user through runuser when
// this process is root and user is not empty, else as the current user.
func Command(ctx context.Context, user, name string, args ...string) *exec.Cmd {
	if user != "" && os.Geteuid() == 0 {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", user, "--", name}, args...)...)
	}
	return exec.CommandContext(ctx, name, args...)
}

// Run runs cmd and returns an error carrying its output when it fails.
func Run(cmd *exec.Cmd) error {
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("testkit: %s: %w\n%s", strings.Join(cmd.Args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// ChownTo gives path to the system user name (for a directory PostgreSQL
// writes when the caller is root).
func ChownTo(path, name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("testkit: PostgreSQL refuses to run as root and there is no %q user to run it as (installing the postgresql package creates it): %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("testkit: chown %s to %s: %w", path, name, err)
	}
	return nil
}

// Tail returns the last 15 lines of a log file, for error messages.
func Tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

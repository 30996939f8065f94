package devstack

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/AndrewDonelson/strata/testkit"
)

// running reports whether pid is a live (not zombie) process whose command
// name is comm. Checking the name keeps a recycled pid from being mistaken
// for one of ours.
func running(pid int, comm string) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	name, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || strings.TrimSpace(string(name)) != comm {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state letter follows the parenthesised command name.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	return true
}

// stopProcess sends sig to pid if it is still comm, waits up to grace for it
// to exit, then kills it.
func stopProcess(pid int, comm string, sig syscall.Signal, grace time.Duration) error {
	if !running(pid, comm) {
		return nil
	}
	if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("devstack: signal %s (pid %d): %w", comm, pid, err)
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if !running(pid, comm) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	for range 40 {
		if !running(pid, comm) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("devstack: %s (pid %d) did not exit after SIGKILL", comm, pid)
}

// run runs cmd and returns an error that includes its output when it fails.
func run(cmd *exec.Cmd) error { return testkit.Run(cmd) }

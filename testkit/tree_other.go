//go:build !unix

package testkit

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

var errNoSignals = fmt.Errorf("testkit: process signals need a Unix system: %w", errors.ErrUnsupported)

// SignalTree needs a Unix system.
func SignalTree(root int, sig syscall.Signal) error { return errNoSignals }

// FreezeTree needs a Unix system.
func FreezeTree(root int) error { return errNoSignals }

// ThawTree needs a Unix system.
func ThawTree(root int) error { return errNoSignals }

// KillTree needs a Unix system.
func KillTree(root int, timeout time.Duration) error { return errNoSignals }

// Descendants needs /proc.
func Descendants(root int) []int { return nil }

// Alive needs a Unix system; it reports false.
func Alive(pid int) bool { return false }

// State needs /proc.
func State(pid int) byte { return 0 }

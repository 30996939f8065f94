//go:build unix

package testkit

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A server is a tree of processes: PostgreSQL's postmaster forks a backend
// per connection and each backend calls setsid, so it leaves the
// postmaster's process group and session; Redis forks a child to save. A
// signal to the root process alone, or to its group, misses them: a SIGSTOP
// would leave the backends answering, a SIGKILL would leave them holding
// the shared memory the next postmaster refuses to start on ("pre-existing
// shared memory block is still in use"). So the kit finds the tree from
// /proc (each process's parent) and signals every process in it. Where
// there is no /proc, only the root is signalled.

// SignalTree sends sig to root and to every process below it. The root is
// signalled first, so that after a SIGSTOP it forks no child between the
// listing and the signal; the tree is then listed again until no new
// process appears.
func SignalTree(root int, sig syscall.Signal) error {
	if err := syscall.Kill(root, sig); err != nil {
		return fmt.Errorf("testkit: signal %v to process %d: %w", sig, root, err)
	}
	signalBelow(root, sig)
	return nil
}

// FreezeTree stops root and every process below it (SIGSTOP).
func FreezeTree(root int) error { return SignalTree(root, syscall.SIGSTOP) }

// ThawTree resumes root and every process below it (SIGCONT).
func ThawTree(root int) error { return SignalTree(root, syscall.SIGCONT) }

// signalBelow signals every process below root, listing the tree again
// until it holds nothing new (a child may have forked in the meantime),
// and returns the processes it signalled.
func signalBelow(root int, sig syscall.Signal) []int {
	done := map[int]bool{}
	var all []int
	for range 5 {
		fresh := 0
		for _, pid := range Descendants(root) {
			if done[pid] {
				continue
			}
			done[pid] = true
			all = append(all, pid)
			fresh++
			_ = syscall.Kill(pid, sig) // it may have exited meanwhile
		}
		if fresh == 0 {
			break
		}
	}
	return all
}

// KillTree SIGKILLs root and every process below it, then waits up to
// timeout until all of them are gone (a zombie counts as gone: it holds
// neither memory nor ports). The tree is frozen with SIGSTOP first, so no
// process escapes by forking, and listed before the root dies (its
// children then move to another parent).
func KillTree(root int, timeout time.Duration) error {
	_ = syscall.Kill(root, syscall.SIGSTOP)
	kids := signalBelow(root, syscall.SIGSTOP)
	_ = syscall.Kill(root, syscall.SIGKILL)
	for _, pid := range kids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(timeout)
	for {
		var left []int
		for _, pid := range append([]int{root}, kids...) {
			if Alive(pid) {
				left = append(left, pid)
			}
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testkit: processes %v of the tree of %d survive SIGKILL after %v", left, root, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Descendants lists the processes below root (children, their children,
// ...), from /proc; nil where there is no /proc.
func Descendants(root int) []int {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _, ok := procStat(pid); ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	var out []int
	for queue := []int{root}; len(queue) > 0; queue = queue[1:] {
		out = append(out, children[queue[0]]...)
		queue = append(queue, children[queue[0]]...)
	}
	return out
}

// Alive reports whether pid is a running (or stopped) process; a zombie,
// or a pid that does not exist, is not.
func Alive(pid int) bool {
	if _, state, ok := procStat(pid); ok {
		return state != 'Z' && state != 'X'
	}
	if _, err := os.Stat("/proc/self"); err == nil {
		return false // /proc exists and holds no such process
	}
	return syscall.Kill(pid, 0) == nil
}

// State returns the one-letter state /proc reports for pid ('R', 'S', 'T'
// for stopped, 'Z' for a zombie…), or 0 when it cannot be read.
func State(pid int) byte {
	_, state, _ := procStat(pid)
	return state
}

// procStat reads a process's parent and state from /proc/<pid>/stat.
func procStat(pid int) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces and parentheses
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, f[0][0], err == nil
}

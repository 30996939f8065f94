package testkit_test

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/AndrewDonelson/strata/testkit"
)

// TestSignalTreeReachesAProcessThatLeftTheSession builds the shape of a
// PostgreSQL server — a root with one child in its process group and one
// that called setsid, as every backend does — and checks that SignalTree
// stops and resumes all three, and that KillTree leaves none alive.
func TestSignalTreeReachesAProcessThatLeftTheSession(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the process tree is read from /proc, which only Linux has")
	}
	setsid, err := exec.LookPath("setsid")
	if err != nil {
		t.Skipf("setsid (util-linux) is needed to build the tree: %v", err)
	}
	t.Parallel()
	cmd := exec.Command("/bin/sh", "-c", setsid+" sleep 300 & sleep 300 & wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	root := cmd.Process.Pid
	t.Cleanup(func() { _ = testkit.KillTree(root, 10*time.Second); <-exited })

	// The shell forks the setsid child before that child calls setsid(2),
	// so the tree is complete only once it spans two sessions.
	var tree []int
	testkit.WaitUntil(t, 10*time.Second, "the shell to start both children, one in its own session", func() bool {
		kids := testkit.Descendants(root)
		if len(kids) != 2 {
			return false
		}
		tree = append([]int{root}, kids...)
		n, err := sessionCount(tree)
		return err == nil && n == 2
	})

	if err := testkit.SignalTree(root, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	testkit.WaitUntil(t, 10*time.Second, "every process to be stopped", func() bool { return allState(tree, 'T') })
	if err := testkit.SignalTree(root, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	testkit.WaitUntil(t, 10*time.Second, "every process to run again", func() bool { return noneState(tree, 'T') })

	if err := testkit.KillTree(root, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, pid := range tree {
		if testkit.Alive(pid) {
			t.Errorf("process %d outlived KillTree", pid)
		}
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the root did not exit after KillTree")
	}
}

// sessionCount returns how many sessions the processes belong to.
func sessionCount(pids []int) (int, error) {
	sessions := map[int]bool{}
	for _, pid := range pids {
		sid, err := getsid(pid)
		if err != nil {
			return 0, err
		}
		sessions[sid] = true
	}
	return len(sessions), nil
}

func getsid(pid int) (int, error) {
	sid, _, errno := syscall.RawSyscall(syscall.SYS_GETSID, uintptr(pid), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(sid), nil
}

func allState(pids []int, s byte) bool {
	return !slices.ContainsFunc(pids, func(p int) bool { return testkit.State(p) != s })
}

func noneState(pids []int, s byte) bool {
	return !slices.ContainsFunc(pids, func(p int) bool { return testkit.State(p) == s })
}

// TestFreePortIsBelowTheEphemeralRange: a server restarted in place needs
// its port back, which an outgoing connection may hold if the port is
// ephemeral.
func TestFreePortIsBelowTheEphemeralRange(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		t.Skipf("no ephemeral range to compare with: %v", err)
	}
	var low, high int
	if _, err := fmt.Sscan(string(b), &low, &high); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		p, err := testkit.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if p >= low && p <= high {
			t.Fatalf("FreePort() = %d, inside the ephemeral range %d-%d", p, low, high)
		}
		c, err := testkit.FreeClusterPort()
		if err != nil {
			t.Fatal(err)
		}
		if low > 21000 && (c+10000 >= low || c < 10000) {
			t.Fatalf("FreeClusterPort() = %d, whose pair reaches the ephemeral range from %d", c, low)
		}
	}
}

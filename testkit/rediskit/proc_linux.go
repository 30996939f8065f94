package rediskit

import "syscall"

// procAttr makes the kernel kill a started server if the test binary dies
// without running its clean-ups, so no server outlives its test run.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

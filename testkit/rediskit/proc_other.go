//go:build !linux

package rediskit

import "syscall"

func procAttr() *syscall.SysProcAttr { return nil }

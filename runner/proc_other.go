//go:build !linux

package runner

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// pendingBytes cannot be known here: the drain waits for nothing.
func pendingBytes(fd uintptr) int { return 0 }

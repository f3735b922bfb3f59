//go:build !linux

package listen

import (
	"errors"
	"syscall"
)

func socketInode(syscall.RawConn) (uint64, error) {
	return 0, errors.New("kernel drop counter: only on Linux")
}

func procUDPDrops(uint64) (uint64, bool) { return 0, false }

func sockDrops(syscall.RawConn) (uint64, bool) { return 0, false }

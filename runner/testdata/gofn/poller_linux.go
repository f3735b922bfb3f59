package main

import (
	"runtime"
	"syscall"
)

// waitInEpoll blocks the process's main thread in epoll_wait on an empty
// set, for good: a thread that only a freezer's wakeup can make run.
func waitInEpoll() {
	runtime.LockOSThread()
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		panic(err)
	}
	var ev [1]syscall.EpollEvent
	for {
		syscall.EpollWait(fd, ev[:], -1) // EINTR at each freeze and thaw, where the freezer wakes it
	}
}

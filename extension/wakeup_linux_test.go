package extension_test

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// wakeupRoundTrip is the mean time two threads, on CPUs a and b, take to
// wake each other in turn through pipes, over n round trips: what waking
// a thread costs on this machine within a CPU (a == b) and across two.
// false if the threads cannot be placed so.
func wakeupRoundTrip(a, b, n int) (time.Duration, bool) {
	var ping, pong [2]int
	if unix.Pipe2(ping[:], unix.O_CLOEXEC) != nil || unix.Pipe2(pong[:], unix.O_CLOEXEC) != nil {
		return 0, false
	}
	defer func() {
		for _, fd := range []int{ping[0], ping[1], pong[0], pong[1]} {
			unix.Close(fd)
		}
	}()
	// Each side's thread is locked to its goroutine and placed on its CPU;
	// the thread ends with the goroutine, so the placement goes with it.
	pin := func(cpu int) bool {
		runtime.LockOSThread()
		var set unix.CPUSet
		set.Set(cpu)
		return unix.SchedSetaffinity(0, &set) == nil
	}
	placed, done := make(chan bool), make(chan struct{})
	go func() {
		defer close(done)
		ok := pin(b)
		placed <- ok
		if !ok {
			return
		}
		buf := make([]byte, 1)
		for range n {
			if _, err := unix.Read(ping[0], buf); err != nil {
				return
			}
			if _, err := unix.Write(pong[1], buf); err != nil {
				return
			}
		}
	}()
	ok := <-placed
	measured := make(chan time.Duration, 1)
	go func() {
		if !ok || !pin(a) {
			unix.Close(ping[1]) // the other side's read ends
			ping[1] = -1        // closed: not again at return
			measured <- 0
			return
		}
		buf, start := []byte{1}, time.Now()
		for range n {
			if _, err := unix.Write(ping[1], buf); err != nil {
				break
			}
			if _, err := unix.Read(pong[0], buf); err != nil {
				break
			}
		}
		measured <- time.Since(start)
	}()
	d := <-measured
	<-done
	return d / time.Duration(n), d > 0
}

package extension

import (
	"bytes"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// startTime returns when the process started, given now (a time during
// package initialization): now less the time its main thread, which runs
// package initialization, spent on a CPU or waiting for one
// (/proc/thread-self/schedstat, in nanoseconds from the fork: the CPU
// bandwidth limit's throttling counts as waiting), but never later than
// the kernel's start time allows (/proc/self/stat, in ticks of 10 ms),
// which also covers time the thread was blocked, e.g. paging the program
// in from disk. Without either it is now.
func startTime(now time.Time) time.Time {
	start := now
	if b, err := os.ReadFile("/proc/thread-self/schedstat"); err == nil {
		if f := bytes.Fields(b); len(f) == 3 {
			run, err1 := strconv.ParseInt(string(f[0]), 10, 64)
			wait, err2 := strconv.ParseInt(string(f[1]), 10, 64)
			if err1 == nil && err2 == nil {
				start = now.Add(-time.Duration(run + wait))
			}
		}
	}
	b, err := os.ReadFile("/proc/self/stat")
	var boot unix.Timespec
	if err != nil || unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot) != nil {
		return start
	}
	// The fields after the command's ")": the state is the 3rd field of
	// the line, the start time the 22nd.
	f := bytes.Fields(b[bytes.LastIndexByte(b, ')')+1:])
	if len(f) < 20 {
		return start
	}
	ticks, err := strconv.ParseInt(string(f[19]), 10, 64)
	if err != nil {
		return start
	}
	// The process started before the end of its tick.
	latest := now.Add(-time.Duration(boot.Nano() - (ticks+1)*int64(10*time.Millisecond)))
	if start.After(latest) {
		return latest
	}
	return start
}

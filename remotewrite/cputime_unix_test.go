//go:build unix

package remotewrite

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user+system, all threads: GC included) the test
// process has used. On a shared machine it measures cost where wall time
// measures waiting for a core too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

//go:build unix

package emf

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user and system, all threads) the process used
// so far; benchmarks report it per op because wall time on a shared,
// loaded machine says more about the neighbours than about the code.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

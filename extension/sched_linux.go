package extension

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// yieldToFunction puts the extension's threads under SCHED_BATCH: they
// take their share of the CPU as before, but a thread woken (a DogStatsD
// datagram, the next event, a Telemetry batch) no longer preempts the
// function's thread on its CPU; it runs when that thread blocks or its
// slice ends. Threads made later inherit the policy from the thread that
// makes them, and all of them have it. Any user may choose SCHED_BATCH;
// where the kernel refuses, the threads stay as they were.
func yieldToFunction() error {
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_BATCH}
	done := map[int]bool{}
	// again until no thread is new: one made during a pass by a thread
	// not yet set would not inherit the policy
	for more := true; more; {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		more = false
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil || done[tid] {
				continue
			}
			if err := unix.SchedSetAttr(tid, &attr, 0); err != nil {
				return err
			}
			done[tid], more = true, true
		}
	}
	return nil
}

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
//
// The price is a later read of the agents' sockets: a function that sends
// datagrams in a burst from a thread on the extension's CPU fills the
// receive buffer sooner. So once the kernel drops a datagram, the
// extension takes the normal policy back (stopYielding).
func yieldToFunction() error { return setPolicy(unix.SCHED_BATCH) }

// stopYielding gives the extension's threads the normal policy back.
func stopYielding() error { return setPolicy(unix.SCHED_NORMAL) }

// setPolicy sets every thread's scheduling policy, again until no thread
// is new: one made during a pass by a thread not yet set would not have
// the policy.
func setPolicy(policy uint32) error {
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: policy}
	done := map[int]bool{}
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

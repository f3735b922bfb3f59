package runner

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Freezing an idle environment, as Lambda does between invocations, takes
// the first of these that works:
//
//   - a cgroup v1 freezer hierarchy, where one is mounted and writable:
//     each environment's processes go into a directory of their own under
//     the runner's, frozen through freezer.state;
//   - the freezer of the environment's cgroup v2 (cgroup.freeze), where it
//     has one (procTree);
//   - SIGSTOP and SIGCONT to the environment's process group.
//
// Lambda freezes through a cgroup v1 freezer: CRIU, run inside a Lambda
// function, reports "Detected cgroup V1 freezer"
// (github.com/CRaC/example-lambda issue 7, 2024), and a look inside in 2016
// (Clay Smith) found a cgroup freezer. Each freezer stops the processes
// without a signal they could see, but they differ in what they wake. The
// v1 freezer leaves a thread asleep in a freezable wait where it is:
// futex, nanosleep and epoll_wait, where the Go runtime's idle threads and
// most runtimes' event loops wait, were made freezable in Linux 3.11 so
// that suspend would not wake every sleeping thread (Linux 6.1's rework of
// the freezer kept futex and nanosleep so, not epoll_wait: on newer
// kernels a thread in epoll_wait is woken, and its call ends with EINTR).
// The v2 freezer and SIGSTOP wake every thread of every process to stop
// it, and again to let it go on: CPU time at each invocation that Lambda
// does not spend, the more so the more threads. Here (Linux 6.18), with
// the v2 freezer each of a Go extension's four threads ran about twice per
// invocation; with the v1 freezer its idle thread did not run, its monitor
// thread ran once in three invocations, and the thread in the poller's
// epoll_wait still ran about twice more than without freezing. Stats.Freeze
// says which mechanism is in use, and the summary says when it is not
// Lambda's.

// freezerV1 is the runner's cgroup v1 freezer directory, made once.
type freezerV1 struct {
	once sync.Once
	root string // "" without a cgroup v1 freezer
}

// setup makes the runner's directory under the cgroup v1 freezer
// hierarchy, if there is one it may write; it reports whether it made it
// in this call.
func (z *freezerV1) setup(disabled bool) (made bool) {
	z.once.Do(func() {
		if disabled {
			return
		}
		if dir, err := makeV1Cgroup("freezer"); err == nil {
			z.root, made = dir, true
		}
	})
	return made
}

// attach puts pid into the environment's freezer directory dir, made (as
// name) on first use; it returns the directory, "" without a freezer.
func (z *freezerV1) attach(dir, name string, pid int) string {
	if z.root == "" {
		return ""
	}
	return attachV1Dir(z.root, dir, name, pid, nil)
}

// close thaws and removes the runner's freezer directory and what is left
// in it.
func (z *freezerV1) close() { removeV1Root(z.root) }

// attachFreezer puts pid into the environment's cgroup v1 freezer
// directory, where there is a cgroup v1 freezer.
func (e *env) attachFreezer(pid int) {
	dir := e.freezerDir()
	if d := e.f.r.frz.attach(dir, e.f.def.Name+"-"+e.id+e.incarnation(), pid); d != dir {
		e.frzDir.Store(&d)
	}
}

// freezerDir is the environment's cgroup v1 freezer directory, "" without.
func (e *env) freezerDir() string {
	if p := e.frzDir.Load(); p != nil {
		return *p
	}
	return ""
}

// v1Freeze freezes (or thaws) the environment's cgroup v1 freezer
// directory. It reports whether the environment has one and the write
// took; freezing takes effect asynchronously (FREEZING, then FROZEN).
func (e *env) v1Freeze(on bool) bool {
	dir := e.freezerDir()
	if dir == "" {
		return false
	}
	v := []byte("THAWED")
	if on {
		v = []byte("FROZEN")
	}
	return os.WriteFile(filepath.Join(dir, "freezer.state"), v, 0) == nil
}

// removeFreezer removes the environment's cgroup v1 freezer directory once
// its processes are gone.
func (e *env) removeFreezer() { removeV1(e.freezerDir()) }

// freezeWakesPollers reports whether the freezer in use wakes a thread
// waiting in epoll_wait (Stats.FreezeWakesPollers).
func (r *Runner) freezeWakesPollers() bool {
	switch r.freezeMode() {
	case "cgroup v2 freezer", "SIGSTOP":
		return true
	case "cgroup v1 freezer":
		return kernel61()
	}
	return false
}

// kernel61 reports whether the running kernel is Linux 6.1 or later (read
// once).
var kernel61 = sync.OnceValue(func() bool {
	var u unix.Utsname
	return unix.Uname(&u) == nil && kernelAtLeast(unix.ByteSliceToString(u.Release[:]), 6, 1)
})

// kernelAtLeast reports whether a kernel release ("6.18.44-fc-v1045",
// "4.14.165-102.205.amzn2.x86_64") is major.minor or later; false for one
// it cannot read.
func kernelAtLeast(release string, major, minor int) bool {
	mj, rest, _ := strings.Cut(release, ".")
	mn := rest
	if i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		mn = rest[:i]
	}
	a, err1 := strconv.Atoi(mj)
	b, err2 := strconv.Atoi(mn)
	if err1 != nil || err2 != nil {
		return false
	}
	return a > major || a == major && b >= minor
}

// freezeMode says how idle environments are frozen ("" before the first
// environment).
func (r *Runner) freezeMode() string {
	switch {
	case !r.cfg.freeze:
		return "off"
	case !r.cpu.done.Load():
		return ""
	case r.frz.root != "":
		return "cgroup v1 freezer"
	case r.tree.root != "":
		return "cgroup v2 freezer"
	}
	return "SIGSTOP"
}

package runner

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// memState is the memory measured for one environment: Max Memory Used is
// the peak of the summed resident set size of its process group, sampled
// while it runs, and at least the kernel's high-water mark (VmHWM) of its
// main process.
type memState struct {
	mu      sync.Mutex
	members []int // the group's processes other than the main one
	peak    int64 // bytes
	cgPeak  int64 // the environment cgroup's memory.peak, once it ended
	// answered: the peak includes VmHWM read as the runtime answered the
	// current invocation.
	answered bool
	// statm and status of the main process, kept open: a pread is one
	// system call where open/read/close are three.
	statm, status *os.File
	buf           []byte
	closed        bool
}

// closeFiles closes the kept /proc files; called once the process is reaped.
func (m *memState) closeFiles() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	for _, f := range []*os.File{m.statm, m.status} {
		if f != nil {
			f.Close()
		}
	}
	m.statm, m.status = nil, nil
}

// read preads the kept file *fp (opening path the first time); mu is held.
func (m *memState) read(fp **os.File, path string) []byte {
	if m.closed {
		return nil
	}
	if *fp == nil {
		f, err := os.Open(path)
		if err != nil {
			return nil
		}
		*fp = f
	}
	if m.buf == nil {
		m.buf = make([]byte, 4096)
	}
	n, _ := (*fp).ReadAt(m.buf, 0)
	return m.buf[:n]
}

var pageSize = int64(os.Getpagesize())

// sample measures the group now and returns its resident bytes.
func (e *env) sample() int64 {
	e.mem.mu.Lock()
	defer e.mem.mu.Unlock()
	sum := parseStatm(e.mem.read(&e.mem.statm, "/proc/"+strconv.Itoa(e.pid)+"/statm"))
	for _, p := range e.mem.members {
		sum += statmRSS(p)
	}
	if sum > e.mem.peak {
		e.mem.peak = sum
	}
	return sum
}

// readHWM takes the main process's high-water mark (VmHWM) into the peak
// and returns it (0 when unreadable: exited, or no /proc). answer says that
// the runtime is answering its invocation now: the peak then holds for the
// whole invocation, even if the process dies next (a panic). A call with
// answer false (an invocation's start) forgets an earlier answer.
func (e *env) readHWM(answer bool) int64 {
	e.mem.mu.Lock()
	defer e.mem.mu.Unlock()
	hwm, _ := e.readHWMLocked()
	e.mem.answered = answer && hwm > 0
	return hwm
}

// readHWMLocked reads VmHWM into the peak; readable is false when there is
// no status to read (no /proc, or the process was reaped). mu is held.
func (e *env) readHWMLocked() (hwm int64, readable bool) {
	status := e.mem.read(&e.mem.status, "/proc/"+strconv.Itoa(e.pid)+"/status")
	hwm = parseHWM(status)
	e.mem.peak = max(e.mem.peak, hwm)
	return hwm, len(status) > 0
}

// maxUsed returns the peak so far, with the main process's high-water mark
// (VmHWM). A process that has exited has no VmHWM any more: then it waits
// (bounded) for the process to be reaped (peakAfterExit). approx is true
// when the value is only the peak of samples.
func (e *env) maxUsed() (peak int64, approx bool) {
	e.mem.mu.Lock()
	group := len(e.mem.members) > 0
	e.mem.mu.Unlock()
	if group {
		e.sample()
	}
	e.mem.mu.Lock()
	hwm, readable := e.readHWMLocked()
	noProc := !readable && !e.mem.closed
	peak = e.mem.peak
	e.mem.mu.Unlock()
	switch {
	case hwm > 0:
		return peak, false
	case noProc:
		return peak, true
	}
	select {
	case <-e.exited:
		return e.peakAfterExit()
	case <-time.After(time.Second): // alive but unreadable, or not reaped yet
		return peak, true
	}
}

// sampleMemory samples every running environment; rescan refreshes the
// members of their process groups from /proc. An environment over its
// memory size is ended (Runtime.OutOfMemory).
func (r *Runner) sampleMemory(rescan bool) {
	var busy []*env
	for _, n := range r.names {
		f := r.fns[n]
		f.mu.Lock()
		for e := range f.envs {
			if e.busy.Load() {
				busy = append(busy, e)
			}
		}
		f.mu.Unlock()
	}
	if len(busy) == 0 {
		return
	}
	if rescan {
		groups := make(map[int][]int, len(busy))
		for _, e := range busy {
			groups[e.pgid] = nil
		}
		scanGroups(groups)
		for _, e := range busy {
			var m []int
			for _, p := range groups[e.pgid] {
				if p != e.pid {
					m = append(m, p)
				}
			}
			e.mem.mu.Lock()
			e.mem.members = m
			e.mem.mu.Unlock()
		}
	}
	for _, e := range busy {
		used := e.sample()
		limit := int64(e.f.def.MemoryMB) << 20
		if used > limit && e.busy.Load() {
			e.oom.Store(true)
			r.cfg.logger.Info("environment over its memory size", "function", e.f.def.Name, "environment", e.id, "bytes", used)
			e.kill()
		}
	}
}

// peakAfterExit is the memory peak of an environment that has exited: the
// cgroup's memory.peak when there was one; else the peak of the samples and
// of the high-water marks read while it ran, exact when the last was read
// as the runtime answered. Only when nothing was measured is it the
// kernel's maximum RSS of the reaped process, which counts the runner's own
// memory at the fork: approximate.
func (e *env) peakAfterExit() (peak int64, approx bool) {
	e.mem.mu.Lock()
	peak = max(e.mem.peak, e.mem.cgPeak)
	exact := e.mem.cgPeak > 0 || e.mem.answered
	e.mem.mu.Unlock()
	if peak > 0 || e.cmd == nil || e.cmd.ProcessState == nil {
		return peak, !exact
	}
	if ru, ok := e.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru != nil {
		peak = ru.Maxrss << 10
	}
	return peak, true
}

// scanGroups fills groups (keyed by process group id) with the pids of
// their members.
func scanGroups(groups map[int][]int) {
	eachProc(func(pid int, st procStat) {
		if _, ok := groups[st.pgrp]; ok {
			groups[st.pgrp] = append(groups[st.pgrp], pid)
		}
	})
}

// eachProc calls fn for every process in /proc.
func eachProc(fn func(pid int, st procStat)) {
	buf := make([]byte, 512)
	eachPID(func(pid int) {
		if st, ok := parseStat(readSmall("/proc/"+strconv.Itoa(pid)+"/stat", buf)); ok {
			fn(pid, st)
		}
	})
}

// eachPID calls fn with the pid of every process in /proc.
func eachPID(fn func(pid int)) {
	d, err := os.Open("/proc")
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	for _, n := range names {
		if n[0] < '0' || n[0] > '9' {
			continue
		}
		if pid, err := strconv.Atoi(n); err == nil {
			fn(pid)
		}
	}
}

// procStat is what the runner reads from /proc/PID/stat.
type procStat struct{ ppid, pgrp int }

// parseStat parses "pid (comm) state ppid pgrp ...".
func parseStat(b []byte) (procStat, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 3 {
		return procStat{}, false
	}
	pp, err1 := strconv.Atoi(string(f[1]))
	pg, err2 := strconv.Atoi(string(f[2]))
	return procStat{pp, pg}, err1 == nil && err2 == nil
}

func readSmall(path string, buf []byte) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	n, _ := f.Read(buf)
	f.Close()
	return buf[:n]
}

// statmRSS is the resident set size of pid in bytes (0 when gone).
func statmRSS(pid int) int64 {
	var buf [128]byte
	return parseStatm(readSmall("/proc/"+strconv.Itoa(pid)+"/statm", buf[:]))
}

func parseStatm(b []byte) int64 {
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * pageSize
}

// parseHWM reads VmHWM, the peak resident set size, in bytes, from
// /proc/PID/status (0 when absent).
func parseHWM(b []byte) int64 {
	i := bytes.Index(b, []byte("VmHWM:"))
	if i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+len("VmHWM:"):])
	if len(f) < 1 {
		return 0
	}
	kb, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil {
		return 0
	}
	return kb << 10
}

package runner

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procTree makes a function's whole process tree, children that called
// setsid and daemons that forked away included, die with its environment
// and with the runner, even when the runner is killed with SIGKILL:
//
//   - where a cgroup v2 hierarchy is writable (root, or a delegated
//     subtree), each environment runs in its own cgroup under one cgroup of
//     the runner; ending the environment writes cgroup.kill, which kills
//     every process in it whatever its session or parent;
//   - elsewhere, ending the environment kills its process group, every
//     descendant of its process found in /proc and every process whose
//     environment holds the environment's AWS_LAMBDA_LOG_STREAM_NAME, which
//     all its processes inherit (only one that cleared its environment and
//     left the tree survives);
//   - a watchdog (a small sh process in a process group of its own, not a
//     child of any environment) holds a pipe from the runner; when the
//     runner dies in any way the pipe closes and the watchdog kills the
//     runner's cgroup, the environments' process groups and every process
//     whose AWS_LAMBDA_LOG_STREAM_NAME starts with the runner's id, thaws
//     the runner's cgroup v1 freezer directories (a frozen process dies
//     only once thawed), and removes the cgroups.
//
// The environment's own process also has Pdeathsig (SIGKILL).
type procTree struct {
	disabled bool // WithCgroups(false)

	once  sync.Once
	root  string // the runner's cgroup directory; "" without cgroups
	mu    sync.Mutex
	wd    *os.File      // the watchdog's stdin
	ready chan struct{} // closed once the watchdog started (or failed to)
	cmd   *exec.Cmd     // the watchdog, once ready
}

// watchdog is the watchdog's script: it reads "+ PGID", "- PGID" and
// "F DIR" (the runner's cgroup v1 freezer directory) lines until EOF (the
// runner ended), then kills what is left: the process groups, the
// processes marked with the runner's id ($2) and the cgroup ($1, may be
// empty), which it removes; it thaws and removes the freezer directories.
const watchdog = `cg=$1
id=$2
groups=
fz=
while read -r op pg; do
	case $op in
	+) groups="$groups $pg" ;;
	-) n=; for g in $groups; do [ "$g" = "$pg" ] || n="$n $g"; done; groups=$n ;;
	F) fz=$pg ;;
	esac
done
for g in $groups; do kill -9 -"$g" 2>/dev/null; done
for f in $(grep -lzs "^AWS_LAMBDA_LOG_STREAM_NAME=.*/\[\$LATEST\]$id" /proc/[0-9]*/environ); do
	p=${f#/proc/}
	kill -9 "${p%/environ}" 2>/dev/null
done
if [ -n "$fz" ]; then
	for s in "$fz"/*/freezer.state; do [ -f "$s" ] && echo THAWED > "$s" 2>/dev/null; done
	i=0
	while [ -d "$fz" ] && [ $i -lt 50 ]; do
		for d in "$fz"/*/; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
		rmdir "$fz" 2>/dev/null && break
		sleep 0.1
		i=$((i+1))
	done
fi
[ -n "$cg" ] || exit 0
echo 1 > "$cg/cgroup.kill" 2>/dev/null
i=0
while [ -d "$cg" ] && [ $i -lt 50 ]; do
	for d in "$cg"/*/; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
	rmdir "$cg" 2>/dev/null && exit 0
	sleep 0.1
	i=$((i+1))
done
`

// setup creates the runner's cgroup and starts the watchdog, once, before
// the first environment starts. Failures leave the fallbacks in place.
func (t *procTree) setup(r *Runner) {
	t.once.Do(func() {
		if !t.disabled {
			root, err := makeRunnerCgroup()
			if err != nil {
				r.cfg.logger.Debug("no cgroup per environment; ending process groups and their descendants instead", "err", err)
			} else {
				t.root = root
			}
		}
		sh, err := exec.LookPath("sh")
		if err != nil {
			r.cfg.logger.Warn("no sh for the watchdog: if lambdabridge is killed, functions' children may survive it", "err", err)
			return
		}
		pr, pw, err := os.Pipe()
		if err != nil {
			return
		}
		// The pipe holds what the runner tells the watchdog until it reads:
		// the first environment need not wait for the watchdog to start.
		t.wd, t.ready = pw, make(chan struct{})
		go func() {
			defer close(t.ready)
			defer pr.Close()
			cmd := exec.Command(sh, "-c", watchdog, "lambdabridge-watchdog", t.root, r.id)
			cmd.Stdin = pr
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // no terminal signals
			if err := cmd.Start(); err != nil {
				r.cfg.logger.Warn("watchdog not started: if lambdabridge is killed, functions' children may survive it", "err", err)
				t.mu.Lock()
				t.wd.Close()
				t.wd = nil
				t.mu.Unlock()
				return
			}
			t.cmd = cmd
		}()
	})
}

// makeRunnerCgroup creates a cgroup for the runner under its own cgroup v2.
func makeRunnerCgroup() (string, error) {
	mnt, err := cgroup2Mount()
	if err != nil {
		return "", err
	}
	own, err := ownCgroup()
	if err != nil {
		return "", err
	}
	b := make([]byte, 4)
	rand.Read(b)
	dir := filepath.Join(mnt, own, "lambdabridge-"+strconv.Itoa(os.Getpid())+"-"+hex.EncodeToString(b))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, "cgroup.kill")); err != nil {
		os.Remove(dir)
		return "", fmt.Errorf("cgroup.kill: %w (kernel before 5.14)", err)
	}
	return dir, nil
}

// cgroup2Mount finds where the cgroup v2 hierarchy is mounted.
func cgroup2Mount() (string, error) {
	mnt, err := findMount(func(fstype, _ string) bool { return fstype == "cgroup2" })
	if err != nil {
		return "", fmt.Errorf("no cgroup2 file system mounted")
	}
	return mnt, nil
}

// ownCgroup is the runner's cgroup v2 path ("0::/path").
func ownCgroup() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("not in a cgroup v2 hierarchy")
}

// procAttr returns the attributes of the environment's process: its own
// process group, Pdeathsig and, when cgroup is true and the runner has
// cgroups, its own cgroup (CLONE_INTO_CGROUP; call doneStarting after).
func (e *env) procAttr(cgroup bool) *syscall.SysProcAttr {
	attr := sysProcAttr()
	t := &e.f.r.tree
	if !cgroup || t.root == "" {
		return attr
	}
	dir := filepath.Join(t.root, safeName(e.f.def.Name+"-"+e.id+e.incarnation()))
	made := e.cgDir == "" // else an extension of the environment made it
	if made {
		if err := os.Mkdir(dir, 0o755); err != nil {
			return attr
		}
		e.f.r.cpu.limitV2(dir, e.f.def.MemoryMB)
	}
	fd, err := syscall.Open(dir, syscall.O_DIRECTORY|syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		if made {
			os.Remove(dir)
		}
		return attr
	}
	e.cgDir, e.cgFD = dir, fd
	attr.UseCgroupFD, attr.CgroupFD = true, fd
	return attr
}

// doneStarting closes the cgroup's descriptor; without a process (ok
// false) it removes the cgroup too.
func (e *env) doneStarting(ok bool) {
	if e.cgDir == "" {
		return
	}
	syscall.Close(e.cgFD)
	if ok {
		e.cgUsed = true
	} else if !e.cgUsed {
		os.Remove(e.cgDir)
		e.cgDir = ""
	}
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

// rootDir is the runner's cgroup v2 directory ("" without).
func (t *procTree) rootDir() string { return t.root }

// tell sends one line to the watchdog.
func (t *procTree) tell(op string, pgid int) { t.tellArg(op, strconv.Itoa(pgid)) }

// tellArg sends the watchdog one line of an operation and its argument.
func (t *procTree) tellArg(op, arg string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.wd != nil {
		t.wd.WriteString(op + " " + arg + "\n")
	}
}

// close ends the watchdog (it removes the runner's cgroup) and waits for it.
func (t *procTree) close() {
	if t.ready != nil {
		<-t.ready
	}
	t.mu.Lock()
	wd, cmd := t.wd, t.cmd
	t.wd = nil
	t.mu.Unlock()
	if wd == nil {
		if t.root != "" {
			os.Remove(t.root)
		}
		return
	}
	wd.Close()
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
	if t.root != "" {
		os.Remove(t.root)
	}
}

// killTree ends an environment's processes: its cgroup, or the
// descendants of its process and the processes marked with its log stream
// name (the caller kills the process group). Called with e.pidMu held.
func (e *env) killTree() {
	if e.cgDir != "" {
		if os.WriteFile(filepath.Join(e.cgDir, "cgroup.kill"), []byte("1"), 0) == nil {
			return
		}
	}
	pids := marked("AWS_LAMBDA_LOG_STREAM_NAME=" + e.logStream)
	if e.pid > 0 { // 0 (no runtime started, only extensions) would be every process's ancestor
		pids = append(pids, descendants(e.pid)...)
	}
	for _, p := range pids {
		syscall.Kill(p, syscall.SIGKILL)
		syscall.Kill(p, syscall.SIGCONT)
	}
}

// cgroupFreeze freezes (or thaws) the environment's cgroup v2 through its
// cgroup.freeze, as Lambda freezes an environment: its processes stop
// without a signal they could see or handle. It reports whether the
// environment has such a cgroup and the write took.
func (e *env) cgroupFreeze(on bool) bool {
	if e.cgDir == "" {
		return false
	}
	v := []byte("0")
	if on {
		v = []byte("1")
	}
	return os.WriteFile(filepath.Join(e.cgDir, "cgroup.freeze"), v, 0) == nil
}

// marked lists the processes (of this user) whose environment holds the
// variable kv ("K=V"), other than this one.
func marked(kv string) []int {
	if strings.HasSuffix(kv, "=") { // an empty value marks no environment
		return nil
	}
	var out []int
	me := os.Getpid()
	want := []byte(kv)
	eachPID(func(pid int) {
		if pid == me {
			return
		}
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
		if err != nil {
			return
		}
		for _, v := range bytes.Split(b, []byte{0}) {
			if bytes.Equal(v, want) {
				out = append(out, pid)
				return
			}
		}
	})
	return out
}

// removeCgroup waits (bounded) for the environment's cgroup to empty after
// cgroup.kill, keeps its memory.peak when the memory controller is there,
// and removes it.
func (e *env) removeCgroup() {
	if e.cgDir == "" {
		return
	}
	if b, err := os.ReadFile(filepath.Join(e.cgDir, "memory.peak")); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
			e.mem.mu.Lock()
			e.mem.cgPeak = n
			e.mem.mu.Unlock()
		}
	}
	for range 200 {
		if os.Remove(e.cgDir) == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.f.r.cfg.logger.Warn("environment cgroup not removed: processes left in it", "function", e.f.def.Name, "environment", e.id, "cgroup", e.cgDir)
}

// descendants lists the processes descending from pid (not pid itself).
func descendants(pid int) []int {
	if pid <= 1 { // 0 and init are everyone's ancestors: never the tree of an environment
		return nil
	}
	kids := map[int][]int{}
	eachProc(func(p int, st procStat) { kids[st.ppid] = append(kids[st.ppid], p) })
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range kids[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

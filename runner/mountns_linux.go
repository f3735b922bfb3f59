package runner

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The layers of a function are seen at /opt and its code at /var/task, as
// on Lambda, through a private mount namespace per process of the
// environment (the runtime and each external extension): as root, the
// process unshares its mount namespace (its mounts are private, the host
// sees none of them); otherwise it also enters a new user namespace where
// it is root. A small sh script then bind-mounts (read-only) the code at
// /var/task and the layer at /opt (several layers: an overlay, the last
// layer on top), enters /var/task and executes the process. The mount
// points /opt and /var/task are created on the host when missing (empty
// folders). Where that is impossible (no namespaces, no mount(8)), the
// runner says so once and the function runs with its code where it is
// (LAMBDA_TASK_ROOT) and its layers' folders in LAMBDABRIDGE_OPT.
//
// As root the mounts are made once, before any environment, for each set
// of layers and code folder (spawnerFor), and each process is started in
// that namespace directly: on Lambda /opt and /var/task are in place before a
// process starts, and the script's sh and mount(8) processes, about 9 ms
// of CPU per process here, would otherwise count in the environment's
// init phase and its CPU share (more than a 256 MB environment may use in
// a period), and in the init time an extension measures from its start.

// nsScript mounts $1 (layer folders, ':' between them, top first) at /opt
// and $2 at /var/task, then executes the rest of its arguments.
const nsScript = `set -e
opt=$1 task=$2
shift 2
mount --make-rprivate / 2>/dev/null || :
[ -d /opt ] || mkdir /opt
[ -d /var/task ] || mkdir -p /var/task
mount --bind "$task" /var/task
mount -o remount,bind,ro /var/task 2>/dev/null || :
case $opt in
*:*) mount -t overlay lambdabridge-layers -o "lowerdir=$opt" /opt ;;
*) mount --bind "$opt" /opt; mount -o remount,bind,ro /opt 2>/dev/null || : ;;
esac
cd /var/task
exec "$@"`

// nsAttr makes attr start the process in a private mount namespace (and a
// user namespace when not root).
func nsAttr(attr *syscall.SysProcAttr) {
	if os.Geteuid() == 0 {
		attr.Unshareflags |= syscall.CLONE_NEWNS
		return
	}
	attr.Cloneflags |= syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS
	attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
	attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
	attr.GidMappingsEnableSetgroups = false
}

// nsArgv wraps argv so that it runs with layers at /opt and task at
// /var/task.
func nsArgv(sh string, layers []string, task string, argv []string) []string {
	top := make([]string, len(layers))
	for i, l := range layers {
		top[len(layers)-1-i] = l
	}
	return append([]string{sh, "-c", nsScript, "lambdabridge-mount", strings.Join(top, ":"), task}, argv...)
}

// probeMountNamespace checks that the mounts work here; it returns the
// path of sh, or why not.
func probeMountNamespace(layers []string) (string, string) {
	sh, why := mountTools(layers)
	if why != "" {
		return "", why
	}
	return probeWith(sh, layers)
}

// probeWith is probeMountNamespace once mountTools found sh.
func probeWith(sh string, layers []string) (string, string) {
	dir, err := os.MkdirTemp("", "lambdabridge-probe-")
	if err != nil {
		return "", err.Error()
	}
	defer os.RemoveAll(dir)
	probe := layers
	if len(probe) == 0 {
		probe = []string{dir}
	}
	ns, err := newMountNamespace(sh, probe, dir)
	if err != nil {
		return "", err.Error()
	}
	ns.Close()
	return sh, ""
}

// mountTools returns the path of sh, or why the mount script cannot run
// for layers.
func mountTools(layers []string) (string, string) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		return "", "no sh: " + err.Error()
	}
	if _, err := exec.LookPath("mount"); err != nil {
		return "", "no mount(8): " + err.Error()
	}
	for _, l := range layers {
		if strings.Contains(l, ":") {
			return "", "layer folder " + l + " has a ':' in its path"
		}
	}
	return sh, ""
}

// newMountNamespace makes a private mount namespace with layers at /opt
// and task at /var/task: a holder process runs the mount script, says it
// is done and waits; the namespace is kept by the descriptor returned, and
// the holder ends.
func newMountNamespace(sh string, layers []string, task string) (*os.File, error) {
	argv := nsArgv(sh, layers, task, []string{sh, "-c", "echo mounted; read -r _"})
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	nsAttr(cmd.SysProcAttr)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("mounting in a private namespace failed: %w", err)
	}
	defer func() {
		in.Close() // the holder's read ends
		_ = cmd.Wait()
	}()
	ready := make(chan error, 1)
	go func() {
		_, err := bufio.NewReader(out).ReadString('\n')
		ready <- err
	}()
	select {
	case err := <-ready:
		if err != nil {
			_ = cmd.Process.Kill()
			return nil, fmt.Errorf("mounting in a private namespace failed: %s", strings.TrimSpace(stderr.String()))
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		return nil, errors.New("mounting in a private namespace did not finish in 10 s")
	}
	return os.Open("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/ns/mnt")
}

// A spawner starts processes from a thread that entered a function's
// mount namespace (their root and working folder are the namespace's).
//
// Its thread never ends: a thread that ends sends the parent-death signal
// (Pdeathsig, SIGKILL here) to every process it started, and the thread
// locked for the spawner may have started others before (another runner's
// environments, a test's Prometheus). So each namespace is made once per
// program, for a pair of layers and code folder (spawnerFor), and its
// thread stays: one per pair for the program's life.
type spawner struct {
	reqs chan spawnRequest
}

type spawnRequest struct {
	cmd *exec.Cmd
	err chan error
}

// spawners are the namespaces made so far, by layers and code folder.
var spawners struct {
	mu sync.Mutex
	m  map[string]*spawner
}

// spawnerFor returns the spawner of the namespace with layers at /opt and
// task at /var/task, made at the first call (by sh, the mount script).
func spawnerFor(sh string, layers []string, task string) (*spawner, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("not root: entering a namespace owned by a user namespace needs a single-threaded process")
	}
	// A folder removed and made again is another one (its mount would
	// show the removed one): the key holds each folder's inode.
	var key strings.Builder
	for _, dir := range append(slices.Clone(layers), task) {
		var st unix.Stat_t
		_ = unix.Stat(dir, &st)
		fmt.Fprintf(&key, "%s\x00%d:%d\x00", dir, st.Dev, st.Ino)
	}
	spawners.mu.Lock()
	defer spawners.mu.Unlock()
	if s := spawners.m[key.String()]; s != nil {
		return s, nil
	}
	ns, err := newMountNamespace(sh, layers, task)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	s, err := newSpawner(ns)
	if err != nil {
		return nil, err
	}
	if spawners.m == nil {
		spawners.m = map[string]*spawner{}
	}
	spawners.m[key.String()] = s
	return s, nil
}

// newSpawner starts the spawner's thread in the namespace ns (which the
// caller may close once it returns).
func newSpawner(ns *os.File) (*spawner, error) {
	s := &spawner{reqs: make(chan spawnRequest)}
	entered := make(chan error, 1)
	goLocked(isMainThread, nil, func() { // never returns: the thread stays locked
		err := unix.Unshare(unix.CLONE_FS)
		if err != nil {
			err = fmt.Errorf("unshare the thread's file system attributes: %w", err)
		} else if err = unix.Setns(int(ns.Fd()), unix.CLONE_NEWNS); err != nil {
			err = fmt.Errorf("enter the mount namespace: %w", err)
		}
		entered <- err
		if err != nil {
			select {} // the thread may hold a changed view of the files: never reused
		}
		for r := range s.reqs {
			r.err <- r.cmd.Start()
		}
	})
	if err := <-entered; err != nil {
		return nil, err
	}
	return s, nil
}

// start starts cmd in the namespace.
func (s *spawner) start(cmd *exec.Cmd) error {
	r := spawnRequest{cmd: cmd, err: make(chan error, 1)}
	s.reqs <- r
	return <-r.err
}

// isMainThread reports whether the calling thread is the program's main
// thread: /proc/self shows that thread's namespaces, so it must stay in
// the program's (the runner reads /proc/self/mountinfo, and tools such as
// nsenter -t PID enter the main thread's).
func isMainThread() bool { return unix.Gettid() == unix.Getpid() }

// goLocked runs f in a new goroutine locked to a thread for which avoid
// is false. A goroutine that locked a thread to avoid holds it while
// another one locks a thread, which therefore cannot be the same, and
// then lets it go (closing held, when set, tells the goroutine before it
// that this one locked its thread).
func goLocked(avoid func() bool, held chan<- struct{}, f func()) {
	go func() {
		runtime.LockOSThread()
		if held != nil {
			close(held)
		}
		if avoid() {
			next := make(chan struct{})
			goLocked(avoid, next, f)
			<-next
			runtime.UnlockOSThread()
			return
		}
		f()
	}()
}

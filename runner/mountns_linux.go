package runner

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
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

// probeMountNamespace checks once that the mounts work here; it returns
// the path of sh, or why not.
func probeMountNamespace(layers []string) (string, string) {
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
	dir, err := os.MkdirTemp("", "lambdabridge-probe-")
	if err != nil {
		return "", err.Error()
	}
	defer os.RemoveAll(dir)
	probe := layers
	if len(probe) == 0 {
		probe = []string{dir}
	}
	argv := nsArgv(sh, probe, dir, []string{"test", "-d", "/opt"})
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	nsAttr(cmd.SysProcAttr)
	done := make(chan []byte, 1)
	go func() {
		out, err := cmd.CombinedOutput()
		if err != nil {
			out = append(out, []byte(" ("+err.Error()+")")...)
		} else {
			out = nil
		}
		done <- out
	}()
	select {
	case out := <-done:
		if out != nil {
			return "", "mounting in a private namespace failed: " + strings.TrimSpace(string(out))
		}
		return sh, ""
	case <-time.After(10 * time.Second):
		return "", "mounting in a private namespace did not finish in 10 s"
	}
}

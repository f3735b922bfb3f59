package runner

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// CPU in proportion to memory, as on Lambda (one vCPU at 1,769 MB): each
// environment's CPU bandwidth is limited to MemoryMB/1769 CPUs, through
// cgroup v2's cpu.max in the environment's cgroup where the cpu controller
// can be enabled there, else through a cgroup v1 cpu controller (its
// cpu.cfs_quota_us) where one is mounted and writable. Elsewhere the CPU
// is not limited, and Stats.CPU says why.
//
// The init phase has at least one vCPU whatever the memory: on-demand
// Lambda functions "use a full vCPU (non-throttled)" during their
// initialization, limited to 10 seconds (AWS's Serverless Land guide,
// "Effectively running Java on Serverless: Utilize initialization
// phase"; provisioned concurrency has no such burst, and the runner has
// no provisioned concurrency). The environment's cgroup starts with that
// quota, and endInitCPU sets the memory's share when the init phase ends.

// cpuPeriod is the CFS period of the quota, in microseconds.
const cpuPeriod = 100000

// vCPUs returns Lambda's CPU share for a memory size.
func vCPUs(memoryMB int) float64 { return float64(memoryMB) / 1769 }

// cpuQuota is the CFS quota per period for a memory size (at least 1 ms).
func cpuQuota(memoryMB int) int {
	return max(1000, int(vCPUs(memoryMB)*cpuPeriod+0.5))
}

// initQuota is the CFS quota per period during an init phase: one vCPU,
// or the memory's share where that is more.
func initQuota(memoryMB int) int { return max(cpuPeriod, cpuQuota(memoryMB)) }

// cpuLimiter decides once how the runner limits CPU.
type cpuLimiter struct {
	once   sync.Once
	done   atomic.Bool // mode and why are set
	mode   string      // "v2", "v1" or "" (not limited)
	why    string      // why not limited
	v1Root string      // the runner's cgroup v1 cpu directory
}

// setup chooses the mechanism; v2Root is the runner's cgroup v2 ("" for
// none).
func (c *cpuLimiter) setup(v2Root string, disabled bool) {
	c.once.Do(func() {
		if disabled {
			c.why = "cgroups are off"
			return
		}
		if v2Root != "" {
			if b, err := os.ReadFile(filepath.Join(v2Root, "cgroup.controllers")); err == nil && hasWord(string(b), "cpu") {
				if os.WriteFile(filepath.Join(v2Root, "cgroup.subtree_control"), []byte("+cpu"), 0) == nil {
					c.mode = "v2"
					return
				}
			}
		}
		dir, err := makeV1CPUCgroup()
		if err != nil {
			c.why = "no cgroup v2 cpu controller and " + err.Error()
			return
		}
		c.mode, c.v1Root = "v1", dir
	})
	c.done.Store(true)
}

func hasWord(s, w string) bool {
	for _, f := range strings.Fields(s) {
		if f == w {
			return true
		}
	}
	return false
}

// makeV1CPUCgroup creates the runner's directory under a cgroup v1 cpu
// hierarchy.
func makeV1CPUCgroup() (string, error) {
	dir, err := makeV1Cgroup("cpu")
	if err != nil {
		return "", fmt.Errorf("cgroup v1 cpu: %w", err)
	}
	return dir, nil
}

// makeV1Cgroup creates the runner's directory (lambdabridge-PID-random)
// under the runner's own cgroup in the cgroup v1 hierarchy of controller,
// after removing those of runners that were killed before they could.
func makeV1Cgroup(controller string) (string, error) {
	mnt, err := v1Mount(controller)
	if err != nil {
		return "", err
	}
	own := ownV1Cgroup(controller)
	removeStaleV1(filepath.Join(mnt, own))
	b := make([]byte, 4)
	rand.Read(b)
	dir := filepath.Join(mnt, own, "lambdabridge-"+strconv.Itoa(os.Getpid())+"-"+hex.EncodeToString(b))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

// ownV1Cgroup is the runner's cgroup in the cgroup v1 hierarchy of
// controller ("/" when /proc/self/cgroup does not say).
func ownV1Cgroup(controller string) string {
	own := "/"
	if b, err := os.ReadFile("/proc/self/cgroup"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.SplitN(l, ":", 3); len(f) == 3 && hasWord(strings.ReplaceAll(f[1], ",", " "), controller) {
				own = f[2]
			}
		}
	}
	return own
}

// v1Mount finds a cgroup v1 hierarchy with the controller.
func v1Mount(controller string) (string, error) {
	mnt, err := findMount(func(fstype, super string) bool {
		return fstype == "cgroup" && hasWord(strings.ReplaceAll(super, ",", " "), controller)
	})
	if err != nil {
		return "", fmt.Errorf("no cgroup v1 %s controller mounted", controller)
	}
	return mnt, nil
}

// findMount returns the mount point of the first mount whose file system
// type and super block options match (from /proc/self/mountinfo).
func findMount(match func(fstype, super string) bool) (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent maj:min root mountpoint options ... - fstype source super
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fs := strings.Fields(post)
		if !ok || len(fs) < 1 {
			continue
		}
		super := ""
		if len(fs) >= 3 {
			super = fs[2]
		}
		if p := strings.Fields(pre); match(fs[0], super) && len(p) >= 5 {
			return p[4], nil
		}
	}
	return "", os.ErrNotExist
}

// describe says how an environment of memoryMB is limited.
func (c *cpuLimiter) describe(memoryMB int) string {
	if !c.done.Load() {
		return "" // no environment started yet
	}
	if c.mode == "" {
		return "not limited (" + c.why + ")"
	}
	s := strconv.FormatFloat(vCPUs(memoryMB), 'f', 3, 64) + " vCPU (cgroup " + c.mode + " cpu quota)"
	if initQuota(memoryMB) > cpuQuota(memoryMB) {
		s += ", 1 vCPU in the init phase"
	}
	return s
}

// limitV2 writes the init phase's cpu.max into an environment's new cgroup
// v2 directory.
func (c *cpuLimiter) limitV2(dir string, memoryMB int) {
	if c.mode == "v2" {
		c.setQuota(dir, initQuota(memoryMB))
	}
}

// setQuota writes an environment's CFS quota per period into its cgroup
// directory of the mechanism in use (cpu.max, or v1's cpu.cfs_quota_us).
func (c *cpuLimiter) setQuota(dir string, quota int) {
	switch c.mode {
	case "v2":
		os.WriteFile(filepath.Join(dir, "cpu.max"), []byte(strconv.Itoa(quota)+" "+strconv.Itoa(cpuPeriod)), 0)
	case "v1":
		os.WriteFile(filepath.Join(dir, "cpu.cfs_quota_us"), []byte(strconv.Itoa(quota)), 0)
	}
}

// attachV1 puts pid into the environment's cgroup v1 cpu directory
// (made on first use); it returns the directory.
func (c *cpuLimiter) attachV1(dir string, name string, memoryMB, pid int) string {
	if c.mode != "v1" {
		return ""
	}
	return attachV1Dir(c.v1Root, dir, name, pid, func(dir string) {
		os.WriteFile(filepath.Join(dir, "cpu.cfs_period_us"), []byte(strconv.Itoa(cpuPeriod)), 0)
		c.setQuota(dir, initQuota(memoryMB))
	})
}

// attachV1Dir puts pid into an environment's directory under a runner's
// cgroup v1 directory root: dir, or on first use (dir "") root/name, made
// if missing and handed to first. It returns the directory, "" when it
// cannot be made.
func attachV1Dir(root, dir, name string, pid int, first func(dir string)) string {
	if dir == "" {
		dir = filepath.Join(root, safeName(name))
		if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
			return ""
		}
		if first != nil {
			first(dir)
		}
	}
	os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0)
	return dir
}

// close removes the runner's cgroup v1 cpu directory and what is left in
// it.
func (c *cpuLimiter) close() { removeV1Root(c.v1Root) }

// removeV1Root removes a runner's cgroup v1 directory and the environments'
// directories left in it (removeV1Dirs); bounded: a process that is still
// dying keeps its directory busy.
func removeV1Root(root string) {
	if root == "" {
		return
	}
	for range 100 {
		if removeV1Dirs(root) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// removeV1Dirs removes the environments' directories in a runner's cgroup
// v1 directory, each thawed first where it is a freezer's (a frozen process
// dies only once thawed; elsewhere the write fails), then the runner's; it
// reports whether that is gone.
func removeV1Dirs(root string) bool {
	subs, _ := filepath.Glob(filepath.Join(root, "*", "cgroup.procs"))
	for _, p := range subs {
		os.WriteFile(filepath.Join(filepath.Dir(p), "freezer.state"), []byte("THAWED"), 0)
		os.Remove(filepath.Dir(p))
	}
	err := os.Remove(root)
	return err == nil || os.IsNotExist(err)
}

// removeV1 removes an environment's cgroup v1 cpu directory once its
// processes are gone (a process killed a moment ago may still be in it:
// it tries for up to a second).
func removeV1(dir string) {
	if dir == "" {
		return
	}
	for range 100 {
		if err := os.Remove(dir); err == nil || os.IsNotExist(err) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// setupCPU sets up the runner's process tree and CPU limits (once).
func (e *env) setupCPU() {
	r := e.f.r
	r.tree.setup(r)
	if r.frz.setup(r.tree.disabled) {
		r.tree.tellArg("F", r.frz.root)
	}
	r.cpu.setup(r.tree.rootDir(), r.tree.disabled)
}

// attachCPU limits pid's CPU through cgroup v1 when that is the mechanism.
func (e *env) attachCPU(pid int) {
	e.cpuDir = e.f.r.cpu.attachV1(e.cpuDir, e.f.def.Name+"-"+e.id, e.f.def.MemoryMB, pid)
}

// endInitCPU gives the environment its memory's share of CPU once its init
// phase has ended (it had one vCPU during it).
func (e *env) endInitCPU() {
	quota := cpuQuota(e.f.def.MemoryMB)
	if quota == initQuota(e.f.def.MemoryMB) {
		return
	}
	dir := e.cgDir // the mechanism's: cgroup v2's directory, or v1's cpu one
	if e.f.r.cpu.mode == "v1" {
		dir = e.cpuDir
	}
	if dir != "" {
		e.f.r.cpu.setQuota(dir, quota)
	}
}

// removeCPU removes the environment's cgroup v1 cpu directory.
func (e *env) removeCPU() { removeV1(e.cpuDir) }

// removeStaleV1 removes the (empty) cgroup v1 directories of runners that
// were killed before they could (lambdabridge-PID-*, PID gone). A stale
// freezer directory is thawed first: its processes were killed by the
// runner's watchdog, and a frozen process dies only once thawed.
func removeStaleV1(parent string) {
	dirs, _ := filepath.Glob(filepath.Join(parent, "lambdabridge-*-*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.Split(filepath.Base(d), "-")[1])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
			continue
		}
		removeV1Dirs(d)
	}
}

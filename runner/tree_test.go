//go:build linux

package runner

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
)

// treePids are the processes of a spawn invocation: the environment's
// process, a child in its process group, one in its own session holding
// stdout (setsid) and a daemon that forked away (setsid -f).
type treePids map[string]int

func spawnTree(t *testing.T, r *Runner) treePids {
	t.Helper()
	res := invoke(t, r, "gofn", `{"action":"spawn"}`)
	if res.Failed() {
		t.Fatalf("spawn: %s", res.Payload)
	}
	return parseTree(t, res.Payload)
}

func parseTree(t *testing.T, b []byte) treePids {
	t.Helper()
	var p treePids
	if err := json.Unmarshal(b, &p); err != nil || len(p) != 4 {
		t.Fatalf("spawn answered %s (%v)", b, err)
	}
	t.Cleanup(func() { // whatever the test found, leave nothing behind
		for _, pid := range p {
			if processAlive(pid) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	return p
}

// processAlive: the process exists and is not a zombie.
func processAlive(pid int) bool {
	s := procState(pid)
	return s != "" && s != "Z" && s != "X"
}

// survivors waits (up to 10 s) for the processes of p to end and returns
// the names of those still alive.
func survivors(p treePids) []string {
	var left []string
	for range 200 {
		left = left[:0]
		for name, pid := range p {
			if processAlive(pid) {
				left = append(left, name)
			}
		}
		if len(left) == 0 {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	sort.Strings(left)
	return left
}

func needCgroups(t *testing.T) {
	t.Helper()
	dir, err := makeRunnerCgroup()
	if err != nil {
		t.Skipf("no writable cgroup v2 hierarchy here (%v): the fallback is tested without", err)
	}
	os.Remove(dir)
}

// TestTreeDiesWithEnvironment: every process a function started, in its
// group, in its own session or forked away as a daemon, ends when its
// environment ends, whether the runner closes it or the runtime crashes.
func TestTreeDiesWithEnvironment(t *testing.T) {
	needCgroups(t)
	t.Run("close", func(t *testing.T) {
		r, _ := newTestRunner(t, []function.Definition{goDef(t)})
		p := spawnTree(t, r)
		r.Close()
		if left := survivors(p); left != nil {
			t.Errorf("alive after Close: %v of %v", left, p)
		}
	})
	t.Run("crash", func(t *testing.T) {
		r, _ := newTestRunner(t, []function.Definition{goDef(t)})
		p := spawnTree(t, r)
		if res := invoke(t, r, "gofn", `{"action":"crash"}`); res.ErrorType != "Runtime.ExitError" {
			t.Fatalf("%+v", res)
		}
		if left := survivors(p); left != nil {
			t.Errorf("alive after the environment crashed: %v of %v", left, p)
		}
	})
}

// TestTreeDiesWithEnvironmentNoCgroup: without cgroups, the process group,
// the descendants of the environment's process and the processes that
// inherited its AWS_LAMBDA_LOG_STREAM_NAME (the daemon) end with it.
func TestTreeDiesWithEnvironmentNoCgroup(t *testing.T) {
	t.Run("close", func(t *testing.T) {
		r, _ := newTestRunner(t, []function.Definition{goDef(t)}, WithCgroups(false))
		p := spawnTree(t, r)
		r.Close()
		if left := survivors(p); left != nil {
			t.Errorf("alive after Close: %v of %v", left, p)
		}
	})
	t.Run("crash", func(t *testing.T) {
		r, _ := newTestRunner(t, []function.Definition{goDef(t)}, WithCgroups(false))
		p := spawnTree(t, r)
		if res := invoke(t, r, "gofn", `{"action":"crash"}`); res.ErrorType != "Runtime.ExitError" {
			t.Fatalf("%+v", res)
		}
		if left := survivors(p); left != nil {
			t.Errorf("alive after the environment crashed: %v of %v", left, p)
		}
	})
}

var treeHelperPath string

// treeHelper builds testdata/treehelper, a lambdabridge stand-in.
func treeHelper(t *testing.T) string {
	t.Helper()
	goBootstrap(t) // sets buildDir
	if treeHelperPath != "" {
		return treeHelperPath
	}
	out := filepath.Join(buildDir, "treehelper")
	if b, err := exec.Command("go", "build", "-o", out, "./testdata/treehelper").CombinedOutput(); err != nil {
		t.Fatalf("go build testdata/treehelper: %v\n%s", err, b)
	}
	treeHelperPath = out
	return out
}

// TestTreeDiesWithKilledRunner: when the process running the runner is
// killed with SIGKILL (no cleanup of its own runs), the function's process
// and all its children end, and the runner's cgroup is removed.
func TestTreeDiesWithKilledRunner(t *testing.T) {
	helper, bootstrap := treeHelper(t), goBootstrap(t)
	tests := []struct {
		name    string
		cgroups bool
	}{
		{"cgroups", true},
		{"no cgroups", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cgroups {
				needCgroups(t)
			}
			cmd := exec.Command(helper, bootstrap)
			if !tt.cgroups {
				cmd.Env = append(os.Environ(), "TREEHELPER_CGROUPS=off")
			}
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(out).ReadBytes('\n')
			if err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("helper: %v", err)
			}
			p := parseTree(t, line)
			cgroups, _ := filepath.Glob(cgroupGlob(cmd.Process.Pid))
			cmd.Process.Kill() // SIGKILL
			cmd.Wait()
			if left := survivors(p); left != nil {
				t.Errorf("alive after the runner was killed: %v of %v", left, p)
			}
			if tt.cgroups && len(cgroups) != 1 {
				t.Errorf("runner cgroups while it ran: %v", cgroups)
			}
			for range 100 {
				left, _ := filepath.Glob(cgroupGlob(cmd.Process.Pid))
				frozen, _ := filepath.Glob(freezerGlob(cmd.Process.Pid))
				if len(left)+len(frozen) == 0 {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			frozen, _ := filepath.Glob(freezerGlob(cmd.Process.Pid))
			t.Errorf("cgroups of the killed runner left: %v %v", cgroups, frozen)
		})
	}
}

// cgroupGlob matches the cgroup of the runner in process pid.
func cgroupGlob(pid int) string {
	mnt, _ := cgroup2Mount()
	own, _ := ownCgroup()
	return filepath.Join(mnt, own, "lambdabridge-"+itoa(pid)+"-*")
}

// freezerGlob matches the cgroup v1 freezer directory of the runner in
// process pid (the environment was frozen there when it was killed).
func freezerGlob(pid int) string {
	mnt, err := v1Mount("freezer")
	if err != nil {
		return "/nonexistent"
	}
	return filepath.Join(mnt, ownV1Cgroup("freezer"), "lambdabridge-"+itoa(pid)+"-*")
}

// TestCloseTwiceConcurrently: Shutdown's Close and the caller's own Close
// may run together; neither waits for the other's cleanup.
func TestCloseTwiceConcurrently(t *testing.T) {
	r, _ := newTestRunner(t, []function.Definition{goDef(t)})
	invoke(t, r, "gofn", `{}`)
	start := time.Now()
	done := make(chan struct{})
	go func() { r.Close(); close(done) }()
	r.Close()
	<-done
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("two Close took %v", d)
	}
}

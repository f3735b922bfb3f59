package runner

import (
	"encoding/json"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdabridge/lambdabridge/function"
)

// TestLayersAtOpt: the function sees its layers at /opt (a later layer's
// file over an earlier one's) and its code at /var/task, in a private
// mount namespace the host does not see.
func TestLayersAtOpt(t *testing.T) {
	if _, why := probeMountNamespace(nil); why != "" {
		t.Skip("no mount namespace here: " + why)
	}
	base, top := t.TempDir(), t.TempDir()
	for dir, files := range map[string]map[string]string{
		base: {"conf/shared.txt": "from base", "conf/base.txt": "only in base"},
		top:  {"conf/shared.txt": "from top"},
	} {
		for name, body := range files {
			p := filepath.Join(dir, name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	def := goDef(t)
	def.Layers = []string{base, top}
	r, _ := newTestRunner(t, []function.Definition{def})
	got := map[string]map[string]string{}
	for _, path := range []string{"/opt/conf/shared.txt", "/opt/conf/base.txt", "/var/task/bootstrap"} {
		res := invoke(t, r, "gofn", `{"action":"read","text":"`+path+`"}`)
		var out map[string]string
		if err := json.Unmarshal(res.Payload, &out); err != nil {
			t.Fatalf("%s: %s", path, res.Payload)
		}
		if strings.HasSuffix(out["content"], " bytes>") {
			out["content"] = "<binary>"
		}
		got[path] = out
	}
	want := map[string]map[string]string{
		"/opt/conf/shared.txt": {"content": "from top", "wd": "/var/task"},
		"/opt/conf/base.txt":   {"content": "only in base", "wd": "/var/task"},
		"/var/task/bootstrap":  {"content": "<binary>", "wd": "/var/task"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("what the function sees (-want +got):\n%s", diff)
	}
	env := invoke(t, r, "gofn", `{"action":"env"}`)
	var vars map[string]any
	json.Unmarshal(env.Payload, &vars)
	if vars["env:LAMBDA_TASK_ROOT"] != "/var/task" {
		t.Errorf("LAMBDA_TASK_ROOT = %v, want /var/task", vars["env:LAMBDA_TASK_ROOT"])
	}
	if _, err := os.Stat("/opt/conf/shared.txt"); err == nil {
		t.Errorf("the layer is visible on the host at /opt")
	}
}

// TestLayersOneNamespace: as root the layers are mounted once for the
// function, and every process of its environments is started in that
// namespace directly: no mount script runs in an environment, whose init
// phase and CPU share would count it (Lambda's do not).
func TestLayersOneNamespace(t *testing.T) {
	if _, why := probeMountNamespace(nil); why != "" {
		t.Skip("no mount namespace here: " + why)
	}
	if os.Geteuid() != 0 {
		t.Skip("not root: each process mounts for itself")
	}
	def := goDef(t)
	def.Layers = []string{t.TempDir()}
	r, _ := newTestRunner(t, []function.Definition{def}, WithConcurrency(2))
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { invoke(t, r, "gofn", `{"action":"sleep","ms":300}`) })
	}
	wg.Wait()
	own, _ := os.Readlink("/proc/self/ns/mnt")
	seen := map[string]int{}
	f := r.fns["gofn"]
	f.mu.Lock()
	for e := range f.envs {
		e.pidMu.Lock()
		pid := e.pid
		e.pidMu.Unlock()
		ns, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "ns", "mnt"))
		if err != nil {
			t.Error(err)
		}
		seen[ns]++
		exe, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "exe"))
		if cmd, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline")); !strings.HasPrefix(string(cmd), "/var/task/bootstrap\x00") {
			t.Errorf("environment %s runs %q (%s), want /var/task/bootstrap", e.id, cmd, exe)
		}
	}
	f.mu.Unlock()
	if len(seen) != 1 || seen[own] != 0 {
		t.Errorf("mount namespaces of the environments' processes %v (the runner's %s): want one of their own", seen, own)
	}
	if n := seen[slices.Collect(maps.Keys(seen))[0]]; n != 2 {
		t.Errorf("%d environments in it, want 2", n)
	}
}

// TestLayersKeepOtherProcesses: the thread that starts a function's
// processes in its namespace is one the runtime had before, which may have
// started other processes with a parent-death signal (a test's
// Prometheus): closing the runner must not end it and kill them.
func TestLayersKeepOtherProcesses(t *testing.T) {
	if _, why := probeMountNamespace(nil); why != "" {
		t.Skip("no mount namespace here: " + why)
	}
	for i := range 3 {
		other := exec.Command("sleep", "60")
		other.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := other.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- other.Wait() }()
		def := goDef(t)
		def.Layers = []string{t.TempDir()} // a namespace of its own
		r, _ := newTestRunner(t, []function.Definition{def})
		invoke(t, r, "gofn", `{}`)
		r.Close()
		select {
		case err := <-exited:
			t.Fatalf("round %d: the other process ended when the runner closed: %v", i, err)
		case <-time.After(200 * time.Millisecond):
		}
		other.Process.Kill()
		<-exited
	}
}

// TestLayersFallback: where the layers cannot be mounted (here: a ':' in
// a layer's path, which an overlay cannot take), the runner says so, the
// function finds its layers in LAMBDABRIDGE_OPT and its extensions run.
func TestLayersFallback(t *testing.T) {
	layer := filepath.Join(t.TempDir(), "odd:name")
	if err := os.CopyFS(layer, os.DirFS(extLayer(t, "testext"))); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "ext.jsonl")
	def := extDef(t, layer, out, nil)
	var logs strings.Builder
	r, _ := newTestRunner(t, []function.Definition{def}, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	res := invoke(t, r, "gofn", `{"action":"env"}`)
	var vars map[string]any
	json.Unmarshal(res.Payload, &vars)
	if vars["env:LAMBDABRIDGE_OPT"] != layer || vars["env:LAMBDA_TASK_ROOT"] != def.CodeDir {
		t.Errorf("LAMBDABRIDGE_OPT %v, LAMBDA_TASK_ROOT %v; want %s and %s", vars["env:LAMBDABRIDGE_OPT"], vars["env:LAMBDA_TASK_ROOT"], layer, def.CodeDir)
	}
	if !strings.Contains(logs.String(), "cannot be mounted at /opt") {
		t.Errorf("no warning: %s", logs.String())
	}
	r.Close()
	n := 0
	for _, x := range readExtRecords(t, out) {
		if x.Kind == "event" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("the extension got %d events, want INVOKE and SHUTDOWN", n)
	}
}

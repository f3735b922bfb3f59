package runner

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

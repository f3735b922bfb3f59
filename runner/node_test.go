package runner

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
)

// nodeRIC returns the aws-lambda-ric executable, installing the npm package
// once into a cache directory ($LAMBDABRIDGE_RIC_DIR, default
// <user cache>/lambdabridge/aws-lambda-ric). The package compiles native
// code (aws-lambda-cpp, curl) with cmake, make, g++, autoconf and libtool;
// when those are missing or the install fails the test is skipped with the
// reason.
func nodeRIC(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("LAMBDABRIDGE_RIC_DIR")
	if dir == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			t.Skipf("aws-lambda-ric: no cache directory: %v", err)
		}
		dir = filepath.Join(c, "lambdabridge", "aws-lambda-ric")
	}
	bin := filepath.Join(dir, "node_modules", ".bin", "aws-lambda-ric")
	// The native part its install scripts build: without it the client is
	// installed but cannot run.
	addon := filepath.Join(dir, "node_modules", "aws-lambda-ric", "dist", "rapid-client.node")
	if _, err := os.Stat(addon); err == nil {
		return bin
	}
	var missing []string
	for _, tool := range []string{"node", "npm", "cmake", "make", "g++", "autoconf", "libtoolize"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		t.Skipf("npm aws-lambda-ric cannot be built here: missing %s (apt-get install nodejs npm cmake make g++ autoconf automake libtool)", strings.Join(missing, ", "))
	}
	if testing.Short() {
		t.Skip("npm install aws-lambda-ric compiles for minutes: skipped in -short mode")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Skipf("aws-lambda-ric: %v", err)
	}
	// npm 11 runs a dependency's install scripts only when the project
	// allows them (allowScripts); older npm ignores the key.
	manifest := []byte(`{"allowScripts": {"aws-lambda-ric": true}}` + "\n")
	if err := os.WriteFile(filepath.Join(dir, "package.json"), manifest, 0o644); err != nil {
		t.Skipf("aws-lambda-ric: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--prefix", dir, "aws-lambda-ric")
	// npm's build scripts (configure, make) must not outlive a timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) > 8 {
			lines = lines[len(lines)-8:]
		}
		t.Skipf("npm install aws-lambda-ric failed (%v):\n%s", err, strings.Join(lines, "\n"))
	}
	for _, f := range []string{bin, addon} {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("npm install aws-lambda-ric: %s missing after install (were its install scripts allowed?)", f)
		}
	}
	return bin
}

const nodeHandler = `
exports.handler = async (event, context) => {
  console.log("node handling", context.awsRequestId, context.functionName);
  if (event.fail) throw new TypeError("node failure");
  if (event.sleep) await new Promise(r => setTimeout(r, event.sleep));
  if (event.emf) console.log(JSON.stringify({_aws: {Timestamp: Date.now(), CloudWatchMetrics: [{Namespace: "Node", Dimensions: [["Service"]], Metrics: [{Name: "Hits", Unit: "Count"}]}]}, Service: "n", Hits: 1}));
  return { echo: event, fn: context.functionName, remaining: context.getRemainingTimeInMillis() > 0 };
};
`

func TestNodeRIC(t *testing.T) {
	ric := nodeRIC(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(nodeHandler), 0o644); err != nil {
		t.Fatal(err)
	}
	def := function.Definition{Name: "nodefn", Handler: "index.handler", Runtime: "nodejs20.x", CodeDir: dir,
		Command: []string{ric, "index.handler"}, MemoryMB: 256, Timeout: 2 * time.Second, Architecture: "x86_64"}
	r, rec := newTestRunner(t, []function.Definition{def}, WithConcurrency(4))

	cold := invoke(t, r, "nodefn", `{"emf":true}`)
	if cold.Failed() || !cold.ColdStart || !strings.Contains(string(cold.Payload), `"fn":"nodefn"`) {
		t.Fatalf("cold: %+v %s\n%s", cold, cold.Payload, rec.text(cold.RequestID))
	}
	if m := reportOf(t, rec, cold.RequestID); m[6] == "" || atoi(m[5]) < 10 {
		t.Errorf("cold REPORT: %s", m[0])
	}
	txt := rec.text(cold.RequestID)
	if !strings.Contains(txt, "\tINFO\tnode handling "+cold.RequestID+" nodefn") || !strings.Contains(txt, `"Namespace":"Node"`) {
		t.Errorf("node log lines:\n%s", txt)
	}
	warm := invoke(t, r, "nodefn", `{"n":2}`)
	if warm.Failed() || warm.ColdStart || warm.Environment != cold.Environment {
		t.Errorf("warm: %+v", warm)
	}
	bad := invoke(t, r, "nodefn", `{"fail":true}`)
	if bad.FunctionError != "Unhandled" || bad.ErrorType != "TypeError" || !strings.Contains(string(bad.Payload), "node failure") {
		t.Errorf("error: %+v %s", bad, bad.Payload)
	}
	slow := invoke(t, r, "nodefn", `{"sleep":5000}`)
	if !slow.TimedOut {
		t.Errorf("timeout: %+v", slow)
	}
	// Concurrency 4.
	var wg sync.WaitGroup
	envs := sync.Map{}
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := invoke(t, r, "nodefn", fmt.Sprintf(`{"sleep":300,"i":%d}`, i))
			if res.Failed() {
				t.Errorf("concurrent: %+v %s", res, res.Payload)
			}
			envs.Store(res.Environment, true)
		}()
	}
	wg.Wait()
	n := 0
	envs.Range(func(any, any) bool { n++; return true })
	if n != 4 {
		t.Errorf("%d environments for 8 concurrent invocations at concurrency 4", n)
	}
	st, _ := r.Stats("nodefn")
	if st.Invocations != 12 || st.Errors != 2 || st.Timeouts != 1 || rec.sum(MetricInvocations) != 12 || rec.sum(MetricTimeouts) != 1 {
		t.Errorf("stats %+v", st)
	}
}

package runner

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
)

var (
	extOnce sync.Once
	extPath string
	extErr  error
)

// testExtension builds testdata/extension once per test binary.
func testExtension(tb testing.TB) string {
	tb.Helper()
	goBootstrap(tb) // makes buildDir
	extOnce.Do(func() {
		out := filepath.Join(buildDir, "extension", "testext")
		if b, err := exec.Command("go", "build", "-o", out, "./testdata/extension").CombinedOutput(); err != nil {
			extErr = err
			extPath = string(b)
			return
		}
		extPath = out
	})
	if extErr != nil {
		tb.Fatalf("go build testdata/extension: %v\n%s", extErr, extPath)
	}
	return extPath
}

// extLayer makes a layer folder holding the test extension under each of
// names in extensions/.
func extLayer(tb testing.TB, names ...string) string {
	tb.Helper()
	bin, err := os.ReadFile(testExtension(tb))
	if err != nil {
		tb.Fatal(err)
	}
	dir := filepath.Join(tb.TempDir(), "layer")
	if err := os.MkdirAll(filepath.Join(dir, "extensions"), 0o755); err != nil {
		tb.Fatal(err)
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, "extensions", n), bin, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// extRecord is one line the test extension wrote.
type extRecord struct {
	Ext  string          `json:"ext"`
	Kind string          `json:"kind"`
	Body json.RawMessage `json:"body"`
}

type teleRec struct {
	Time   string          `json:"time"`
	Type   string          `json:"type"`
	Record json.RawMessage `json:"record"`
}

func readExtRecords(tb testing.TB, path string) []extRecord {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []extRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r extRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			tb.Fatalf("extension record %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

func extDef(tb testing.TB, layer, outFile string, env map[string]string) function.Definition {
	tb.Helper()
	vars := map[string]string{"TESTEXT_OUT": outFile}
	for k, v := range env {
		vars[k] = v
	}
	d := goDef(tb, function.WithEnv(vars), function.WithTimeout(5*time.Second))
	d.Layers = []string{layer}
	return d
}

// TestExtensionLifecycle runs a real external extension through init,
// two invocations and the shutdown phase, and checks what it received
// from the Extensions and Telemetry APIs, and that the invoke phase (and
// Duration) lasts until the extension asks for its next event.
func TestExtensionLifecycle(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ext.jsonl")
	def := extDef(t, extLayer(t, "testext"), out, map[string]string{"TESTEXT_INVOKE_MS": "300"})
	r, rec := newTestRunner(t, []function.Definition{def})
	first := invoke(t, r, "gofn", `{"action":"log","text":"hello from the function"}`)
	second := invoke(t, r, "gofn", `{"action":"echo"}`)
	for _, res := range []*Result{first, second} {
		if res.Failed() {
			t.Fatalf("invocation failed: %s %s", res.ErrorType, res.Payload)
		}
		if res.Duration < 300*time.Millisecond {
			t.Errorf("Duration %v: the invoke phase ends when the extension asks for its next event (300 ms of work)", res.Duration)
		}
		if m := reportOf(t, rec, res.RequestID); m[2] < "300" && len(m[2]) <= 6 {
			t.Errorf("REPORT Duration %s ms, want at least 300", m[2])
		}
	}
	if second.Environment != first.Environment || second.ColdStart {
		t.Errorf("second invocation not warm in the same environment: %+v", second)
	}
	if !strings.Contains(rec.text(""), "platform\tEXTENSION\tName: testext\tState: Ready\tEvents: [INVOKE,SHUTDOWN]") {
		t.Errorf("no EXTENSION line before the first request:\n%s\nfirst request:\n%s", rec.text(""), rec.text(first.RequestID))
	}
	start := time.Now()
	r.Close()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v; the shutdown phase is at most 2 s", d)
	}

	recs := readExtRecords(t, out)
	var events []string
	tele := map[string][]teleRec{}
	var functionLines, extensionLines []string
	for _, x := range recs {
		switch x.Kind {
		case "register":
			var reg map[string]string
			json.Unmarshal(x.Body, &reg)
			if reg["functionName"] != "gofn" || reg["functionVersion"] != "$LATEST" || reg["accountId"] != AccountID {
				t.Errorf("register answer: %s", x.Body)
			}
		case "event":
			var ev struct {
				EventType, RequestID, ShutdownReason, InvokedFunctionArn string
				DeadlineMs                                               int64
			}
			json.Unmarshal(x.Body, &ev)
			events = append(events, ev.EventType+" "+ev.RequestID+ev.ShutdownReason)
			if ev.DeadlineMs == 0 {
				t.Errorf("event without deadlineMs: %s", x.Body)
			}
		case "telemetry":
			var tr teleRec
			json.Unmarshal(x.Body, &tr)
			tele[tr.Type] = append(tele[tr.Type], tr)
			var s string
			if json.Unmarshal(tr.Record, &s) == nil {
				switch tr.Type {
				case "function":
					functionLines = append(functionLines, s)
				case "extension":
					extensionLines = append(extensionLines, s)
				}
			}
		}
	}
	want := []string{"INVOKE " + first.RequestID, "INVOKE " + second.RequestID, "SHUTDOWN spindown"}
	if strings.Join(events, "|") != strings.Join(want, "|") {
		t.Errorf("events = %q, want %q", events, want)
	}
	for _, typ := range []string{"platform.initStart", "platform.initRuntimeDone", "platform.initReport", "platform.extension", "platform.telemetrySubscription"} {
		if len(tele[typ]) != 1 {
			t.Errorf("%d %s events, want 1", len(tele[typ]), typ)
		}
	}
	for _, typ := range []string{"platform.start", "platform.runtimeDone", "platform.report"} {
		if len(tele[typ]) != 2 {
			t.Errorf("%d %s events, want 2 (one per invocation)", len(tele[typ]), typ)
		}
	}
	if len(tele["platform.report"]) == 2 {
		var rep struct {
			RequestID string `json:"requestId"`
			Status    string `json:"status"`
			Metrics   struct {
				DurationMs       float64 `json:"durationMs"`
				BilledDurationMs int64   `json:"billedDurationMs"`
				InitDurationMs   float64 `json:"initDurationMs"`
				MemorySizeMB     int     `json:"memorySizeMB"`
			} `json:"metrics"`
		}
		json.Unmarshal(tele["platform.report"][0].Record, &rep)
		if rep.RequestID != first.RequestID || rep.Status != "success" || rep.Metrics.DurationMs < 300 ||
			rep.Metrics.InitDurationMs <= 0 || rep.Metrics.MemorySizeMB != 128 || rep.Metrics.BilledDurationMs != first.BilledDuration.Milliseconds() {
			t.Errorf("first platform.report: %s (result %+v)", tele["platform.report"][0].Record, first)
		}
	}
	if !contains(functionLines, "hello from the function") {
		t.Errorf("function records %q lack the function's line", functionLines)
	}
	if !contains(extensionLines, "extension testext ready") {
		t.Errorf("extension records %q lack the extension's line", extensionLines)
	}
	if len(tele["function"]) > 0 && tele["function"][0].Time == "" {
		t.Errorf("event without time: %+v", tele["function"][0])
	}
}

// TestExtensionFailures: an extension's init error, crash before
// registering and exit error fail the invocation with Lambda's types.
func TestExtensionFailures(t *testing.T) {
	cases := []struct {
		name, fail, wantType string
	}{
		{"init error", "init", "Extension.TestInitFailure"},
		{"crash before register", "crash", "Extension.Crash"},
		{"exit error", "exit", "Extension.TestExitFailure"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "ext.jsonl")
			def := extDef(t, extLayer(t, "testext"), out, map[string]string{"TESTEXT_FAIL": c.fail})
			r, rec := newTestRunner(t, []function.Definition{def})
			res := invoke(t, r, "gofn", `{}`)
			if !res.Failed() || res.ErrorType != c.wantType {
				t.Fatalf("result %s %q, want a failure of type %s\n%s", res.FunctionError, res.ErrorType, c.wantType, rec.text(res.RequestID))
			}
			if c.fail == "exit" {
				return
			}
			if !strings.Contains(rec.text(res.RequestID), "Status: error\tError Type: "+c.wantType) {
				t.Errorf("no INIT_REPORT with the error type:\n%s", rec.text(res.RequestID))
			}
		})
	}
}

// TestExtensionShutdownLimit: an extension that never finishes its
// shutdown is killed 2 s after the shutdown phase began.
func TestExtensionShutdownLimit(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ext.jsonl")
	def := extDef(t, extLayer(t, "testext"), out, map[string]string{"TESTEXT_FAIL": "hang"})
	r, _ := newTestRunner(t, []function.Definition{def})
	if res := invoke(t, r, "gofn", `{}`); res.Failed() {
		t.Fatalf("invocation failed: %s", res.Payload)
	}
	start := time.Now()
	r.Close()
	if d := time.Since(start); d < 1900*time.Millisecond || d > 4*time.Second {
		t.Errorf("Close took %v, want the 2 s limit of the shutdown phase", d)
	}
}

// TestDurationUntilNext: a runtime (curl shell bootstrap) that answers
// and works 500 ms more before asking for its next invocation has a
// Duration of at least 500 ms, as on Lambda; its caller has the answer
// before.
func TestDurationUntilNext(t *testing.T) {
	d, err := function.FromHandler(shellBootstrap(t), function.WithName("sh"))
	if err != nil {
		t.Fatal(err)
	}
	r, rec := newTestRunner(t, []function.Definition{d})
	res := invoke(t, r, "sh", `{"work":"after"}`)
	if res.Failed() || res.Duration < 500*time.Millisecond {
		t.Fatalf("Duration %v (failed %v): want at least the 500 ms of work after the answer", res.Duration, res.Failed())
	}
	if post := res.Duration - res.RuntimeDuration; res.RuntimeDuration <= 0 || post < 500*time.Millisecond {
		t.Errorf("RuntimeDuration %v of Duration %v: want the answer's time, and the 500 ms after it outside", res.RuntimeDuration, res.Duration)
	}
	if res.BilledDuration < 500*time.Millisecond {
		t.Errorf("Billed Duration %v, want at least 500 ms", res.BilledDuration)
	}
	m := reportOf(t, rec, res.RequestID)
	if len(m[2]) < 6 { // "500.00"
		t.Errorf("REPORT Duration %s ms", m[2])
	}
}

// TestExtensionShutdownReasons: the SHUTDOWN event says why the
// environment ends: the function's timeout, or its runtime's crash.
func TestExtensionShutdownReasons(t *testing.T) {
	cases := []struct {
		name, payload, errType, reason string
		env                            map[string]string
	}{
		{"timeout", `{"action":"sleep","ms":3000}`, "Sandbox.Timedout", "timeout", nil},
		// The function answers at once, the extension works past the
		// timeout: a timeout after the answer, whose report the
		// extension gets before its SHUTDOWN all the same.
		{"timeout after the answer", `{}`, "Sandbox.Timedout", "timeout", map[string]string{"TESTEXT_INVOKE_MS": "1500"}},
		{"failure", `{"action":"crash"}`, "Runtime.ExitError", "failure", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "ext.jsonl")
			def := extDef(t, extLayer(t, "testext"), out, c.env)
			def.Timeout = time.Second
			r, _ := newTestRunner(t, []function.Definition{def})
			res := invoke(t, r, "gofn", c.payload)
			if res.ErrorType != c.errType {
				t.Fatalf("error type %q, want %s", res.ErrorType, c.errType)
			}
			var got []string
			reported := false
			for _, x := range readExtRecords(t, out) {
				if x.Kind == "event" && strings.Contains(string(x.Body), "SHUTDOWN") {
					got = append(got, string(x.Body))
				}
				if x.Kind == "telemetry" && strings.Contains(string(x.Body), `"type":"platform.report"`) && strings.Contains(string(x.Body), res.RequestID) {
					reported = true
				}
			}
			if !reported {
				t.Errorf("the extension did not get the platform.report of the %s invocation before its shutdown", c.reason)
			}
			if len(got) != 1 || !strings.Contains(got[0], `"shutdownReason":"`+c.reason+`"`) {
				for _, x := range readExtRecords(t, out) {
					t.Logf("%s %s %.200s", x.Ext, x.Kind, x.Body)
				}
				t.Errorf("SHUTDOWN events %q, want one with reason %s", got, c.reason)
			}
		})
	}
}

// TestExtensionBusyAtACrashFinishesItsShutdown: an extension still at
// work on the INVOKE when the runtime crashes gets SHUTDOWN on its next
// call; that call ends its invoke work, not its shutdown, which has the
// rest of the 2 s limit: it is not killed before it is done.
func TestExtensionBusyAtACrashFinishesItsShutdown(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ext.jsonl")
	def := extDef(t, extLayer(t, "testext"), out, map[string]string{"TESTEXT_INVOKE_MS": "300", "TESTEXT_SHUTDOWN_MS": "300"})
	r, _ := newTestRunner(t, []function.Definition{def})
	if res := invoke(t, r, "gofn", `{"action":"crash"}`); res.ErrorType != "Runtime.ExitError" {
		t.Fatalf("error type %q, want Runtime.ExitError", res.ErrorType)
	}
	r.Close()
	var kinds []string
	for _, x := range readExtRecords(t, out) {
		if x.Kind != "telemetry" {
			kinds = append(kinds, x.Kind)
		}
	}
	if want := []string{"register", "event", "event", "shutdown-done"}; !slices.Equal(kinds, want) {
		t.Errorf("the extension recorded %q, want %q: killed before its shutdown was done", kinds, want)
	}
}

// TestInternalExtension: a process of the runtime registers an internal
// extension during init (SHUTDOWN is refused to it); the invoke phase
// lasts until it asks for its next event.
func TestInternalExtension(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	p, _ := filepath.Abs("testdata/internal/bootstrap")
	def, err := function.FromHandler(p, function.WithName("internal"))
	if err != nil {
		t.Fatal(err)
	}
	r, rec := newTestRunner(t, []function.Definition{def})
	res := invoke(t, r, "internal", `{"n":1}`)
	if res.Failed() || string(res.Payload) != `{"n":1}` {
		t.Fatalf("%+v %s", res, res.Payload)
	}
	if res.Duration < 200*time.Millisecond {
		t.Errorf("Duration %v: want the internal extension's 200 ms after its INVOKE event", res.Duration)
	}
	all := rec.text("") + rec.text(res.RequestID)
	for _, want := range []string{"internal extension with SHUTDOWN: 400", "EXTENSION\tName: agent\tState: Ready\tEvents: [INVOKE]", "internal extension: event"} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in:\n%s", want, all)
		}
	}
}

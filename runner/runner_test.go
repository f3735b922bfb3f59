package runner

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/metric"
)

var reportRE = regexp.MustCompile(`^REPORT RequestId: ([0-9a-f-]{36})\tDuration: (\d+\.\d\d) ms\tBilled Duration: (\d+) ms\tMemory Size: (\d+) MB\tMax Memory Used: (\d+) MB(\tInit Duration: (\d+\.\d\d) ms)?(\tStatus: (timeout|error)(\tError Type: (\S+))?)?$`)

func reportOf(t *testing.T, rec *recorder, id string) []string {
	t.Helper()
	for _, l := range rec.linesOf(id) {
		if l.stream == StreamPlatform && strings.HasPrefix(l.text, "REPORT") {
			m := reportRE.FindStringSubmatch(l.text)
			if m == nil {
				t.Fatalf("REPORT line not in Lambda's format: %q", l.text)
			}
			return m
		}
	}
	t.Fatalf("no REPORT line for %s:\n%s", id, rec.text(id))
	return nil
}

func TestGoColdThenWarm(t *testing.T) {
	def := goDef(t, function.WithMemoryMB(256))
	r, rec := newTestRunner(t, []function.Definition{def})

	first := invoke(t, r, "gofn", `{"action":"log","text":"hello"}`)
	if first.Failed() || !first.ColdStart || first.InitDuration <= 0 {
		t.Fatalf("first invocation: %+v", first)
	}
	second := invoke(t, r, "gofn", `{"action":"echo"}`)
	if second.Failed() || second.ColdStart || second.InitDuration != 0 {
		t.Fatalf("second invocation should be warm: %+v", second)
	}
	if second.Environment != first.Environment {
		t.Errorf("warm invocation ran in %s, want %s", second.Environment, first.Environment)
	}
	if got, want := string(second.Payload), `{"action":"echo","ok":true}`; got != want {
		t.Errorf("payload = %s, want %s", got, want)
	}

	// Lines, in order, tied to the first request.
	var got []string
	for _, l := range rec.linesOf(first.RequestID) {
		if strings.HasPrefix(l.text, "{") {
			got = append(got, l.stream+" <emf>")
			continue
		}
		got = append(got, l.stream+" "+strings.SplitN(l.text, "\t", 2)[0])
	}
	want := []string{
		"platform START RequestId: " + first.RequestID + " Version: $LATEST",
		"stdout before", "stderr on stderr", "stdout hello", "stdout <emf>", "stdout after",
		"platform END RequestId: " + first.RequestID,
		"platform REPORT RequestId: " + first.RequestID,
	}
	// stderr and stdout are separate pipes: compare stdout and platform order
	// and the presence of the stderr line.
	if strings.Join(filterStream(got, "stderr"), "\n") != strings.Join(filterStream(want, "stderr"), "\n") || !contains(got, "stderr on stderr") {
		t.Errorf("lines of the first invocation:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	m := reportOf(t, rec, first.RequestID)
	if m[4] != "256" || m[6] == "" {
		t.Errorf("cold REPORT: memory %s, init %q: %s", m[4], m[6], m[0])
	}
	if mb := atoi(m[5]); mb < 1 || mb > 256 {
		t.Errorf("Max Memory Used = %d MB, want a measured value", mb)
	}
	m2 := reportOf(t, rec, second.RequestID)
	if m2[6] != "" {
		t.Errorf("warm REPORT has an Init Duration: %s", m2[0])
	}
	if billed, dur := atoi(m2[3]), atof(m2[2]); float64(billed) < dur || float64(billed) > dur+1 {
		t.Errorf("billed %d ms for %.2f ms (1 ms granularity)", billed, dur)
	}

	for name, want := range map[string]float64{
		MetricInvocations: 2, MetricColdStarts: 1, MetricErrors: 0, MetricTimeouts: 0, MetricThrottles: 0,
	} {
		if got := rec.sum(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if n := len(rec.values(MetricDuration)); n != 2 {
		t.Errorf("%d duration observations, want 2", n)
	}
	// The platform package's points: at REPORT's precision (0.01 ms).
	if v := rec.values(MetricInitDuration); len(v) != 1 || v[0] <= 0 || v[0] != first.InitDuration.Round(10*time.Microsecond).Seconds() {
		t.Errorf("init duration observations %v, want [%v]", v, first.InitDuration.Round(10*time.Microsecond).Seconds())
	}
	if got, want := rec.sum(MetricBilledDuration), (first.BilledDuration + second.BilledDuration).Seconds(); !near(got, want) {
		t.Errorf("billed seconds = %v, want %v", got, want)
	}
	wantCost := cost(first.BilledDuration, 256, "x86_64") + cost(second.BilledDuration, 256, "x86_64")
	if got := rec.sum(MetricCost); !near(got, wantCost) {
		t.Errorf("cost = %v, want %v", got, wantCost)
	}
	if v := rec.values(MetricMaxMemoryUsed); len(v) != 2 || v[1] <= 0 {
		t.Errorf("max memory used = %v", v)
	}
	if v := rec.values(MetricConcurrent); len(v) < 3 || v[len(v)-1] != 0 || v[len(v)-2] != 1 {
		t.Errorf("concurrent executions gauge = %v", v)
	}
	for _, p := range rec.points {
		if l, ok := p.Label("function_name"); !ok || l != "gofn" || len(p.Labels) != 1 {
			t.Errorf("point %s: labels %v", p.Name, p.Labels)
		}
		// The names are final: Translate keeps them and gives the type.
		fam := metric.Translate(&p)
		want := metric.TypeGauge
		switch {
		case strings.HasSuffix(p.Name, "_total"):
			want = metric.TypeCounter
		case strings.HasSuffix(p.Name, "_seconds"):
			want = metric.TypeHistogram
		}
		if fam.Name != p.Name || fam.Type != want || p.Format != metric.FormatPlatform || fam.Scale != 1 {
			t.Errorf("point %s translates to %+v", p.Name, fam)
		}
	}
}

func filterStream(lines []string, stream string) []string {
	var out []string
	for _, l := range lines {
		if !strings.HasPrefix(l, stream+" ") {
			out = append(out, l)
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestGoFunctionError(t *testing.T) {
	r, rec := newTestRunner(t, []function.Definition{goDef(t)})
	res := invoke(t, r, "gofn", `{"action":"error","text":"bad input"}`)
	if res.FunctionError != "Unhandled" || res.ErrorType != "errorString" {
		t.Fatalf("result: %+v payload %s", res, res.Payload)
	}
	var doc struct{ ErrorMessage, ErrorType string }
	if err := json.Unmarshal(res.Payload, &doc); err != nil || doc.ErrorMessage != "boom: bad input" || doc.ErrorType != "errorString" {
		t.Errorf("error payload %s (%v)", res.Payload, err)
	}
	// The environment survives a function error.
	again := invoke(t, r, "gofn", `{}`)
	if again.Failed() || again.ColdStart {
		t.Errorf("after a function error: %+v", again)
	}
	if rec.sum(MetricErrors) != 1 || rec.sum(MetricInvocations) != 2 {
		t.Errorf("errors %v invocations %v", rec.sum(MetricErrors), rec.sum(MetricInvocations))
	}
	reportOf(t, rec, res.RequestID)
}

func TestGoTimeout(t *testing.T) {
	r, rec := newTestRunner(t, []function.Definition{goDef(t, function.WithTimeout(time.Second))})
	start := time.Now()
	res := invoke(t, r, "gofn", `{"action":"sleep","ms":5000}`)
	if el := time.Since(start); el > 4*time.Second {
		t.Errorf("timeout took %v", el)
	}
	if !res.TimedOut || res.ErrorType != "Sandbox.Timedout" || res.FunctionError != "Unhandled" {
		t.Fatalf("result: %+v", res)
	}
	if !strings.Contains(string(res.Payload), "Task timed out after 1.00 seconds") {
		t.Errorf("payload %s", res.Payload)
	}
	txt := rec.text(res.RequestID)
	if !regexp.MustCompile(`platform\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ` + res.RequestID + ` Task timed out after 1\.00 seconds\n`).MatchString(txt) {
		t.Errorf("no timeout line:\n%s", txt)
	}
	if !strings.Contains(txt, "stdout\tsleeping 5000 ms") {
		t.Errorf("the function's line before the timeout is lost:\n%s", txt)
	}
	m := reportOf(t, rec, res.RequestID)
	if m[2] != "1000.00" {
		t.Errorf("timed out REPORT Duration %s", m[2])
	}
	// Lambda resets the environment: the next init is a suppressed one,
	// part of the invocation's Duration, not a cold start.
	next := invoke(t, r, "gofn", `{}`)
	if next.ColdStart || next.Failed() || next.InitDuration != 0 || next.Environment != res.Environment {
		t.Errorf("the invocation after a timeout should run a suppressed init in the same sandbox (environment id): %+v", next)
	}
	if rec.sum(MetricTimeouts) != 1 || rec.sum(MetricErrors) != 1 || rec.sum(MetricColdStarts) != 1 {
		t.Errorf("timeouts %v errors %v cold starts %v", rec.sum(MetricTimeouts), rec.sum(MetricErrors), rec.sum(MetricColdStarts))
	}
}

func TestGoCrash(t *testing.T) {
	r, rec := newTestRunner(t, []function.Definition{goDef(t)})
	invoke(t, r, "gofn", `{}`)
	res := invoke(t, r, "gofn", `{"action":"crash"}`)
	if res.ErrorType != "Runtime.ExitError" || !strings.Contains(string(res.Payload), "Runtime exited with error: exit status 3") {
		t.Fatalf("result: %+v %s", res, res.Payload)
	}
	txt := rec.text(res.RequestID)
	for _, want := range []string{"stdout\tabout to crash\n", "platform\tRequestId: " + res.RequestID + " Error: Runtime exited with error: exit status 3\n", "platform\tRuntime.ExitError\n"} {
		if !strings.Contains(txt, want) {
			t.Errorf("missing %q in:\n%s", want, txt)
		}
	}
	reportOf(t, rec, res.RequestID)
	next := invoke(t, r, "gofn", `{}`)
	if next.ColdStart || next.Failed() || next.InitDuration != 0 {
		t.Errorf("after a crash, a suppressed init (no cold start): %+v", next)
	}
}

func TestGoExitDuringInit(t *testing.T) {
	bad := goDef(t, function.WithEnv(map[string]string{"GOFN_EXIT_AT_INIT": "1"}))
	r, rec := newTestRunner(t, []function.Definition{bad})
	for range 2 { // the runner keeps serving
		res := invoke(t, r, "gofn", `{}`)
		if res.ErrorType != "Runtime.ExitError" || !res.ColdStart || !strings.Contains(string(res.Payload), "exit status 2") {
			t.Fatalf("result: %+v %s", res, res.Payload)
		}
		txt := rec.text(res.RequestID)
		if !strings.Contains(txt, "stdout\tfailing at init\n") || !strings.Contains(txt, "INIT_REPORT Init Duration: ") {
			t.Errorf("lines:\n%s", txt)
		}
		if m := reportOf(t, rec, res.RequestID); m[6] == "" {
			t.Errorf("REPORT of a failed init has no Init Duration: %s", m[0])
		}
	}
	if rec.sum(MetricErrors) != 2 || rec.sum(MetricColdStarts) != 2 {
		t.Errorf("errors %v cold starts %v", rec.sum(MetricErrors), rec.sum(MetricColdStarts))
	}
}

func TestGoEnvironmentAndHeaders(t *testing.T) {
	def := goDef(t, function.WithMemoryMB(512), function.WithTimeout(7*time.Second),
		function.WithEnv(map[string]string{"MY_VAR": "x", "AWS_REGION": "ignored"}))
	r, _ := newTestRunner(t, []function.Definition{def}, WithRegion("eu-west-1"),
		WithEnviron(func() []string { return []string{"PATH=/usr/bin:/bin", "HOME=/root", "SECRET=nope"} }))
	res := invoke(t, r, "gofn", `{"action":"env"}`)
	var out map[string]any
	if err := json.Unmarshal(res.Payload, &out); err != nil {
		t.Fatalf("%s: %v", res.Payload, err)
	}
	want := map[string]any{
		"requestId":                           res.RequestID,
		"arn":                                 "arn:aws:lambda:eu-west-1:123456789012:function:gofn",
		"env:AWS_LAMBDA_FUNCTION_NAME":        "gofn",
		"env:AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
		"env:AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"env:AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"env:AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/gofn",
		"env:AWS_REGION":                      "eu-west-1",
		"env:AWS_DEFAULT_REGION":              "eu-west-1",
		"env:_HANDLER":                        "bootstrap",
		"env:TZ":                              ":UTC",
		"env:MY_VAR":                          "x",
		"env:PATH":                            "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		"env:LANG":                            "en_US.UTF-8",
		"env:LAMBDA_TASK_ROOT":                def.CodeDir,
	}
	for k, v := range want {
		if out[k] != v {
			t.Errorf("%s = %v, want %v", k, out[k], v)
		}
	}
	for _, k := range []string{"env:AWS_LAMBDA_RUNTIME_API", "env:AWS_LAMBDA_LOG_STREAM_NAME", "env:AWS_ACCESS_KEY_ID", "env:AWS_SECRET_ACCESS_KEY", "env:AWS_SESSION_TOKEN", "env:LAMBDA_RUNTIME_DIR"} {
		if s, _ := out[k].(string); s == "" {
			t.Errorf("%s not set", k)
		}
	}
	for _, k := range []string{"env:SECRET", "env:HOME", "env:AWS_EXECUTION_ENV"} {
		if _, ok := out[k]; ok {
			t.Errorf("%s set: a host variable leaked, or AWS_EXECUTION_ENV on an OS-only runtime", k)
		}
	}
	if s, _ := out["trace"].(string); !strings.HasPrefix(s, "Root=1-") {
		t.Errorf("_X_AMZN_TRACE_ID = %q", s)
	}
	if ms, _ := out["deadlineInMs"].(float64); ms < 6000 || ms > 7000 {
		t.Errorf("deadline in %v ms, want about 7000", ms)
	}
}

func TestShellRuntime(t *testing.T) {
	def, err := function.FromHandler(shellBootstrap(t), function.WithName("shellfn"), function.WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	r, rec := newTestRunner(t, []function.Definition{def})
	cold := invoke(t, r, "shellfn", `{"n":1}`)
	warm := invoke(t, r, "shellfn", `{"n":2}`)
	if cold.Failed() || !cold.ColdStart || warm.Failed() || warm.ColdStart || warm.Environment != cold.Environment {
		t.Fatalf("cold %+v warm %+v", cold, warm)
	}
	if string(warm.Payload) != `{"echo":{"n":2}}` {
		t.Errorf("payload %s", warm.Payload)
	}
	if !strings.Contains(rec.text(warm.RequestID), "stdout\thandling "+warm.RequestID+`: {"n":2}`) {
		t.Errorf("lines:\n%s", rec.text(warm.RequestID))
	}
	bad := invoke(t, r, "shellfn", `{"fail":true}`)
	if bad.ErrorType != "ShellError" || bad.FunctionError != "Unhandled" {
		t.Errorf("error: %+v %s", bad, bad.Payload)
	}
	slow := invoke(t, r, "shellfn", `{"sleep":true}`)
	if !slow.TimedOut {
		t.Errorf("timeout: %+v", slow)
	}
	after := invoke(t, r, "shellfn", `{"n":3}`)
	if after.Failed() || after.ColdStart {
		t.Errorf("after timeout (a suppressed init, no cold start): %+v", after)
	}
	m := reportOf(t, rec, cold.RequestID)
	if m[6] == "" {
		t.Errorf("cold REPORT without Init Duration: %s", m[0])
	}
	if got := rec.sum(MetricInvocations); got != 5 {
		t.Errorf("invocations %v", got)
	}
}

func TestShellInitError(t *testing.T) {
	def, err := function.FromHandler(shellBootstrap(t), function.WithName("shellfn"),
		function.WithEnv(map[string]string{"SHELL_INIT_FAIL": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	r, rec := newTestRunner(t, []function.Definition{def})
	res := invoke(t, r, "shellfn", `{}`)
	if res.ErrorType != "Runtime.InitError" || !strings.Contains(string(res.Payload), "cannot load handler") {
		t.Fatalf("result: %+v %s", res, res.Payload)
	}
	if txt := rec.text(res.RequestID); !strings.Contains(txt, "Status: error\tError Type: Runtime.InitError") {
		t.Errorf("lines:\n%s", txt)
	}
}

func TestThrottling(t *testing.T) {
	r, rec := newTestRunner(t, []function.Definition{goDef(t)}, WithReservedConcurrency(1), WithConcurrency(1))
	invoke(t, r, "gofn", `{}`) // warm up
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		invoke(t, r, "gofn", `{"action":"sleep","ms":400}`)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if st, _ := r.Stats("gofn"); st.Running == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow invocation never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, err := r.Invoke(context.Background(), "gofn", Request{Payload: []byte(`{}`)})
	if !errors.Is(err, ErrThrottled) {
		t.Errorf("second concurrent invocation: %v, want ErrThrottled", err)
	}
	wg.Wait()
	st, _ := r.Stats("gofn")
	if st.Throttles != 1 || st.Invocations != 2 || st.Requests != 3 || rec.sum(MetricThrottles) != 1 {
		t.Errorf("stats %+v, throttles metric %v", st, rec.sum(MetricThrottles))
	}
}

func TestConcurrencyFourQueues(t *testing.T) {
	r, rec := newTestRunner(t, []function.Definition{goDef(t)}, WithConcurrency(4))
	const n = 12
	var wg sync.WaitGroup
	envs := sync.Map{}
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := invoke(t, r, "gofn", `{"action":"sleep","ms":150}`)
			if res.Failed() {
				t.Errorf("failed: %+v", res)
			}
			envs.Store(res.Environment, true)
		}()
	}
	wg.Wait()
	count := 0
	envs.Range(func(any, any) bool { count++; return true })
	if count != 4 {
		t.Errorf("%d environments used, want 4", count)
	}
	peak := 0.0
	for _, v := range rec.values(MetricConcurrent) {
		peak = max(peak, v)
	}
	if peak != 4 {
		t.Errorf("peak concurrent executions %v, want 4", peak)
	}
	st, _ := r.Stats("gofn")
	if st.Invocations != n || st.Successes != n || st.ColdStarts != 4 || st.Throttles != 0 || st.Environments != 4 {
		t.Errorf("stats %+v", st)
	}
}

// TestFreezeBetweenInvocations: an idle environment is frozen, through a
// cgroup freezer where there is one (as on Lambda: its processes get no
// signal), else by SIGSTOP; the next invocation thaws it.
func TestFreezeBetweenInvocations(t *testing.T) {
	for _, freeze := range []bool{true, false} {
		r, _ := newTestRunner(t, []function.Definition{goDef(t)}, WithFreeze(freeze))
		invoke(t, r, "gofn", `{}`)
		f := r.fns["gofn"]
		f.mu.Lock()
		e := f.idle[0]
		f.mu.Unlock()
		frozen := func() bool {
			if dir := e.freezerDir(); dir != "" {
				b, _ := os.ReadFile(filepath.Join(dir, "freezer.state"))
				return strings.TrimSpace(string(b)) == "FROZEN" && procState(e.pid) != "T"
			}
			if e.cgDir != "" {
				b, _ := os.ReadFile(filepath.Join(e.cgDir, "cgroup.events"))
				return strings.Contains(string(b), "frozen 1") && procState(e.pid) != "T"
			}
			return procState(e.pid) == "T"
		}
		got := frozen()
		for i := 0; i < 100 && got != freeze; i++ { // freezing takes effect asynchronously
			time.Sleep(5 * time.Millisecond)
			got = frozen()
		}
		if got != freeze {
			t.Errorf("freeze %v: idle environment frozen %v (cgroup %q, freezer %q, state %q)", freeze, got, e.cgDir, e.freezerDir(), procState(e.pid))
		}
		if res := invoke(t, r, "gofn", `{}`); res.Failed() || res.ColdStart {
			t.Errorf("freeze %v: warm invocation after freeze: %+v", freeze, res)
		}
		r.Close()
	}
}

func TestIdleRecycle(t *testing.T) {
	r, _ := newTestRunner(t, []function.Definition{goDef(t)}, WithIdleTimeout(100*time.Millisecond))
	invoke(t, r, "gofn", `{}`)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if st, _ := r.Stats("gofn"); st.Environments == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("idle environment not recycled")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if res := invoke(t, r, "gofn", `{}`); !res.ColdStart {
		t.Errorf("invocation after recycling is warm")
	}
}

func TestMemory(t *testing.T) {
	r, rec := newTestRunner(t, []function.Definition{goDef(t, function.WithMemoryMB(256))})
	res := invoke(t, r, "gofn", `{"action":"alloc","mb":40,"ms":50}`)
	if res.Failed() {
		t.Fatalf("%+v", res)
	}
	if mb := res.MaxMemoryUsedMB(); mb < 40 || mb > 256 {
		t.Errorf("Max Memory Used %d MB after allocating 40 MB", mb)
	}
	if m := reportOf(t, rec, res.RequestID); atoi(m[5]) != res.MaxMemoryUsedMB() {
		t.Errorf("REPORT %s vs %d", m[5], res.MaxMemoryUsedMB())
	}
}

func TestOutOfMemory(t *testing.T) {
	r, rec := newTestRunner(t, []function.Definition{goDef(t, function.WithMemoryMB(128), function.WithTimeout(60*time.Second))})
	oom := invoke(t, r, "gofn", `{"action":"alloc","mb":200,"ms":60000}`)
	if oom.ErrorType != "Runtime.OutOfMemory" || oom.MaxMemoryUsedMB() < 128 || oom.TimedOut {
		t.Errorf("over the memory size: %+v %s", oom, oom.Payload)
	}
	if m := reportOf(t, rec, oom.RequestID); m[5] != "128" && atoi(m[5]) < 128 {
		t.Errorf("REPORT after out of memory: %s", m[0])
	}
	if next := invoke(t, r, "gofn", `{}`); next.ColdStart || next.Failed() {
		t.Errorf("after out of memory (a suppressed init, no cold start): %+v", next)
	}
}

func TestUnknownFunction(t *testing.T) {
	r, _ := newTestRunner(t, []function.Definition{goDef(t)})
	if _, err := r.Invoke(context.Background(), "nope", Request{}); !errors.Is(err, ErrUnknownFunction) {
		t.Errorf("err = %v", err)
	}
}

func TestStartFailure(t *testing.T) {
	def := goDef(t)
	def.Command = []string{"/nonexistent/bootstrap"}
	r, rec := newTestRunner(t, []function.Definition{def})
	res := invoke(t, r, "gofn", `{}`)
	if res.ErrorType != "Runtime.InvalidEntrypoint" {
		t.Errorf("%+v", res)
	}
	reportOf(t, rec, res.RequestID)
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func atof(s string) float64 {
	var f float64
	json.Unmarshal([]byte(s), &f)
	return f
}

func near(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 1e-9*max(1, a, b)
}

func TestRuntimeAPIProtocol(t *testing.T) {
	path, err := filepath.Abs("testdata/shell/protocol")
	if err != nil {
		t.Fatal(err)
	}
	shellBootstrap(t)
	def, err := function.FromHandler(path, function.WithName("proto"), function.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	r, rec := newTestRunner(t, []function.Definition{def})
	before := time.Now()
	res, err := r.Invoke(context.Background(), "proto", Request{Payload: []byte(`{}`), ClientContext: `{"custom":{"k":"v"}}`, TraceID: "Root=1-abc-def;Sampled=1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() || string(res.Payload) != `{"a":1}` {
		t.Fatalf("%+v %s", res, res.Payload)
	}
	got := map[string]string{}
	for _, l := range rec.linesOf(res.RequestID) {
		if k, v, ok := strings.Cut(l.text, ":"); ok && l.stream == StreamStdout {
			got[k] = v
		}
	}
	for k, want := range map[string]string{"wrong": "400", "first": "202", "second": "400",
		"arn": "arn:aws:lambda:us-east-1:123456789012:function:proto", "trace": "Root=1-abc-def;Sampled=1", "cc": `{"custom":{"k":"v"}}`} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q (lines:\n%s)", k, got[k], want, rec.text(res.RequestID))
		}
	}
	dl, _ := strconv.ParseInt(got["deadline"], 10, 64)
	if d := time.UnixMilli(dl).Sub(before); d < 4*time.Second || d > 6*time.Second {
		t.Errorf("deadline %v after the call, want about 5s", d)
	}
}

// TestFreezeStopsBackgroundWork: a frozen environment's background
// goroutines do not run between invocations, as on Lambda.
func TestFreezeStopsBackgroundWork(t *testing.T) {
	for _, freeze := range []bool{true, false} {
		r, rec := newTestRunner(t, []function.Definition{goDef(t)}, WithFreeze(freeze))
		first := invoke(t, r, "gofn", `{"action":"ticker"}`)
		time.Sleep(300 * time.Millisecond)
		invoke(t, r, "gofn", `{}`)
		ticks := 0
		for _, l := range rec.linesOf(first.RequestID) {
			if l.text == "tick" {
				ticks++
			}
		}
		if freeze && ticks > 2 {
			t.Errorf("frozen environment ran its background work: %d ticks between invocations", ticks)
		}
		if !freeze && ticks < 5 {
			t.Errorf("unfrozen environment: %d ticks in 300 ms, want about 15", ticks)
		}
		r.Close()
	}
}

// TestFreezeLeavesSleepingThreadsAsleep: with a cgroup v1 freezer, as
// Lambda's, freezing and thawing an environment does not wake its sleeping
// threads: the Go function's idle runtime threads do not run at each
// invocation. The cgroup v2 freezer and SIGSTOP wake each of them twice
// per invocation (to stop, and to go on).
func TestFreezeLeavesSleepingThreadsAsleep(t *testing.T) {
	r, _ := newTestRunner(t, []function.Definition{goDef(t)})
	invoke(t, r, "gofn", `{}`)
	if mode := r.freezeMode(); mode != "cgroup v1 freezer" {
		t.Skipf("environments are frozen by %s here", mode)
	}
	f := r.fns["gofn"]
	f.mu.Lock()
	e := f.idle[0]
	f.mu.Unlock()
	runs := func() map[string]int64 {
		m := map[string]int64{}
		tasks, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(e.pid), "task", "[0-9]*", "schedstat"))
		for _, p := range tasks {
			b, _ := os.ReadFile(p)
			if fs := strings.Fields(string(b)); len(fs) == 3 {
				m[filepath.Base(filepath.Dir(p))], _ = strconv.ParseInt(fs[2], 10, 64)
			}
		}
		return m
	}
	const n = 30
	before := runs()
	for range n {
		if res := invoke(t, r, "gofn", `{}`); res.Failed() {
			t.Fatalf("invocation: %+v", res)
		}
	}
	after := runs()
	least := int64(-1)
	for tid, v := range after {
		if b, ok := before[tid]; ok && (least < 0 || v-b < least) {
			least = v - b
		}
	}
	// Woken at each freeze and thaw, every thread would have run 2n times.
	if least < 0 || least >= n {
		t.Errorf("every thread of the function ran at least %d times in %d invocations: the freezer wakes sleeping threads (%d threads)", least, n, len(after))
	}
}

// TestFreezeWakesPollers: Stats.FreezeWakesPollers says what the freezer
// does here to a thread waiting in epoll_wait, as an event loop's does: with
// it, the thread runs at each freeze and thaw; without, it stays asleep.
func TestFreezeWakesPollers(t *testing.T) {
	for _, freeze := range []bool{true, false} {
		r, _ := newTestRunner(t, []function.Definition{goDef(t)}, WithFreeze(freeze))
		res := invoke(t, r, "gofn", `{"action":"poller"}`)
		var out struct {
			Pid int `json:"pid"`
		}
		if err := json.Unmarshal(res.Payload, &out); err != nil || out.Pid == 0 {
			t.Fatalf("poller: %s (%v)", res.Payload, err)
		}
		stat := filepath.Join("/proc", strconv.Itoa(out.Pid), "task", strconv.Itoa(out.Pid), "schedstat")
		runs := func() int64 {
			b, err := os.ReadFile(stat)
			f := strings.Fields(string(b))
			if err != nil || len(f) != 3 {
				t.Fatalf("%s: %q %v", stat, b, err)
			}
			n, _ := strconv.ParseInt(f[2], 10, 64)
			return n
		}
		// Until the child's main thread waits (its runtime's start runs
		// while the environment is thawed).
		for range 5 {
			invoke(t, r, "gofn", `{"action":"sleep","ms":20}`)
		}
		const n = 30
		before := runs()
		for range n {
			if res := invoke(t, r, "gofn", `{}`); res.Failed() {
				t.Fatalf("invocation: %+v", res)
			}
		}
		ran := runs() - before
		st, _ := r.Stats("gofn")
		r.Close()
		t.Logf("frozen by %s: the thread in epoll_wait ran %d times in %d invocations", st.Freeze, ran, n)
		if st.FreezeWakesPollers && ran < n {
			t.Errorf("%s: FreezeWakesPollers, but the thread in epoll_wait ran %d times in %d invocations (want about %d)", st.Freeze, ran, n, 2*n)
		}
		if !st.FreezeWakesPollers && ran >= n/2 {
			t.Errorf("%s: not FreezeWakesPollers, but the thread in epoll_wait ran %d times in %d invocations", st.Freeze, ran, n)
		}
	}
}

// TestMemoryAfterPanic: a function that panics (the runtime reports the
// error, then its process exits) still gets a measured Max Memory Used, on
// a cold start and a crash alike; Lambda never reports 0.
func TestMemoryAfterPanic(t *testing.T) {
	r, rec := newTestRunner(t, []function.Definition{goDef(t)}, WithMemorySampleInterval(time.Hour))
	for i := range 5 {
		for _, ev := range []string{`{"action":"panic","text":"x"}`, `{"action":"crash"}`} {
			res := invoke(t, r, "gofn", ev)
			if !res.Failed() {
				t.Fatalf("%d %s: %+v", i, ev, res)
			}
			m := reportOf(t, rec, res.RequestID)
			if mb := atoi(m[5]); mb < 1 || res.MaxMemoryUsed < 1<<20 {
				t.Errorf("%d %s: Max Memory Used %s MB (%d bytes): %s", i, ev, m[5], res.MaxMemoryUsed, m[0])
			}
			// gofn uses a few MB; more is the memory of the process that
			// forked it (the kernel's maximum RSS counts it).
			if mb := atoi(m[5]); mb > 64 {
				t.Errorf("%d %s: Max Memory Used %d MB for a function that uses a few", i, ev, mb)
			}
			if strings.Contains(ev, "panic") && res.MemoryApproximate {
				t.Errorf("%d %s: approximate, though the runtime answered before it died", i, ev)
			}
		}
	}
}

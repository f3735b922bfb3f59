package examples_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/listen"
	"github.com/lambdabridge/lambdabridge/logline"
	"github.com/lambdabridge/lambdabridge/metric"
)

// layout copies the examples into a temporary directory, builds go-emf into
// it once for all tests, and returns the path of the copied template.
func layout(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds examples/go-emf; skipped with -short")
	}
	built.once.Do(func() { built.tmpl, built.err = buildLayout() })
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.tmpl
}

var built struct {
	once sync.Once
	dir  string
	tmpl string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

func buildLayout() (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("go tool not on PATH: %w", err)
	}
	dir, err := os.MkdirTemp("", "lambdabridge-examples-")
	if err != nil {
		return "", err
	}
	built.dir = dir
	build := exec.Command(goTool, "build", "-o", filepath.Join(dir, "go-emf", "bootstrap"), "./go-emf")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./go-emf: %w\n%s", err, out)
	}
	for _, f := range []string{"template.yaml", "shell-runtime/bootstrap"} {
		if err := copyFile(f, filepath.Join(dir, f)); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, "template.yaml"), nil
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	fi, err := os.Stat(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, data, fi.Mode().Perm())
}

// TestTemplateResolves: the SAM template of the examples gives two runnable
// functions with the template's settings.
func TestTemplateResolves(t *testing.T) {
	tmpl := layout(t)
	dir := filepath.Dir(tmpl)
	defs, err := function.FromTemplate(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	want := []function.Definition{
		{Name: "GoEmf", Handler: "bootstrap", Runtime: "provided.al2023", CodeDir: filepath.Join(dir, "go-emf"),
			Command: []string{filepath.Join(dir, "go-emf", "bootstrap")}, MemoryMB: 256, Timeout: 10 * time.Second,
			Architecture: "x86_64", Env: map[string]string{"EXAMPLE_STAGE": "local", "EXAMPLE_FUNCTION": "go-emf"}},
		{Name: "ShellRuntime", Handler: "function.handler", Runtime: "provided.al2023", CodeDir: filepath.Join(dir, "shell-runtime"),
			Command: []string{filepath.Join(dir, "shell-runtime", "bootstrap")}, MemoryMB: 128, Timeout: 5 * time.Second,
			Architecture: "x86_64", Env: map[string]string{"EXAMPLE_STAGE": "local", "EXAMPLE_FUNCTION": "shell-runtime"}},
	}
	if diff := cmp.Diff(want, defs, cmp.Comparer(func(a, b function.Definition) bool {
		return cmp.Equal(a.Name, b.Name) && a.Handler == b.Handler && a.Runtime == b.Runtime && a.CodeDir == b.CodeDir &&
			cmp.Equal(a.Command, b.Command) && a.MemoryMB == b.MemoryMB && a.Timeout == b.Timeout &&
			a.Architecture == b.Architecture && cmp.Equal(a.Env, b.Env) && a.Exec == b.Exec && len(b.Warnings) == 0
	})); diff != "" {
		t.Errorf("definitions (-want +got):\n%s", diff)
	}
	for _, d := range defs {
		if err := d.Validate(); err != nil {
			t.Errorf("%s: %v", d.Name, err)
		}
	}
}

// runtimeAPI is a minimal Lambda Runtime API: it hands out the queued events
// and records the answers.
type runtimeAPI struct {
	events chan invocation
	mu     sync.Mutex
	result map[string]answer
	done   chan string
}

type invocation struct{ id, event string }

type answer struct {
	kind, body, errorType string
}

func newRuntimeAPI(t *testing.T, events ...string) (*runtimeAPI, *httptest.Server) {
	api := &runtimeAPI{events: make(chan invocation, len(events)), result: map[string]answer{}, done: make(chan string, len(events))}
	for i, ev := range events {
		api.events <- invocation{id: fmt.Sprintf("req-%d", i+1), event: ev}
	}
	srv := httptest.NewServer(api)
	t.Cleanup(func() {
		srv.CloseClientConnections() // a runtime blocked in invocation/next
		srv.Close()
	})
	return api, srv
}

func (api *runtimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const prefix = "/2018-06-01/runtime/invocation/"
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	switch {
	case ok && rest == "next" && r.Method == http.MethodGet:
		select {
		case inv := <-api.events:
			h := w.Header()
			h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
			h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:example")
			h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
			io.WriteString(w, inv.event)
		case <-r.Context().Done():
		}
	case ok && r.Method == http.MethodPost:
		id, kind, _ := strings.Cut(rest, "/")
		body, _ := io.ReadAll(r.Body)
		api.mu.Lock()
		api.result[id] = answer{kind: kind, body: string(body), errorType: r.Header.Get("Lambda-Runtime-Function-Error-Type")}
		api.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		api.done <- id
	default:
		http.NotFound(w, r)
	}
}

// run starts def against api, waits for n answers, stops the process and
// returns its stdout lines.
func run(t *testing.T, def function.Definition, srv *httptest.Server, api *runtimeAPI, n int, extraEnv ...string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, def.Command[0], def.Command[1:]...)
	cmd.Dir = def.CodeDir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(srv.URL, "http://"),
		"_HANDLER=" + def.Handler,
		"LAMBDA_TASK_ROOT=" + def.CodeDir,
		"AWS_LAMBDA_FUNCTION_NAME=" + def.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(def.MemoryMB),
	}
	for k, v := range def.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stderr = &testWriter{t: t}
	cmd.WaitDelay = 5 * time.Second
	// Its own process group, killed whole: the shell runtime's curl is a
	// child of sh.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan []string, 1)
	go func() {
		var ls []string
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			ls = append(ls, sc.Text())
		}
		lines <- ls
	}()
	for range n {
		select {
		case <-api.done:
		case <-ctx.Done():
			t.Fatalf("%s: %d answers expected, timed out", def.Name, n)
		}
	}
	time.Sleep(50 * time.Millisecond) // let the last lines be written
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	got := <-lines
	cmd.Wait()
	return got
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Logf("stderr: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var (
	emfTimestamp = regexp.MustCompile(`"Timestamp":\d{13}`)
	monTimestamp = regexp.MustCompile(`^MONITORING\|\d{10}\|`)
)

// normalise replaces timestamps by TS so lines compare exactly.
func normalise(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		l = emfTimestamp.ReplaceAllString(l, `"Timestamp":TS`)
		out[i] = monTimestamp.ReplaceAllString(l, "MONITORING|TS|")
	}
	return out
}

// TestGoEMF runs the Go example against a Runtime API and checks exactly
// what it writes per invocation (the contract documented in README.md).
func TestGoEMF(t *testing.T) {
	tmpl := layout(t)
	defs, err := function.FromTemplate(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	def, _ := function.Find(defs, "GoEmf")

	var mu sync.Mutex
	var datagrams []string
	dd, err := listen.NewDogStatsD("127.0.0.1:0", func(p []byte, _ netip.AddrPort) {
		mu.Lock()
		defer mu.Unlock()
		for l := range strings.SplitSeq(strings.TrimRight(string(p), "\n"), "\n") {
			datagrams = append(datagrams, l)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go dd.Serve(ctx)

	api, srv := newRuntimeAPI(t, `{}`, `{"fail":"out of stock"}`, `{"orderId":"1001"}`)
	lines := run(t, def, srv, api, 3, "DD_DOGSTATSD_URL=udp://"+dd.Addr().String())

	perInvocation := func(n int, reqID string) []string {
		return []string{
			fmt.Sprintf("placing order (invocation %d)", n),
			`{"_aws":{"Timestamp":TS,"CloudWatchMetrics":[{"Namespace":"LambdaBridgeExample","Dimensions":[["Service","Operation"]],` +
				`"Metrics":[{"Name":"OrdersPlaced","Unit":"Count"},{"Name":"ProcessingLatency","Unit":"Milliseconds"},{"Name":"PayloadSize","Unit":"Bytes"}]}]},` +
				`"Service":"checkout","Operation":"PlaceOrder","OrdersPlaced":1,"ProcessingLatency":[12,25,40],"PayloadSize":2048,` +
				`"requestId":"` + reqID + `","functionVersion":"$LATEST"}`,
			"MONITORING|TS|1|count|checkout.orders|#service:checkout,operation:place_order",
			"MONITORING|TS|3|gauge|checkout.cart_items|#service:checkout",
			"MONITORING|TS|0.25|histogram|checkout.step_seconds|#service:checkout,step:payment",
			"MONITORING|TS|0.75|histogram|checkout.step_seconds|#service:checkout,step:payment",
		}
	}
	var want []string
	for i := 1; i <= 3; i++ {
		want = append(want, perInvocation(i, fmt.Sprintf("req-%d", i))...)
	}
	if diff := cmp.Diff(want, normalise(lines)); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "{") && !json.Valid([]byte(l)) {
			t.Errorf("EMF line is not JSON: %s", l)
		}
	}

	api.mu.Lock()
	answers := api.result
	api.mu.Unlock()
	wantAnswers := map[string]answer{
		"req-1": {kind: "response", body: `{"ok":true,"invocation":1}`},
		"req-2": {kind: "error", body: `{"errorMessage":"out of stock","errorType":"errorString"}`},
		"req-3": {kind: "response", body: `{"ok":true,"invocation":3}`},
	}
	if diff := cmp.Diff(wantAnswers, answers, cmp.AllowUnexported(answer{}), cmp.Transformer("compact", compactJSON)); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}

	// DogStatsD: flushed before each answer, so all 3 invocations' datagrams
	// are in once the answers are.
	perInvocationDD := []string{
		"checkout.requests:1|c|#service:checkout,operation:place_order",
		"checkout.queue_depth:7|g|#service:checkout",
		"checkout.item_price:9.5|h|#service:checkout",
		"checkout.item_price:20.5|h|#service:checkout",
		"checkout.payload_bytes:2048|d|#service:checkout",
		"checkout.db_query:15.000000|ms|#service:checkout,db:orders",
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(datagrams)
		mu.Unlock()
		if n >= 3*len(perInvocationDD) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	got := counts(datagrams)
	mu.Unlock()
	wantDD := map[string]int{}
	for _, l := range perInvocationDD {
		wantDD[l] += 3
	}
	if diff := cmp.Diff(wantDD, got); diff != "" {
		t.Errorf("dogstatsd lines, counted (-want +got):\n%s", diff)
	}

	// What lambdabridge makes of it: the Prometheus families, per invocation
	// (the list in README.md).
	perInvocationFamilies := []string{
		"lambda_bridge_example_orders_placed_total counter {service=checkout,operation=PlaceOrder} [1]",
		"lambda_bridge_example_processing_latency_seconds histogram {service=checkout,operation=PlaceOrder} [0.012 0.025 0.04]",
		"lambda_bridge_example_payload_size_bytes gauge {service=checkout,operation=PlaceOrder} [2048]",
		"checkout_orders_total counter {service=checkout,operation=place_order} [1]",
		"checkout_cart_items gauge {service=checkout} [3]",
		"checkout_step_seconds histogram {service=checkout,step=payment} [0.25]",
		"checkout_step_seconds histogram {service=checkout,step=payment} [0.75]",
		"checkout_requests_total counter {service=checkout,operation=place_order} [1]",
		"checkout_queue_depth gauge {service=checkout} [7]",
		"checkout_item_price histogram {service=checkout} [9.5]",
		"checkout_item_price histogram {service=checkout} [20.5]",
		"checkout_payload_bytes histogram {service=checkout} [2048]",
		"checkout_db_query_seconds histogram {service=checkout,db=orders} [0.015]",
	}
	wantFamilies := map[string]int{}
	for _, f := range perInvocationFamilies {
		wantFamilies[f] += 3
	}
	mu.Lock()
	gotFamilies := families(t, lines, datagrams)
	mu.Unlock()
	if diff := cmp.Diff(wantFamilies, gotFamilies); diff != "" {
		t.Errorf("families (-want +got):\n%s", diff)
	}
}

// families parses the stdout lines and DogStatsD payloads with
// lambdabridge's own parsers and renders every point as
// "family type {labels} [values in the family's unit]", counted. It fails the
// test on any diagnostic: the example must write clean metrics.
func families(t *testing.T, stdout, datagrams []string) map[string]int {
	t.Helper()
	p := logline.New()
	var b metric.Batch
	for i, l := range stdout {
		p.Parse(&b, []byte(l), metric.Origin{Source: "stdout", Line: i + 1})
	}
	for _, d := range datagrams {
		p.Datagram(&b, []byte(d), metric.Origin{Source: "udp"})
	}
	p.Finish(&b)
	for i := range b.Diags {
		t.Errorf("diagnostic: %s", b.Diags[i].String())
	}
	out := map[string]int{}
	for i := range b.Points {
		pt := &b.Points[i]
		fam := metric.Translate(pt)
		var ls []string
		for _, l := range metric.PromLabels(nil, pt) {
			ls = append(ls, l.Name+"="+l.Value)
		}
		var vs []string
		for _, v := range pt.Values {
			vs = append(vs, strconv.FormatFloat(v*fam.Scale, 'g', 6, 64))
		}
		out[fmt.Sprintf("%s %s {%s} [%s]", fam.Name, fam.Type, strings.Join(ls, ","), strings.Join(vs, " "))]++
	}
	return out
}

func counts(lines []string) map[string]int {
	m := map[string]int{}
	for _, l := range lines {
		m[l]++
	}
	return m
}

// compactJSON lets answers compare regardless of JSON field order and
// optional stackTrace.
func compactJSON(a answer) answer {
	var v map[string]any
	if json.Unmarshal([]byte(a.body), &v) == nil {
		delete(v, "stackTrace")
		b, _ := json.Marshal(v)
		a.body = string(b)
	}
	return a
}

// TestShellRuntime runs the shell custom runtime: success and error paths.
func TestShellRuntime(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not on PATH")
	}
	tmpl := layout(t)
	defs, err := function.FromTemplate(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	def, _ := function.Find(defs, "ShellRuntime")
	api, srv := newRuntimeAPI(t, `{"orderId":"1001"}`, `{"fail":true}`)
	lines := run(t, def, srv, api, 2)
	want := []string{
		"shell-runtime: init (handler function.handler)",
		`{"_aws":{"Timestamp":TS,"CloudWatchMetrics":[{"Namespace":"LambdaBridgeExample","Dimensions":[["Service"]],"Metrics":[{"Name":"ShellInvocations","Unit":"Count"}]}]},"Service":"shell-runtime","ShellInvocations":1,"requestId":"req-1"}`,
		"MONITORING|TS|1|count|shell.invocations|#runtime:shell",
		`{"_aws":{"Timestamp":TS,"CloudWatchMetrics":[{"Namespace":"LambdaBridgeExample","Dimensions":[["Service"]],"Metrics":[{"Name":"ShellInvocations","Unit":"Count"}]}]},"Service":"shell-runtime","ShellInvocations":1,"requestId":"req-2"}`,
		"MONITORING|TS|1|count|shell.invocations|#runtime:shell",
		"MONITORING|TS|1|count|shell.errors|#runtime:shell",
	}
	if diff := cmp.Diff(want, normalise(lines)); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	wantFamilies := map[string]int{
		"lambda_bridge_example_shell_invocations_total counter {service=shell-runtime} [1]": 2,
		"shell_invocations_total counter {runtime=shell} [1]":                               2,
		"shell_errors_total counter {runtime=shell} [1]":                                    1,
	}
	if diff := cmp.Diff(wantFamilies, families(t, lines, nil)); diff != "" {
		t.Errorf("families (-want +got):\n%s", diff)
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	wantAnswers := map[string]answer{
		"req-1": {kind: "response", body: `{"ok":true,"requestId":"req-1"}`},
		"req-2": {kind: "error", body: `{"errorMessage":"the event asked for an error","errorType":"HandlerError","stackTrace":[]}`, errorType: "HandlerError"},
	}
	if diff := cmp.Diff(wantAnswers, api.result, cmp.AllowUnexported(answer{})); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
}

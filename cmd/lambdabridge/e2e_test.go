package main

// End-to-end tests through the real CLI code path: the example function
// (examples/go-emf, built with `go build`) runs under `lambdabridge run`, and
// what it emitted is checked where it was delivered: a real Prometheus
// (remote_write, scraping /metrics, scraping a real Pushgateway), a real
// VictoriaMetrics (remote_write), the dashboards generated from the run's
// catalog, and the run's own summary. They need the backends of
// internal/testenv (skipped without them, failing under CI) and skip with
// -short.

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/lambdabridge/lambdabridge/dashboards"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
)

// e2eFunction is the name the tests give the example function.
const e2eFunction = "go-emf"

// e2eBuildFlags are the flags e2eGoBuild gives `go build` for lambdabridge
// itself (-race when the tests run with it: e2e_race_test.go).
var e2eBuildFlags []string

// e2eGoBuild builds the package pkg (relative to the repository root) into
// out.
func e2eGoBuild(t *testing.T, pkg, out string, flags ...string) {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go not in PATH: cannot build %s", pkg)
	}
	cmd := exec.Command(gobin, append(append([]string{"build"}, flags...), "-o", out, pkg)...)
	cmd.Dir = "../.."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

// e2eBuildGoEmf builds examples/go-emf into dir/go-emf/bootstrap (the layout
// examples/template.yaml expects under its CodeUri) and returns its path.
func e2eBuildGoEmf(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "go-emf", "bootstrap")
	e2eGoBuild(t, "./examples/go-emf", out)
	return out
}

// e2ePerInvocation is what one invocation of go-emf emits (examples/README.md),
// as PromQL selectors (without function_name and route labels) and their
// value after k invocations.
func e2ePerInvocation(k int) []struct {
	name, labels string
	want         float64
} {
	n := float64(k)
	emf := `service="checkout",operation="PlaceOrder"`
	return []struct {
		name, labels string
		want         float64
	}{
		// EMF
		{"lambda_bridge_example_orders_placed_total", emf, n},
		{"lambda_bridge_example_processing_latency_seconds_count", emf, 3 * n},
		{"lambda_bridge_example_processing_latency_seconds_sum", emf, 0.077 * n},
		{"lambda_bridge_example_payload_size_bytes", emf, 2048},
		// MONITORING lines
		{"checkout_orders_total", `service="checkout",operation="place_order"`, n},
		{"checkout_cart_items", `service="checkout"`, 3},
		{"checkout_step_seconds_count", `service="checkout",step="payment"`, 2 * n},
		{"checkout_step_seconds_sum", `service="checkout",step="payment"`, n},
		// DogStatsD
		{"checkout_requests_total", `service="checkout",operation="place_order"`, n},
		{"checkout_queue_depth", `service="checkout"`, 7},
		{"checkout_item_price_count", `service="checkout"`, 2 * n},
		{"checkout_item_price_sum", `service="checkout"`, 30 * n},
		{"checkout_payload_bytes_count", `service="checkout"`, n},
		{"checkout_payload_bytes_sum", `service="checkout"`, 2048 * n},
		{"checkout_db_query_seconds_count", `service="checkout",db="orders"`, n},
		{"checkout_db_query_seconds_sum", `service="checkout",db="orders"`, 0.015 * n},
		// Platform metrics of the runner
		{"lambda_invocations_total", "", n},
		{"lambda_errors_total", "", 0},
		{"lambda_throttles_total", "", 0},
		{"lambda_timeouts_total", "", 0},
		{"lambda_duration_seconds_count", "", n},
		{"lambda_concurrent_executions", "", 0},
	}
}

// e2eSelector joins label matchers, skipping empty ones.
func e2eSelector(name string, matchers ...string) string {
	var ms []string
	for _, m := range matchers {
		if m != "" {
			ms = append(ms, m)
		}
	}
	return name + "{" + strings.Join(ms, ",") + "}"
}

// e2eCLI is a lambdabridge command running in-process, as main runs it.
type e2eCLI struct {
	stdout, stderr syncBuffer
	cancel         context.CancelFunc
	done           chan int // the exit code
}

// e2eStartCLI runs `lambdabridge args...` in-process until its context is
// cancelled (stop) or it returns by itself.
func e2eStartCLI(t *testing.T, args ...string) *e2eCLI {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &e2eCLI{cancel: cancel, done: make(chan int, 1)}
	m := &Main{Stdin: strings.NewReader(""), Stdout: &r.stdout, Stderr: &r.stderr, Getenv: func(string) string { return "" }}
	go func() { r.done <- m.Exit(m.Run(ctx, args)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(60 * time.Second):
			t.Errorf("lambdabridge %s did not stop", args[0])
		}
	})
	return r
}

// waitFor waits until stderr matches re and returns the submatches; it fails
// the test when the command ends first or timeout passes.
func (r *e2eCLI) waitFor(t *testing.T, re string, timeout time.Duration) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	for deadline := time.Now().Add(timeout); ; time.Sleep(20 * time.Millisecond) {
		if m := rx.FindStringSubmatch(r.stderr.String()); m != nil {
			return m
		}
		select {
		case code := <-r.done:
			r.done <- code
			if m := rx.FindStringSubmatch(r.stderr.String()); m != nil {
				return m
			}
			t.Fatalf("lambdabridge exited (%d) without printing %s:\n%s", code, re, r.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s in stderr after %v:\n%s", re, timeout, r.stderr.String())
		}
	}
}

// stop cancels the command's context (what SIGINT does to main) and returns
// its exit code.
func (r *e2eCLI) stop(t *testing.T, timeout time.Duration) int {
	t.Helper()
	r.cancel()
	select {
	case code := <-r.done:
		r.done <- code
		return code
	case <-time.After(timeout):
		t.Fatalf("lambdabridge did not stop within %v:\n%s", timeout, r.stderr.String())
		return -1
	}
}

// e2eSummaryRow finds the function's row of run's summary table: requests,
// invocations, errors, timeouts, throttles, cold starts.
func e2eSummaryRow(t *testing.T, stderr, fn string) (requests, invocations, errs, timeouts, throttles, cold int) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(fn) + `\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no summary row for %s in:\n%s", fn, stderr)
	}
	v := make([]int, 6)
	for i := range v {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	return v[0], v[1], v[2], v[3], v[4], v[5]
}

// e2eInvokeAPI posts an event to run's invoke API and returns the response of
// go-emf: the environment's invocation number (1 on a cold start).
func e2eInvokeAPI(t *testing.T, url, event string) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(event))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var r struct {
		OK         bool `json:"ok"`
		Invocation int  `json:"invocation"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &r) != nil || !r.OK {
		t.Fatalf("invoke %s: %d %s", url, resp.StatusCode, body)
	}
	return r.Invocation
}

var e2eRegisterPlugins sync.Once

// TestE2ERunEverySink runs the example function under `lambdabridge run`
// with every sink at once (issue 4) and checks through PromQL, on every route,
// that what arrived equals what the function emitted:
//
//	/metrics      <- Prometheus scrape                 {job="lambdabridge"}
//	remote_write  -> Prometheus receiver               {job=""}
//	remote_write  -> VictoriaMetrics
//	Pushgateway   <- Prometheus scrape, honor_labels   {job="go-emf-e2e"}
//
// Then (issue 5) it builds the dashboard from the run's --catalog with
// `lambdabridge dashboard` and checks that every PromQL expression of it
// parses and returns data from that Prometheus over the run: no empty panel,
// the platform overview included.
func TestE2ERunEverySink(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus, VictoriaMetrics and Pushgateway")
	}
	begin := time.Now()
	dir := t.TempDir()
	bootstrap := e2eBuildGoEmf(t, dir)
	const pushJob = "go-emf-e2e"
	pg := testenv.StartPushgateway(t)
	vm := testenv.StartVictoriaMetrics(t)
	prom := testenv.StartPrometheus(t, testenv.WithScrapeInterval(500*time.Millisecond), testenv.WithScrape(
		testenv.ScrapeConfig{Job: "lambdabridge", FileSD: true},
		testenv.ScrapeConfig{Job: "pushgateway", Targets: []string{pg.Addr}, HonorLabels: true},
	))
	t.Logf("function built, backends ready after %.1fs", time.Since(begin).Seconds())

	// 100 invocations at 40/s (so the counters grow while Prometheus
	// watches), at most 4 environments, each recycled after 1 s idle.
	const events = 100
	catalogPath := filepath.Join(dir, "catalog.json")
	runStart := time.Now()
	run := e2eStartCLI(t, "run", "--handler", bootstrap, "--name", e2eFunction,
		"--invocations", strconv.Itoa(events), "--concurrency", "4", "--rate", "40", "--idle-timeout", "1s",
		"--dogstatsd-addr", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--api", "127.0.0.1:0", "--serve",
		"--remote-write", prom.RemoteWriteURL(), "--remote-write", vm.RemoteWriteURL(), "--remote-write-interval", "500ms",
		"--pushgateway", pg.URL, "--pushgateway-job", pushJob,
		"--catalog", catalogPath, "--logs", "none", "--progress", "0")
	scrapeAddr := run.waitFor(t, `delivering to scrape http://(\S+)/metrics`, 30*time.Second)[1]
	prom.SetTargets(t, "lambdabridge", scrapeAddr)
	api := run.waitFor(t, `invoke API for `+e2eFunction+` on (http://\S+)`, 60*time.Second)[1]
	t.Logf("%d invocations done after %.1fs", events, time.Since(runStart).Seconds())

	// One more cold start once Prometheus has seen the first ones, so that
	// rate() over the init-duration histogram is defined (a series that
	// starts at its final value has no increase PromQL can see). The
	// environments are recycled 1 s after their last invocation.
	testenv.EventuallyValue(t, prom, `sum(lambda_invocations_total{job="lambdabridge"})`, events, 30*time.Second)
	extra := 0
	for cold := false; !cold; {
		if extra > 0 {
			time.Sleep(1200 * time.Millisecond) // pacing: longer than the idle timeout
		}
		extra++
		cold = e2eInvokeAPI(t, api, `{"source":"e2e"}`) == 1
		if extra > 20 {
			t.Fatalf("%d invocations through the API, none was a cold start", extra)
		}
	}
	k := events + extra

	const timeout = 30 * time.Second
	routes := []struct {
		name  string
		q     testenv.Querier
		match string
	}{
		{"scrape", prom, `job="lambdabridge"`},
		{"remote_write prometheus", prom, `job=""`},
		{"remote_write victoria-metrics", vm, ""},
	}
	fn := `function_name="` + e2eFunction + `"`
	var cold float64
	for _, r := range routes {
		t.Run(r.name, func(t *testing.T) {
			for _, w := range e2ePerInvocation(k) {
				testenv.EventuallyValue(t, r.q, "sum("+e2eSelector(w.name, fn, r.match, w.labels)+")", w.want, timeout)
			}
			// Cold starts: one per environment, each with an init duration.
			if cold == 0 {
				var err error
				cold, err = testenv.Value(context.Background(), r.q, "sum("+e2eSelector("lambda_cold_starts_total", fn, r.match)+")")
				if err != nil || cold < 2 {
					t.Fatalf("cold starts %v (%v): want the first environment and the one the API call started", cold, err)
				}
			}
			testenv.EventuallyValue(t, r.q, "sum("+e2eSelector("lambda_cold_starts_total", fn, r.match)+")", cold, timeout)
			testenv.EventuallyValue(t, r.q, "sum("+e2eSelector("lambda_init_duration_seconds_count", fn, r.match)+")", cold, timeout)
		})
	}
	// lambdabridge's own metrics, through the scrape: every line read and
	// every sample sent, none dropped.
	self := []struct {
		q    string
		want float64
	}{
		{`lambdabridge_log_lines_total{job="lambdabridge",format="emf"}`, float64(k)},
		{`lambdabridge_log_lines_total{job="lambdabridge",format="monitoring"}`, 4 * float64(k)},
		{`count(lambdabridge_remote_write_samples_total{job="lambdabridge",outcome="sent"} > 0)`, 2},
		{`count(lambdabridge_remote_write_samples_total{job="lambdabridge",outcome="dropped"}) or vector(0)`, 0},
		{`sum(lambdabridge_diagnostics_total{job="lambdabridge",severity="error"}) or vector(0)`, 0},
	}
	for _, c := range self {
		testenv.EventuallyValue(t, prom, c.q, c.want, timeout)
	}
	t.Logf("scrape and remote_write routes checked after %.1fs", time.Since(begin).Seconds())

	// Interrupt: the sinks deliver what they hold, the Pushgateway gets its
	// last push, the catalog is written, the summary printed; exit 0.
	if code := run.stop(t, 30*time.Second); code != 0 {
		t.Fatalf("run exit code %d:\n%s", code, run.stderr.String())
	}
	stderr := run.stderr.String()
	req, inv, errs, tos, thr, cs := e2eSummaryRow(t, stderr, e2eFunction)
	if req != k || inv != k || errs != 0 || tos != 0 || thr != 0 || float64(cs) != cold {
		t.Errorf("summary: requests %d invocations %d errors %d timeouts %d throttles %d cold starts %d; want %d invocations, %v cold starts",
			req, inv, errs, tos, thr, cs, k, cold)
	}
	if strings.Contains(stderr, "lambdabridge run:") {
		t.Errorf("run reported a problem:\n%s", stderr)
	}
	// The Pushgateway holds the last push, scraped by Prometheus.
	t.Run("pushgateway", func(t *testing.T) {
		for _, w := range e2ePerInvocation(k) {
			testenv.EventuallyValue(t, prom, "sum("+e2eSelector(w.name, fn, `job="`+pushJob+`"`, w.labels)+")", w.want, timeout)
		}
		testenv.EventuallyValue(t, prom, "sum("+e2eSelector("lambda_cold_starts_total", fn, `job="`+pushJob+`"`)+")", cold, timeout)
	})
	t.Logf("every route checked after %.1fs", time.Since(begin).Seconds())

	t.Run("dashboard", func(t *testing.T) {
		e2eCheckDashboard(t, prom, catalogPath, runStart)
	})
	t.Logf("total %.1fs", time.Since(begin).Seconds())
}

// e2eCheckDashboard generates the Prometheus dashboard of the catalog with
// `lambdabridge dashboard` and checks that every query of it parses and
// returns data in prom between from and now, and that every label variable
// lists values.
func e2eCheckDashboard(t *testing.T, prom *testenv.Prometheus, catalogPath string, from time.Time) {
	out := filepath.Join(t.TempDir(), "dash.json")
	if _, errs, code := runMain(t, context.Background(), "", "dashboard", "--catalog", catalogPath, "-o", out, "--quiet"); code != 0 {
		t.Fatalf("dashboard: exit %d:\n%s", code, errs)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	e2eRegisterPlugins.Do(plugins.RegisterDefaultPlugins)
	var d dashboard.Dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	// Every panel has a query (rows hold panels; they are not panels).
	for _, p := range d.Panels {
		var ps []dashboard.Panel
		if p.Panel != nil {
			ps = append(ps, *p.Panel)
		}
		if p.RowPanel != nil {
			ps = append(ps, p.RowPanel.Panels...)
		}
		for _, p := range ps {
			if len(p.Targets) == 0 && p.Type != "text" {
				t.Errorf("panel %q has no query", e2eDeref(p.Title))
			}
		}
	}
	vars := map[string]string{"function": e2eFunction}
	exprs := dashboards.Exprs(d, vars)
	queries := dashboards.PromQueries(d)
	if len(exprs) != len(queries) || len(exprs) < 20 {
		t.Fatalf("%d expressions, %d queries", len(exprs), len(queries))
	}
	// The overview row: one query per platform family at least.
	for _, fam := range []string{"lambda_invocations_total", "lambda_errors_total", "lambda_throttles_total", "lambda_timeouts_total",
		"lambda_cold_starts_total", "lambda_duration_seconds_bucket", "lambda_init_duration_seconds_bucket",
		"lambda_concurrent_executions", "lambda_max_memory_used_bytes", "lambda_estimated_cost_usd_total"} {
		if !strings.Contains(strings.Join(exprs, "\n"), fam+"{") {
			t.Errorf("no query of %s in the dashboard", fam)
		}
	}
	ctx := context.Background()
	end := time.Now()
	p := parser.NewParser(parser.Options{})
	for i, e := range exprs {
		q := queries[i]
		if _, err := p.ParseExpr(e); err != nil {
			t.Errorf("panel %q %s: %s does not parse: %v", q.Panel, q.RefID, e, err)
			continue
		}
		m, err := prom.QueryRange(ctx, e, from, end, time.Second)
		if err != nil {
			t.Errorf("panel %q %s: %v", q.Panel, q.RefID, err)
			continue
		}
		if n := e2eCountValues(m); n == 0 {
			t.Errorf("panel %q %s returns no data between %s and %s: %s", q.Panel, q.RefID, from.Format(time.TimeOnly), end.Format(time.TimeOnly), e)
		}
		if q.Instant {
			v, err := prom.QueryAt(ctx, e, end)
			if err != nil || len(v) == 0 {
				t.Errorf("panel %q %s (instant) returns no data at %s: %s: %v %v", q.Panel, q.RefID, end.Format(time.TimeOnly), e, v, err)
			}
		}
	}
	// Every variable lists values; the function variable the example's name.
	for _, v := range dashboards.Variables(d) {
		if v.Type != "query" {
			continue
		}
		in := strings.TrimSuffix(strings.TrimPrefix(v.Query, "label_values("), ")")
		i := strings.LastIndex(in, ", ")
		if i < 0 {
			t.Errorf("variable %s: query %q is not label_values(e2eSelector, label)", v.Name, v.Query)
			continue
		}
		sel, label := dashboards.Expand(in[:i], vars), in[i+2:]
		e := "count by (" + label + ") (" + sel + ")"
		vec, err := prom.Query(ctx, e)
		if err != nil || !strings.Contains(vec.String(), label+"=") {
			t.Errorf("variable %s (%s): %s = %v, %v", v.Name, v.Query, e, vec, err)
		}
		if v.Name == "function" && !strings.Contains(vec.String(), `function_name="`+e2eFunction+`"`) {
			t.Errorf("variable function: %s = %v, want %s", e, vec, e2eFunction)
		}
	}
}

// e2eCountValues counts the samples of a range query that are numbers.
func e2eCountValues(m testenv.Matrix) int {
	n := 0
	for _, pts := range m {
		for _, p := range pts {
			if !math.IsNaN(p.V) && !math.IsInf(p.V, 0) {
				n++
			}
		}
	}
	return n
}

func e2eDeref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// e2eProcess is one entry of /proc.
type e2eProcess struct {
	pid, ppid int
	state     string // R, S, Z...
	exe       string // the executable (empty for zombies and others' processes)
}

// e2eProcesses lists the processes of /proc.
func e2eProcesses() []e2eProcess {
	ents, _ := os.ReadDir("/proc")
	var out []e2eProcess
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		exe, _ := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		out = append(out, e2eProcess{pid: pid, ppid: ppid, state: f[0], exe: exe})
	}
	return out
}

// e2eLeftovers lists the processes still running the executable exe, and the
// zombie children of this test process.
func e2eLeftovers(exe string) []e2eProcess {
	var out []e2eProcess
	self := os.Getpid()
	for _, p := range e2eProcesses() {
		if p.exe == exe || p.ppid == self && p.state == "Z" {
			out = append(out, p)
		}
	}
	return out
}

// e2eCheckNoLeftovers waits (the kernel reaps asynchronously) until no process
// runs exe and this test process has no zombie child.
func e2eCheckNoLeftovers(t *testing.T, exe string) {
	t.Helper()
	var left []e2eProcess
	deadline := time.Now().Add(10 * time.Second)
	for {
		if left = e2eLeftovers(exe); len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes left behind (%s, or zombies of pid %d): %+v", exe, os.Getpid(), left)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

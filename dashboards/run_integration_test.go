package dashboards_test

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	dto "github.com/prometheus/client_model/go"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/dashboards"
	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
	"github.com/lambdabridge/lambdabridge/listen"
	"github.com/lambdabridge/lambdabridge/pipeline"
	"github.com/lambdabridge/lambdabridge/remotewrite"
	"github.com/lambdabridge/lambdabridge/runner"
)

// deliverEvery is the remote_write interval of the runs below, and the
// scrape interval the provisioned data source declares (Grafana derives
// $__rate_interval from it).
const deliverEvery = time.Second

// TestDashboardAfterRun is issue 11's acceptance test: the example
// template's two functions run at concurrency 4 (every tenth event asks for
// a function error) into a real Prometheus and a real VictoriaMetrics by
// remote_write; then every query of the generated Prometheus dashboard,
// with its variables expanded as Grafana does over a time range covering
// the run, returns data, and every stat panel equals the run's summary
// (invocations, errors, timeouts, cold starts, ...) or, for a custom
// counter, the total lambdabridge counted. Instant queries right after the
// run return the final values.
func TestDashboardAfterRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example functions and runs them into Prometheus and VictoriaMetrics")
	}
	defs := exampleTemplate(t)
	for _, tc := range []struct {
		name        string
		invocations int
		rate        float64
	}{
		{"20 at full speed", 20, 0},
		{"90 at rate 2", 90, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prom := testenv.StartPrometheus(t)
			vm := testenv.StartVictoriaMetrics(t)
			r := runTemplate(t, defs, tc.invocations, tc.rate, prom.RemoteWriteURL(), vm.RemoteWriteURL())
			for _, b := range []struct {
				name string
				q    promQuerier
			}{{"prometheus", prom}, {"victoriametrics", vm}} {
				t.Run(b.name, func(t *testing.T) { checkDashboard(t, r, b.q) })
			}
		})
	}
}

// promQuerier is what the checks ask of a backend.
type promQuerier interface {
	QueryAt(ctx context.Context, query string, ts time.Time) (testenv.Vector, error)
	QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) (testenv.Matrix, error)
}

// exampleTemplate builds examples/template.yaml's functions into a
// temporary copy of examples/ and returns their definitions.
func exampleTemplate(t *testing.T) []function.Definition {
	t.Helper()
	dir := t.TempDir()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH: cannot build the example function")
	}
	cmd := exec.Command(gobin, "build", "-o", filepath.Join(dir, "go-emf", "bootstrap"), "./examples/go-emf")
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	for _, f := range []struct {
		from, to string
		mode     os.FileMode
	}{
		{"../examples/template.yaml", "template.yaml", 0o644},
		{"../examples/shell-runtime/bootstrap", "shell-runtime/bootstrap", 0o755},
	} {
		b, err := os.ReadFile(f.from)
		if err != nil {
			t.Fatal(err)
		}
		to := filepath.Join(dir, f.to)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	defs, err := function.FromTemplate(filepath.Join(dir, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) != 2 {
		t.Fatalf("template: %d functions, want 2", len(defs))
	}
	return defs
}

// run is what a finished run leaves: its summary, the catalog, the final
// aggregation and its time span.
type run struct {
	stats      []runner.Stats
	catalog    *catalog.Catalog
	final      []*dto.MetricFamily
	start, end time.Time
}

// runTemplate runs every function of defs for n invocations (at rate per
// second, 0: back to back) at concurrency 4, as `run` does: a DogStatsD
// listener per function, the pipeline delivering by remote_write to urls.
func runTemplate(t *testing.T, defs []function.Definition, n int, rate float64, urls ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res := run{catalog: catalog.New(), start: time.Now()}
	opts := []pipeline.Option{pipeline.WithCatalog(res.catalog), pipeline.WithDrainTimeout(30 * time.Second)}
	var writers []*remotewrite.Writer
	for _, u := range urls {
		cfg, err := remotewrite.URLConfig(u, "")
		if err != nil {
			t.Fatal(err)
		}
		w, err := remotewrite.New(cfg, remotewrite.WithInterval(deliverEvery))
		if err != nil {
			t.Fatal(err)
		}
		writers = append(writers, w)
		opts = append(opts, pipeline.WithSink(pipeline.RemoteWrite(w)))
	}
	p, err := pipeline.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	// One DogStatsD listener per function, so its points carry the
	// function's name.
	lctx, stopListeners := context.WithCancel(ctx)
	var lwg sync.WaitGroup
	addrs := map[string]netip.AddrPort{}
	for _, d := range defs {
		l, err := listen.NewDogStatsD("127.0.0.1:0", p.DatagramFunc(d.Name))
		if err != nil {
			t.Fatal(err)
		}
		addrs[d.Name] = l.Addr()
		lwg.Go(func() { _ = l.Serve(lctx) })
	}
	pctx, stopPipeline := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- p.Run(pctx) }()
	r, err := runner.New(defs, runner.WithLogSink(p), runner.WithPlatformSink(p), runner.WithConcurrency(4),
		runner.WithEnvironmentVars(func(fn, _ string) []string {
			var kv []string
			for k, v := range listen.DogStatsDClientEnv(addrs[fn]) {
				kv = append(kv, k+"="+v)
			}
			return kv
		}))
	if err != nil {
		t.Fatal(err)
	}
	var events [][]byte
	for i := 1; i <= 9; i++ {
		events = append(events, fmt.Appendf(nil, `{"order":%d}`, i))
	}
	events = append(events, []byte(`{"fail":"out of stock"}`))
	var dwg sync.WaitGroup
	for _, d := range defs {
		dwg.Go(func() {
			if _, err := r.Drive(ctx, runner.Load{Function: d.Name, Events: events, Invocations: n, Rate: rate}); err != nil {
				t.Errorf("drive %s: %v", d.Name, err)
			}
		})
	}
	dwg.Wait()
	_ = r.Close()
	time.Sleep(100 * time.Millisecond) // the last datagrams reach the listeners
	stopListeners()
	lwg.Wait()
	p.Finish()
	stopPipeline()
	if err := <-done; err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	res.end = time.Now()
	for _, d := range defs {
		st, _ := r.Stats(d.Name)
		res.stats = append(res.stats, st)
	}
	var sb strings.Builder
	_ = runner.WriteSummary(&sb, res.stats)
	t.Logf("run of %s:\n%s", time.Since(res.start).Round(time.Millisecond), sb.String())
	for _, w := range writers {
		if st := w.Stats(); st.DroppedTotal() != 0 || st.Sent != st.Emitted {
			t.Errorf("remote_write %s: %s", w.Name(), st)
		}
	}
	// A gauge value older than the one held is superseded (the newest
	// wins, documented); nothing else may be dropped.
	for _, d := range p.Aggregator().Stats().Dropped {
		if d.Reason != aggregate.ReasonOutOfOrder {
			t.Errorf("aggregator dropped %d values of %s: %s", d.Values, d.Family, d.Reason)
		}
	}
	if res.final, err = p.Aggregator().Gather(); err != nil {
		t.Fatal(err)
	}
	return res
}

// checkDashboard builds the dashboard from the run's catalog and queries
// every panel over a time range covering the run.
func checkDashboard(t *testing.T, r run, q promQuerier) {
	d, err := dashboards.Prometheus(r.catalog)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if f, ok := q.(interface{ Flush(context.Context) error }); ok {
		// VictoriaMetrics makes what it accepted searchable within a second
		// or two (Flush hurries it): wait for the final values first.
		for i := 0; i < 20 && (f.Flush(ctx) != nil || len(finalMismatches(r, q)) > 0); i++ {
			time.Sleep(500 * time.Millisecond)
		}
	}
	// The time range a user picks to see the run: from before it to now
	// (whole seconds long, as $__range is).
	to := time.Now()
	from := to.Add(-to.Sub(r.start.Add(-10 * time.Second)).Truncate(time.Second))
	vars := dashboards.GrafanaVars(from, to, deliverEvery, 1000)
	step := time.Second
	if v, err := time.ParseDuration(vars["__interval"]); err == nil {
		step = v
	}
	var fns []string
	for _, st := range r.stats {
		fns = append(fns, st.Function)
	}
	for _, sel := range []struct {
		name string
		fn   string
	}{{"All", ".*"}, {"both functions", dashboards.RegexValues(fns...)}} {
		vars["function"] = sel.fn
		withData, total := 0, 0
		byPanel := map[string]bool{}
		for _, pq := range dashboards.PromQueries(d) {
			e := dashboards.Expand(pq.Expr, vars)
			n, err := countValues(ctx, q, e, pq.Instant, from, to, step)
			if err != nil {
				t.Errorf("%s: panel %q %s: %v", sel.name, pq.Panel, e, err)
			}
			if _, seen := byPanel[pq.Panel]; !seen {
				total++
				byPanel[pq.Panel] = false
			}
			if n > 0 && !byPanel[pq.Panel] {
				byPanel[pq.Panel] = true
				withData++
			}
			if n == 0 {
				t.Errorf("%s: panel %q query %s has no data: %s", sel.name, pq.Panel, pq.RefID, e)
			}
		}
		t.Logf("function=%s: %d of %d panels with data (range %s, $__rate_interval %s)", sel.name, withData, total, vars["__range"], vars["__rate_interval"])
	}
	vars["function"] = ".*"
	checkVariables(t, q, d, vars, to)
	checkStats(t, r, q, d, vars, to)
	checkFinalValues(t, r, q)
}

var labelValues = regexp.MustCompile(`^label_values\((.+), (\w+)\)$`)

// checkVariables runs every query variable's label_values as Grafana does
// (the series of its selector over the time range, their label's values)
// and wants values.
func checkVariables(t *testing.T, q promQuerier, d dashboard.Dashboard, vars map[string]string, at time.Time) {
	var lines []string
	for _, v := range dashboards.Variables(d) {
		m := labelValues.FindStringSubmatch(v.Query)
		if v.Type != "query" || m == nil {
			continue
		}
		e := "count by (" + m[2] + ") (last_over_time(" + dashboards.Expand(m[1], vars) + "[" + vars["__range"] + "]))"
		vec, err := q.QueryAt(context.Background(), e, at)
		var values []string
		for k := range vec {
			if _, val, ok := strings.Cut(k, m[2]+"=\""); ok {
				values = append(values, strings.TrimSuffix(strings.TrimSuffix(val, "}"), "\""))
			}
		}
		if err != nil || len(values) == 0 {
			t.Errorf("variable %s (%s) lists no values: %s = %v, %v", v.Name, v.Query, e, vec, err)
		}
		slices.Sort(values)
		lines = append(lines, v.Name+"="+strings.Join(values, "|"))
	}
	t.Logf("variables: %s", strings.Join(lines, " "))
}

func countValues(ctx context.Context, q promQuerier, e string, instant bool, from, to time.Time, step time.Duration) (int, error) {
	n := 0
	if instant {
		v, err := q.QueryAt(ctx, e, to)
		for _, x := range v {
			if !math.IsNaN(x) {
				n++
			}
		}
		return n, err
	}
	m, err := q.QueryRange(ctx, e, from, to, step)
	for _, pts := range m {
		for _, p := range pts {
			if !math.IsNaN(p.V) {
				n++
			}
		}
	}
	return n, err
}

var counterOf = regexp.MustCompile(`^Prometheus counter (\S+) from`)

// checkStats compares every stat panel with the run's summary table, or a
// custom counter's panel with the total lambdabridge counted.
func checkStats(t *testing.T, r run, q promQuerier, d dashboard.Dashboard, vars map[string]string, at time.Time) {
	var sum runner.Stats
	for _, st := range r.stats {
		sum.Invocations += st.Invocations
		sum.Errors += st.Errors
		sum.Timeouts += st.Timeouts
		sum.Throttles += st.Throttles
		sum.ColdStarts += st.ColdStarts
		sum.BilledDuration += st.BilledDuration
		sum.CostUSD += st.CostUSD
	}
	want := map[string]float64{
		"Invocations":     float64(sum.Invocations),
		"Errors":          float64(sum.Errors),
		"Error rate":      100 * float64(sum.Errors) / float64(sum.Invocations),
		"Timeouts":        float64(sum.Timeouts),
		"Throttles":       float64(sum.Throttles),
		"Cold starts":     float64(sum.ColdStarts),
		"Billed duration": sum.BilledDuration.Seconds(),
		"Estimated cost":  sum.CostUSD,
	}
	totals := counterTotals(r.final)
	var lines []string
	for _, p := range statPanels(d) {
		w, ok := want[p.title]
		if m := counterOf.FindStringSubmatch(p.desc); m != nil && !ok {
			w, ok = totals[m[1]], true
		}
		if !ok {
			t.Errorf("stat panel %q: no expected value", p.title)
			continue
		}
		e := dashboards.Expand(p.expr, vars)
		v, err := q.QueryAt(context.Background(), e, at)
		if err != nil || len(v) != 1 {
			t.Errorf("stat %q: %s = %v, %v", p.title, e, v, err)
			continue
		}
		var got float64
		for _, x := range v {
			got = x
		}
		lines = append(lines, fmt.Sprintf("%s=%g (summary %g)", p.title, got, w))
		if !equalTotal(got, w) {
			t.Errorf("stat %q = %v, want %v (the run's summary): %s", p.title, got, w, e)
		}
	}
	t.Logf("stat panels: %s", strings.Join(lines, ", "))
}

// equalTotal: counts are exact; sums of durations and costs (added in
// another order by the backend) agree to 1e-9 relative.
func equalTotal(got, want float64) bool {
	if got == want {
		return true
	}
	return math.Abs(got-want) <= 1e-9*math.Max(math.Abs(want), 1e-12)
}

type statPanel struct{ title, desc, expr string }

func statPanels(d dashboard.Dashboard) []statPanel {
	var out []statPanel
	for _, p := range d.Panels {
		if p.Panel == nil || p.Panel.Type != "stat" {
			continue
		}
		qs := dashboards.PromQueries(dashboard.Dashboard{Panels: []dashboard.PanelOrRowPanel{p}})
		if len(qs) != 1 {
			continue
		}
		sp := statPanel{title: qs[0].Panel, expr: qs[0].Expr}
		if p.Panel.Description != nil {
			sp.desc = *p.Panel.Description
		}
		out = append(out, sp)
	}
	return out
}

// counterTotals sums every counter family of the final aggregation.
func counterTotals(fams []*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, f := range fams {
		if f.GetType() != dto.MetricType_COUNTER {
			continue
		}
		for _, m := range f.GetMetric() {
			out[f.GetName()] += m.GetCounter().GetValue()
		}
	}
	return out
}

// checkFinalValues: right after the run (no stale markers), an instant
// query of every counter and histogram count returns its final value.
func checkFinalValues(t *testing.T, r run, q promQuerier) {
	for _, m := range finalMismatches(r, q) {
		t.Error(m)
	}
	t.Logf("%d counters and histogram counts checked at their final values right after the run", len(counterTotals(r.final))+histograms(r.final))
}

func histograms(fams []*dto.MetricFamily) int {
	n := 0
	for _, f := range fams {
		if f.GetType() == dto.MetricType_HISTOGRAM {
			n++
		}
	}
	return n
}

// finalMismatches lists the counters and histogram counts whose instant
// value now differs from the run's final aggregation.
func finalMismatches(r run, q promQuerier) []string {
	var out []string
	for _, f := range r.final {
		name := f.GetName()
		var want float64
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			want = counterTotals([]*dto.MetricFamily{f})[name]
		case dto.MetricType_HISTOGRAM:
			for _, m := range f.GetMetric() {
				want += float64(m.GetHistogram().GetSampleCount())
			}
			name += "_count"
		default:
			continue
		}
		e := "sum(" + name + ")"
		v, err := q.QueryAt(context.Background(), e, time.Now())
		if err != nil || len(v) != 1 || !equalTotal(v["{}"], want) {
			out = append(out, fmt.Sprintf("instant %s = %v, %v; want %v", e, v, err, want))
		}
	}
	return out
}

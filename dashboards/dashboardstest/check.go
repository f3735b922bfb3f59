// Package dashboardstest evaluates a generated Prometheus dashboard against
// a real backend as Grafana would after a run: every panel query with its
// variables expanded by Grafana's documented rules over a time range
// covering the run must return data, every stat panel must equal the run's
// summary (or the total lambdabridge counted for a custom counter), and
// instant queries right after the run must return the final values.
//
//	d, err := dashboards.Prometheus(cat)
//	r := dashboardstest.Run{Stats: stats, Final: fams, Start: start, Interval: time.Second}
//	dashboardstest.Check(t, d, r, prom) // prom: a testenv.Prometheus or VictoriaMetrics
package dashboardstest

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	dto "github.com/prometheus/client_model/go"

	"github.com/lambdabridge/lambdabridge/dashboards"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
	"github.com/lambdabridge/lambdabridge/runner"
)

// Querier is what the checks ask of a backend (testenv.Prometheus,
// testenv.VictoriaMetrics).
type Querier interface {
	QueryAt(ctx context.Context, query string, ts time.Time) (testenv.Vector, error)
	QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) (testenv.Matrix, error)
}

// Run is what a finished run leaves: its summary per function, the
// families lambdabridge counted (the totals of the custom counters), its
// start and the delivery interval (the scrape interval the data source
// declares; Grafana derives $__rate_interval from it).
type Run struct {
	Stats    []runner.Stats
	Final    []*dto.MetricFamily
	Start    time.Time
	Interval time.Duration
}

// Check queries every panel of d over a time range covering the run, as
// Grafana does: with every function ("All") and with the run's functions
// picked; then its variables, its stat panels against the summary and the
// final values.
func Check(t testing.TB, d dashboard.Dashboard, r Run, q Querier) {
	t.Helper()
	ctx := context.Background()
	if f, ok := q.(interface{ Flush(context.Context) error }); ok {
		// VictoriaMetrics makes what it accepted searchable within a second
		// or two (Flush hurries it): wait for the final values first.
		for i := 0; i < 20 && (f.Flush(ctx) != nil || len(finalMismatches(r, q)) > 0); i++ {
			time.Sleep(500 * time.Millisecond)
		}
	}
	from, to, step, vars := Window(r)
	var fns []string
	for _, st := range r.Stats {
		fns = append(fns, st.Function)
	}
	for _, sel := range []struct {
		name string
		fn   string
	}{{"All", ".*"}, {"the run's functions", dashboards.RegexValues(fns...)}} {
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

// Window is the time range a user picks to see the run, from 10 s before it
// to now (whole seconds long, as $__range is), the step of a range query
// ($__interval) and the values Grafana gives its built-in variables there.
func Window(r Run) (from, to time.Time, step time.Duration, vars map[string]string) {
	to = time.Now()
	from = to.Add(-to.Sub(r.Start.Add(-10 * time.Second)).Truncate(time.Second))
	vars = dashboards.GrafanaVars(from, to, r.Interval, 1000)
	step = time.Second
	if v, err := time.ParseDuration(vars["__interval"]); err == nil {
		step = v
	}
	return from, to, step, vars
}

var labelValues = regexp.MustCompile(`^label_values\((.+), (\w+)\)$`)

// checkVariables runs every query variable's label_values as Grafana does
// (the series of its selector over the time range, their label's values)
// and wants values.
func checkVariables(t testing.TB, q Querier, d dashboard.Dashboard, vars map[string]string, at time.Time) {
	t.Helper()
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

func countValues(ctx context.Context, q Querier, e string, instant bool, from, to time.Time, step time.Duration) (int, error) {
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
func checkStats(t testing.TB, r Run, q Querier, d dashboard.Dashboard, vars map[string]string, at time.Time) {
	t.Helper()
	var sum runner.Stats
	for _, st := range r.Stats {
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
	totals := CounterTotals(r.Final)
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

// CounterTotals sums every counter family of fams over its series.
func CounterTotals(fams []*dto.MetricFamily) map[string]float64 {
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
func checkFinalValues(t testing.TB, r Run, q Querier) {
	t.Helper()
	for _, m := range finalMismatches(r, q) {
		t.Error(m)
	}
	t.Logf("%d counters and histogram counts checked at their final values right after the run", len(CounterTotals(r.Final))+histograms(r.Final))
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
// value now differs from the run's final families.
func finalMismatches(r Run, q Querier) []string {
	var out []string
	for _, f := range r.Final {
		name := f.GetName()
		var want float64
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			want = CounterTotals([]*dto.MetricFamily{f})[name]
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

package extension_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	dto "github.com/prometheus/client_model/go"

	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/dashboards"
	"github.com/lambdabridge/lambdabridge/dashboards/dashboardstest"
	"github.com/lambdabridge/lambdabridge/extension"
	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
	"github.com/lambdabridge/lambdabridge/listen"
	"github.com/lambdabridge/lambdabridge/logsource"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/pipeline"
	"github.com/lambdabridge/lambdabridge/runner"
	"github.com/lambdabridge/lambdabridge/session"
)

// TestDashboardFromTheFunctionLog is what a user with the layer deployed
// does: the example function runs with the extension in two execution
// environments at once (two cold starts, function errors, crashes that
// start an environment's processes again, the SHUTDOWN of each), every
// extension process delivering its own series by remote_write into a real
// Prometheus; the dashboard is generated from the function's log as `aws
// logs tail` prints it, with a local run's catalog for the DogStatsD
// families (`lambdabridge dashboard --extension --function go-emf --catalog
// fn.json`); then every panel query, expanded by Grafana's variable rules
// over a range covering the run, returns data and every stat panel equals
// the run's summary or what the function wrote: the panels sum the
// environments and count each series' first increment.
func TestDashboardFromTheFunctionLog(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the extension and the example function, runs them into Prometheus")
	}
	for _, strategy := range []string{"invocation", "periodic"} {
		t.Run(strategy, func(t *testing.T) {
			prom, def := intoPrometheus(t, strategy, 5*time.Second)
			log := &tailLog{}
			start := time.Now()
			stats := driveTwoEnvironments(t, def, log)
			// Each extension process (one per init: the crashes start the
			// environment's processes again) delivered its own series; what
			// they hold arrived (the summaries' counts, summed).
			inits := strings.Count(string(log.Bytes()), "EXTENSION\tName: lambdabridge-extension\tState: Ready")
			if inits != 3 {
				t.Fatalf("%d extension inits, want 3: two environments, and one again after the first crash (the second is the last invocation)", inits)
			}
			// Every extension process finished its shutdown: its summary
			// line, nothing dropped.
			if n, clean := strings.Count(string(log.Bytes()), "lambdabridge extension: shutdown ("), strings.Count(string(log.Bytes()), " 0 dropped"); n != inits || clean != inits {
				t.Errorf("%d shutdown summaries (%d without drops), want %d: an extension was cut before its last flush; its lines:\n%s", n, clean, inits, testenv.GrepLines(string(log.Bytes()), "lambdabridge"))
			}
			testenv.EventuallyValue(t, prom, `count(count by (lambda_environment) (lambda_invocations_total{function_name="go-emf"}))`, float64(inits), 10*time.Second)
			testenv.EventuallyValue(t, prom, `sum(lambda_invocations_total{function_name="go-emf"})`, float64(stats.Invocations), 10*time.Second)

			cat, final := readFunctionLog(t, log.Bytes())
			cat.Merge(runCatalog(t, def)) // dashboard --catalog fn.json
			extension.Describe(cat)       // dashboard --extension
			// DogStatsD counts reach no log: the example sends one
			// checkout.requests per invocation (examples/go-emf).
			final = append(final, counter("checkout_requests_total", float64(stats.Invocations)))
			d, err := dashboards.Prometheus(cat)
			if err != nil {
				t.Fatal(err)
			}
			for _, fam := range []string{extension.MetricInit, extension.MetricOverhead, listen.MetricDogStatsDDrops} {
				if !slices.ContainsFunc(dashboards.PromQueries(d), func(q dashboards.PromQuery) bool { return q.Panel == fam }) {
					t.Errorf("no panel for the extension's %s", fam)
				}
			}
			run := dashboardstest.Run{Stats: []runner.Stats{stats}, Final: final, Start: start, Interval: time.Second}
			dashboardstest.Check(t, d, run, prom)
			if strategy == "invocation" {
				// Each flush comes between the invocation's platform.start
				// and its report: every environment's gauge reads 1 while
				// it runs, and the panel, summing them, reads 2.
				if peak := panelPeak(t, prom, d, "Concurrent executions", run); peak != 2 {
					t.Errorf("the Concurrent executions panel peaks at %g, want 2 (both environments busy)", peak)
				}
			}
		})
	}
}

// panelPeak is the highest value the panel's queries show over the run's
// window, their variables expanded as Grafana does.
func panelPeak(t *testing.T, prom *testenv.Prometheus, d dashboard.Dashboard, panel string, r dashboardstest.Run) float64 {
	t.Helper()
	from, to, step, vars := dashboardstest.Window(r)
	peak := math.NaN()
	for _, q := range dashboards.PromQueries(d) {
		if q.Panel != panel {
			continue
		}
		e := dashboards.Expand(q.Expr, vars)
		m, err := prom.QueryRange(context.Background(), e, from, to, step)
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		for _, pts := range m {
			for _, p := range pts {
				if math.IsNaN(peak) || p.V > peak {
					peak = p.V
				}
			}
		}
	}
	return peak
}

// driveTwoEnvironments runs 20 invocations of def of 250 ms each (so that
// the run spans seconds: a panel shows what lasts longer than its step;
// every tenth a function error, every tenth a crash) by two callers at
// concurrency 2, each environment with its own DogStatsD port (as on
// Lambda, where each has its own loopback), then closes the
// runner: SHUTDOWN for both. It returns the run's summary.
func driveTwoEnvironments(t *testing.T, def function.Definition, log runner.LogSink) runner.Stats {
	t.Helper()
	for _, k := range []string{"LAMBDABRIDGE_DOGSTATSD_ADDR", "DD_DOGSTATSD_URL", "LAMBDABRIDGE_EMF_AGENT_ADDR"} {
		delete(def.Env, k)
	}
	perEnv := func(_, _ string) []string {
		statsd := "127.0.0.1:" + strconv.Itoa(testenv.FreeAgentPort(t))
		// The example function does not use the EMF agent.
		return []string{"LAMBDABRIDGE_DOGSTATSD_ADDR=" + statsd, "DD_DOGSTATSD_URL=udp://" + statsd, "LAMBDABRIDGE_EMF_AGENT_ADDR=none"}
	}
	var runnerLog syncBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("runner's log:\n%s", runnerLog.String())
		}
	})
	r, err := runner.New([]function.Definition{def}, runner.WithLogSink(log), runner.WithConcurrency(2),
		runner.WithEnvironmentVars(perEnv), runner.WithLogger(slog.New(slog.NewTextHandler(&runnerLog, nil))))
	if err != nil {
		t.Fatal(err)
	}
	var events [][]byte
	for i := 1; i <= 8; i++ {
		events = append(events, fmt.Appendf(nil, `{"order":%d,"sleep_ms":250}`, i))
	}
	events = append(events, []byte(`{"fail":"out of stock","sleep_ms":250}`), []byte(`{"exit":3,"sleep_ms":250}`))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := r.Drive(ctx, runner.Load{Function: def.Name, Events: events, Invocations: 20, Workers: 2}); err != nil {
		t.Fatalf("drive: %v\n%s", err, runnerLog.String())
	}
	r.Close()
	st, _ := r.Stats(def.Name)
	var sb bytes.Buffer
	_ = runner.WriteSummary(&sb, []runner.Stats{st})
	t.Logf("run:\n%s", sb.String())
	if st.ColdStarts != 2 {
		t.Fatalf("%d cold starts, want 2 (one per environment):\n%s", st.ColdStarts, sb.String())
	}
	return st
}

// runCatalog runs def once locally without the layer, as `lambdabridge run
// --catalog fn.json` does (a session with its DogStatsD listener), and
// returns the catalog: the DogStatsD families a log does not show.
func runCatalog(t *testing.T, def function.Definition) *catalog.Catalog {
	t.Helper()
	def.Layers, def.Env = nil, nil
	cat := catalog.New()
	s, err := session.New(nil, session.WithCatalog(cat), session.WithAgents(session.Agents{DogStatsD: "127.0.0.1:0", EMF: "none"}))
	if err != nil {
		t.Fatal(err)
	}
	r, err := runner.New(s.Apply([]function.Definition{def}), runner.WithLogSink(s.Pipeline()), runner.WithPlatformSink(s.Pipeline()))
	if err != nil {
		t.Fatal(err)
	}
	s.AddSource(r)
	s.Start(context.Background())
	invoke(t, r, `{}`)
	s.Shutdown()
	return cat
}

// counter is a counter family of one series holding v.
func counter(name string, v float64) *dto.MetricFamily {
	return &dto.MetricFamily{Name: &name, Type: dto.MetricType_COUNTER.Enum(),
		Metric: []*dto.Metric{{Counter: &dto.Counter{Value: &v}}}}
}

// readFunctionLog reads the function's log through the one log path, as
// `lambdabridge dashboard --function go-emf` does: it returns the catalog
// the dashboard is built from and the families counted from the log (what
// the function emitted in it).
func readFunctionLog(t *testing.T, log []byte) (*catalog.Catalog, []*dto.MetricFamily) {
	t.Helper()
	cat := catalog.New()
	p, err := pipeline.New(pipeline.WithCatalog(cat), pipeline.WithInput(logsource.WithFunction("go-emf")))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ReadLog(context.Background(), "go-emf.log", bytes.NewReader(log)); err != nil {
		t.Fatal(err)
	}
	p.Finish()
	fams, err := p.Aggregator().Gather()
	if err != nil {
		t.Fatal(err)
	}
	return cat, fams
}

// tailLog is a runner.LogSink writing the function's log as `aws logs tail
// /aws/lambda/NAME` prints it: "<time> <log stream> <message>", one stream
// per execution environment.
type tailLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *tailLog) Line(o metric.Origin, _ string, b []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.buf, "%s %s/[$LATEST]%s %s\n", time.Now().UTC().Format("2006-01-02T15:04:05.000000-07:00"),
		time.Now().UTC().Format("2006/01/02"), o.Environment, b)
}

func (l *tailLog) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.buf.Bytes())
}

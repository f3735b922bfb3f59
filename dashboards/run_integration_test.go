package dashboards_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/dashboards"
	"github.com/lambdabridge/lambdabridge/dashboards/dashboardstest"
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
				q    dashboardstest.Querier
			}{{"prometheus", prom}, {"victoriametrics", vm}} {
				t.Run(b.name, func(t *testing.T) {
					d, err := dashboards.Prometheus(r.catalog)
					if err != nil {
						t.Fatal(err)
					}
					dashboardstest.Check(t, d, dashboardstest.Run{Stats: r.stats, Final: r.final, Start: r.start, Interval: deliverEvery}, b.q)
				})
			}
		})
	}
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

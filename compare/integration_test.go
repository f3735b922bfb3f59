package compare

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/compare/report/reporttest"
	"github.com/lambdabridge/lambdabridge/extension"
	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
)

// exampleFunction builds examples/go-emf and returns its definition.
func exampleFunction(t *testing.T) function.Definition {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: runs the example function against real backends")
	}
	out := filepath.Join(t.TempDir(), "go-emf", "bootstrap")
	cmd := exec.Command("go", "build", "-o", out, "./examples/go-emf")
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build examples/go-emf: %v\n%s", err, b)
	}
	d, err := function.FromHandler(out, function.WithName("go-emf"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func strategy(t *testing.T, rep *Report, name Strategy) StrategyResult {
	t.Helper()
	for _, s := range rep.Strategies {
		if s.Name == string(name) {
			return s
		}
	}
	t.Fatalf("no strategy %s in the report", name)
	return StrategyResult{}
}

// TestRunStartsAndStopsItsBackends runs with the Prometheus and
// Pushgateway compare starts itself, and checks they are gone afterwards.
// It looks only at what it started: compare makes its backends'
// directories under $TMPDIR, here a directory of the test's own, so
// another Prometheus on the machine (another compare run, or one started
// by hand) is none of its business.
func TestRunStartsAndStopsItsBackends(t *testing.T) {
	def := exampleFunction(t)
	testenv.LookPath(t, "prometheus", "prometheus", "/usr/bin/prometheus")
	testenv.LookPath(t, "prometheus-pushgateway", "prometheus-pushgateway", "/usr/bin/prometheus-pushgateway")
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var phases []string
	running := 0 // backends seen running under tmp while reading back
	rep, err := Run(context.Background(), Config{
		Defs: []function.Definition{def}, Strategies: []Strategy{Aggregate, RemoteWrite, PushgatewayInstance},
		Duration: 6 * time.Second, Burst: 2 * time.Second, IdleTimeout: time.Second, Concurrency: 2,
		ScrapeInterval: 2 * time.Second, Settle: 8 * time.Second,
		Progress: func(m string) {
			phases = append(phases, m)
			if strings.HasPrefix(m, "reading back") {
				running = len(testenv.ProcessesWith(tmp))
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Invocations == 0 || len(rep.Strategies) != 3 {
		t.Fatalf("%d invocations, %d strategies", rep.Invocations, len(rep.Strategies))
	}
	for _, st := range []Strategy{Aggregate, RemoteWrite, PushgatewayInstance} {
		s := strategy(t, rep, st)
		if s.Emitted == 0 || s.LostRatio != 0 {
			t.Errorf("%s: emitted %v, lost %v: want something, nothing lost", st, s.Emitted, s.LostRatio)
		}
	}
	if !strings.Contains(strings.Join(phases, "\n"), "starting Prometheus") {
		t.Errorf("phases: %q", phases)
	}
	if running != 2 {
		t.Errorf("%d processes under %s during the run, want Prometheus and the Pushgateway", running, tmp)
	}
	if pids := testenv.ProcessesWith(tmp); len(pids) > 0 {
		t.Errorf("backends left running: %v", pids)
	}
	if m, _ := filepath.Glob(filepath.Join(tmp, "lambdabridge-*")); len(m) > 0 {
		t.Errorf("directories left behind: %v", m)
	}
	// The report of a real run opens in Chromium (skipped without it).
	reporttest.CheckRendersInChromium(t, rep)
}

// TestRunRemoteWriteSigV4 sends remote_write (the remote-write strategy's
// and the extension's, which signs with the credentials the runner gives
// the function) through a proxy that checks the SigV4 signature header
// before handing the request to Prometheus.
func TestRunRemoteWriteSigV4(t *testing.T) {
	def := exampleFunction(t)
	prom := testenv.StartPrometheus(t, testenv.WithScrapeInterval(2*time.Second),
		testenv.WithScrape(testenv.ScrapeConfig{Job: "compare", FileSD: true, HonorLabels: true}))
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // the extension's layer is unpacked there
	target, _ := url.Parse(prom.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	var signed, unsigned int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		mu.Lock()
		if strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") && strings.Contains(auth, "/eu-west-1/aps/aws4_request") {
			signed++
		} else {
			unsigned++
		}
		mu.Unlock()
		r.Header.Del("Authorization")
		rp.ServeHTTP(w, r)
	}))
	defer srv.Close()
	rep, err := Run(context.Background(), Config{
		Defs: []function.Definition{def}, Strategies: []Strategy{RemoteWrite, Extension},
		Duration: 4 * time.Second, Burst: 2 * time.Second, IdleTimeout: time.Second, Concurrency: 2,
		ScrapeInterval: 2 * time.Second, PrometheusURL: prom.URL, FileSD: prom.FileSDPath("compare"),
		RemoteWriteURL: srv.URL + "/api/v1/write", SigV4Region: "eu-west-1",
		Extension: extension.Layer{Source: ".."}, ExtensionFlushInterval: time.Second,
		Logger: nil,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := strategy(t, rep, RemoteWrite)
	mu.Lock()
	defer mu.Unlock()
	if signed == 0 || unsigned != 0 {
		t.Errorf("%d signed and %d unsigned requests: want every request signed for aps in eu-west-1", signed, unsigned)
	}
	if s.Emitted == 0 || s.LostRatio != 0 || s.AddedBilledMsPerInvocation <= 0 {
		t.Errorf("remote-write through SigV4: emitted %v, lost %v, added billed ms %v", s.Emitted, s.LostRatio, s.AddedBilledMsPerInvocation)
	}
	if x := strategy(t, rep, Extension); x.Emitted == 0 || x.LostRatio != 0 {
		t.Errorf("extension through SigV4: emitted %v, lost %v", x.Emitted, x.LostRatio)
	}
}

// TestRunExtension runs the example function with the extension strategy
// beside remote-write, with each flush strategy, the extension built from
// this checkout as `lambdabridge layer build` builds it: every count the
// function emitted arrives once its environments are shut down (the
// extension's last flush at SHUTDOWN), the series of the environments that
// ended are counted stale, the extension adds time to each invocation, and
// its platform metrics count every invocation and cold start.
func TestRunExtension(t *testing.T) {
	def := exampleFunction(t)
	testenv.LookPath(t, "prometheus", "prometheus", "/usr/bin/prometheus")
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // the layer is unpacked there
	for _, flush := range []string{extension.FlushPeriodic, extension.FlushInvocation} {
		t.Run(flush, func(t *testing.T) {
			prom := testenv.StartPrometheus(t)
			rep, err := Run(context.Background(), Config{
				Defs: []function.Definition{def}, Strategies: []Strategy{RemoteWrite, Extension},
				Duration: 6 * time.Second, Burst: 2 * time.Second, IdleTimeout: time.Second, Concurrency: 2,
				ScrapeInterval: 2 * time.Second, Settle: 6 * time.Second, PrometheusURL: prom.URL,
				Extension: extension.Layer{Source: ".."}, ExtensionFlush: flush, ExtensionFlushInterval: time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Invocations == 0 || rep.Failed != 0 || rep.EnvironmentsEnded != rep.Environments {
				t.Fatalf("workload: %d invocations (%d failed), %d of %d environments ended: want every environment shut down before the read-back",
					rep.Invocations, rep.Failed, rep.EnvironmentsEnded, rep.Environments)
			}
			rw, ext := strategy(t, rep, RemoteWrite), strategy(t, rep, Extension)
			if ext.Emitted == 0 || ext.Emitted != rw.Emitted || ext.Visible != ext.Emitted || ext.LostRatio != 0 || ext.OverCountedRatio != 0 {
				t.Errorf("extension: emitted %v (remote-write %v), visible %v, lost %v, over %v: want every count once",
					ext.Emitted, rw.Emitted, ext.Visible, ext.LostRatio, ext.OverCountedRatio)
			}
			for _, f := range ext.Families {
				if f.LostRatio != 0 || f.OverCountedRatio != 0 {
					t.Errorf("extension: %s lost %v, over %v", f.Name, f.LostRatio, f.OverCountedRatio)
				}
			}
			if ext.GaugesMatched != ext.Gauges || ext.Gauges == 0 {
				t.Errorf("extension: %d of %d gauges match", ext.GaugesMatched, ext.Gauges)
			}
			if ext.MeanInlineMs <= 0 || ext.Requests == 0 || ext.BytesSent == 0 || ext.SamplesIngested == 0 || ext.MonthlyCostUSD <= 0 {
				t.Errorf("extension: mean added %v ms, %d requests, %d bytes, %d samples, $%v: want all > 0",
					ext.MeanInlineMs, ext.Requests, ext.BytesSent, ext.SamplesIngested, ext.MonthlyCostUSD)
			}
			if ext.StaleSeries == 0 || ext.StaleSeries != ext.Series {
				t.Errorf("extension: %d of %d series stale: every environment ended, its series stay", ext.StaleSeries, ext.Series)
			}
			if ext.P99VisibilitySeconds < 0 {
				t.Errorf("extension: p99 visibility %v", ext.P99VisibilitySeconds)
			}
			// The platform metrics (platform.report, platform.initReport)
			// of every environment, summed.
			window := fmt.Sprintf("[%ds]", int(time.Since(rep.Start).Seconds())+60)
			for q, want := range map[string]int{"lambda_invocations_total": rep.Invocations, "lambda_cold_starts_total": rep.ColdStarts} {
				testenv.EventuallyValue(t, prom, fmt.Sprintf(`sum(last_over_time(%s{strategy="extension"}%s))`, q, window), float64(want), 5*time.Second)
			}
		})
	}
}

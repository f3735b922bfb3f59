package main

// The compare integration test runs `lambdabridge compare` on the example
// function (examples/go-emf) at concurrency 4 against a real Prometheus and
// Pushgateway started by the test (internal/testenv), then checks what must
// hold for each strategy and that the JSON numbers agree with PromQL queries
// the test makes itself.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/internal/testenv"
)

type compareJSON struct {
	Function          string  `json:"function"`
	Invocations       int     `json:"invocations"`
	Environments      int     `json:"environments"`
	EnvironmentsEnded int     `json:"environments_ended"`
	Start             string  `json:"start"`
	Concurrency       int     `json:"concurrency"`
	IdleTimeout       float64 `json:"idle_timeout_seconds"`
	Strategies        []struct {
		Name                string  `json:"name"`
		Emitted             float64 `json:"emitted"`
		Visible             float64 `json:"visible"`
		LostRatio           float64 `json:"lost_ratio"`
		OverCountedRatio    float64 `json:"over_counted_ratio"`
		StaleSeries         int     `json:"stale_series"`
		P99                 float64 `json:"p99_visibility_seconds"`
		AddedBilledMs       float64 `json:"added_billed_ms_per_invocation"`
		MeanInlineMs        float64 `json:"mean_inline_ms"`
		MonthlyCostUSD      float64 `json:"monthly_cost_usd"`
		Requests            int64   `json:"requests"`
		BytesSent           int64   `json:"bytes_sent"`
		MonthlyIngestionUSD float64 `json:"monthly_ingestion_usd"`
		Families            []struct {
			Name         string   `json:"name"`
			Type         string   `json:"type"`
			EmittedCount float64  `json:"emitted_count"`
			VisibleCount float64  `json:"visible_count"`
			EmittedSum   float64  `json:"emitted_sum"`
			VisibleSum   float64  `json:"visible_sum"`
			EmittedLast  *float64 `json:"emitted_last"`
			VisibleLast  *float64 `json:"visible_last"`
		} `json:"families"`
	} `json:"strategies"`
}

func TestCompareExampleFunction(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs a 25 s workload against real Prometheus and Pushgateway")
	}
	const scrapeEvery = 8 * time.Second // longer than an environment lives: burst 3s + idle 1s
	const job = "compare"
	prom := testenv.StartPrometheus(t, testenv.WithScrapeInterval(scrapeEvery),
		testenv.WithScrape(testenv.ScrapeConfig{Job: job, FileSD: true, HonorLabels: true}))
	pg := testenv.StartPushgateway(t)
	dir := t.TempDir()
	handler := filepath.Join(dir, "go-emf", "bootstrap")
	compareBuild(t, "./examples/go-emf", handler)
	// The extension strategy runs lambdabridge itself as the extension,
	// as for a user who has only the lambdabridge binary.
	lambdabridge := filepath.Join(dir, "bin", "lambdabridge")
	compareBuild(t, "./cmd/lambdabridge", lambdabridge)
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // the layer is unpacked there
	jsonPath := filepath.Join(dir, "compare.json")
	htmlPath := filepath.Join(dir, "compare.html")

	out, errs, code := runMain(t, context.Background(), "", "compare",
		"--handler", handler, "--name", "go-emf", "--concurrency", "4",
		"--duration", "25s", "--burst", "3s", "--idle-timeout", "1s", "--scrape-interval", scrapeEvery.String(),
		"--prometheus-url", prom.URL, "--file-sd", filepath.Join(prom.Dir, "file_sd", job+".json"),
		"--pushgateway-url", pg.URL, "--json", jsonPath, "--report", htmlPath,
		"--extension-binary", lambdabridge, "--extension-flush-interval", "2s")
	if code != 0 {
		t.Fatalf("compare exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	t.Logf("compare table:\n%s", out)
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep compareJSON
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("json: %v", err)
	}
	if rep.Invocations < 20 || rep.Environments < 8 || rep.EnvironmentsEnded < 4 {
		t.Fatalf("workload: %d invocations in %d environments (%d ended): want bursts with recycled environments", rep.Invocations, rep.Environments, rep.EnvironmentsEnded)
	}
	var names []string
	for _, s := range rep.Strategies {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "scrape,aggregate,remote-write,pushgateway,pushgateway-instance,extension" {
		t.Fatalf("strategies %s", got)
	}
	start, err := time.Parse(time.RFC3339Nano, rep.Start)
	if err != nil {
		t.Fatal(err)
	}
	window := fmt.Sprintf("[%ds]", int(time.Since(start).Seconds())+120)
	ctx := context.Background()
	query := func(q string) float64 {
		t.Helper()
		v, err := prom.Query(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		sum := 0.0
		for _, x := range v {
			sum += x
		}
		return sum
	}
	for _, s := range rep.Strategies {
		t.Run(s.Name, func(t *testing.T) {
			if s.Emitted <= 0 {
				t.Fatalf("emitted %v", s.Emitted)
			}
			switch s.Name {
			case "aggregate", "remote-write":
				if s.LostRatio != 0 || s.Visible != s.Emitted {
					t.Errorf("lost %v (visible %v of %v): %s must lose nothing", s.LostRatio, s.Visible, s.Emitted, s.Name)
				}
			case "extension":
				if s.LostRatio != 0 || s.Visible != s.Emitted {
					t.Errorf("lost %v (visible %v of %v): the extension delivers everything by SHUTDOWN", s.LostRatio, s.Visible, s.Emitted)
				}
				if s.StaleSeries == 0 || s.MeanInlineMs <= 0 {
					t.Errorf("stale series %d, mean added %v ms: want the series of recycled environments, and time added to invocations", s.StaleSeries, s.MeanInlineMs)
				}
			case "pushgateway":
				if s.LostRatio <= 0.2 {
					t.Errorf("lost %v: a shared grouping key under concurrency 4 must lose counts (pushers overwrite each other)", s.LostRatio)
				}
			case "pushgateway-instance":
				if s.LostRatio != 0 {
					t.Errorf("lost %v: one group per environment loses nothing", s.LostRatio)
				}
				if s.StaleSeries == 0 {
					t.Errorf("no stale series: the groups of recycled environments stay on the Pushgateway")
				}
			case "scrape":
				if s.LostRatio <= 0.05 {
					t.Errorf("lost %v: environments that lived shorter than a scrape interval must lose what they emitted", s.LostRatio)
				}
				if s.StaleSeries != 0 {
					t.Errorf("stale series %d: Prometheus marks a removed target's series stale", s.StaleSeries)
				}
			}
			// The extension's added time may round to no billed ms.
			inline := s.Name == "remote-write" || strings.HasPrefix(s.Name, "pushgateway")
			if s.Name != "extension" && inline != (s.AddedBilledMs > 0) {
				t.Errorf("added billed ms %v: want > 0 exactly for the strategies that deliver inside the invocation", s.AddedBilledMs)
			}
			if s.Visible > 0 && (s.Requests == 0 || s.BytesSent == 0 || s.MonthlyCostUSD <= 0) {
				t.Errorf("requests %d, bytes %d, cost %v: want all > 0", s.Requests, s.BytesSent, s.MonthlyCostUSD)
			}
			if s.Visible > 0 && (s.P99 < 0 || s.P99 > 60) {
				t.Errorf("p99 visibility %v s", s.P99)
			}
			// The JSON agrees with PromQL.
			visible := 0.0
			for _, f := range s.Families {
				if f.Name == "lambda_bridge_example_orders_placed_total" && f.EmittedCount != float64(rep.Invocations) {
					t.Errorf("%s emitted %v, want one per invocation (%d)", f.Name, f.EmittedCount, rep.Invocations)
				}
				sel := fmt.Sprintf("{strategy=%q}", s.Name)
				switch f.Type {
				case "counter":
					q := fmt.Sprintf("sum(last_over_time(%s%s%s))", f.Name, sel, window)
					if got := query(q); got != f.VisibleCount {
						t.Errorf("%s = %v, json visible_count %v", q, got, f.VisibleCount)
					}
					visible += f.VisibleCount
				case "histogram":
					q := fmt.Sprintf("sum(last_over_time(%s_count%s%s))", f.Name, sel, window)
					if got := query(q); got != f.VisibleCount {
						t.Errorf("%s = %v, json visible_count %v", q, got, f.VisibleCount)
					}
					q = fmt.Sprintf("sum(last_over_time(%s_sum%s%s))", f.Name, sel, window)
					if got := query(q); math.Abs(got-f.VisibleSum) > 1e-6*math.Max(1, got) {
						t.Errorf("%s = %v, json visible_sum %v", q, got, f.VisibleSum)
					}
					visible += f.VisibleCount
				case "gauge":
					if s.Name == "scrape" && s.Visible == 0 {
						break // no scrape found an environment thawed
					}
					if f.VisibleLast == nil || f.EmittedLast == nil || *f.VisibleLast != *f.EmittedLast {
						t.Errorf("gauge %s: emitted last %v, visible last %v", f.Name, f.EmittedLast, f.VisibleLast)
					}
					q := fmt.Sprintf("max(last_over_time(%s%s%s))", f.Name, sel, window)
					if f.VisibleLast != nil && query(q) != *f.VisibleLast {
						t.Errorf("%s = %v, json visible_last %v", q, query(q), *f.VisibleLast)
					}
				}
			}
			if visible != s.Visible {
				t.Errorf("families' visible counts add up to %v, json visible %v", visible, s.Visible)
			}
		})
	}
	// The aggregate is one series per family: its last sample is the whole
	// count. (Its last sample, not the value now: compare's end removed the
	// target, and Prometheus marks the series stale once it notices, so an
	// instant query is empty from then on.)
	if v, err := prom.Query(ctx, `last_over_time(lambda_bridge_example_orders_placed_total{strategy="aggregate"}`+window+`)`); err != nil || len(v) != 1 || query(`sum(last_over_time(lambda_bridge_example_orders_placed_total{strategy="aggregate"}`+window+`))`) != float64(rep.Invocations) {
		t.Errorf("aggregate orders placed = %v (err %v), want one series of %d invocations", v, err, rep.Invocations)
	}
	// Environments that lived between two scrapes never reached Prometheus
	// through scrape; every one did through remote-write.
	envsSeen := func(strategy string) float64 {
		return query(fmt.Sprintf(`count(count by (lambda_environment) (last_over_time(lambda_bridge_example_orders_placed_total{strategy=%q}%s)))`, strategy, window))
	}
	for _, st := range []string{"remote-write", "extension"} {
		if got := envsSeen(st); got != float64(rep.Environments) {
			t.Errorf("%s: %v environments in Prometheus, want all %d", st, got, rep.Environments)
		}
	}
	if got := envsSeen("scrape"); got >= float64(rep.Environments) {
		t.Errorf("scrape: %v of %d environments in Prometheus: want some that died between scrapes missing", got, rep.Environments)
	}
	if _, err := os.Stat(htmlPath); err != nil {
		t.Errorf("html report: %v", err)
	}
	assertNoLeftovers(t, handler)
}

// assertNoLeftovers checks that compare ended the function's processes
// (those started from handler, a path only this test uses).
func assertNoLeftovers(t *testing.T, handler string) {
	t.Helper()
	b, err := exec.Command("pgrep", "-f", "^"+handler).Output()
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		t.Errorf("function processes left behind: %s", b)
	}
}

// compareBuild builds pkg (relative to the repository root) into out.
func compareBuild(t *testing.T, pkg, out string) {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go not in PATH: cannot build %s", pkg)
	}
	cmd := exec.Command(gobin, "build", "-o", out, pkg)
	cmd.Dir = "../.."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

func TestCompareUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no function", []string{}, "give --handler PATH or --template FILE"},
		{"unknown strategy", []string{"--handler", "/bin/true", "--strategies", "scrape,remote_write"}, `unknown strategy "remote_write"`},
		{"sigv4 without url", []string{"--handler", "/bin/true", "--sigv4-region", "eu-west-1"}, "--sigv4-region needs --remote-write-url"},
		{"prometheus without file sd", []string{"--handler", "/bin/true", "--prometheus-url", "http://127.0.0.1:1"}, "--prometheus-url needs --file-sd"},
		{"bad concurrency", []string{"--handler", "/bin/true", "--concurrency", "0"}, "--concurrency: 0: must be at least 1 execution environment"},
		{"exec", []string{"--handler", "/bin/true", "--exec"}, "no execution environment"},
		{"extra argument", []string{"--handler", "/bin/true", "x"}, `unexpected argument "x"`},
		{"extension binary missing", []string{"--handler", "/bin/true", "--strategies", "extension", "--extension-binary", "/nonexistent/lambdabridge-extension"}, "--extension-binary /nonexistent/lambdabridge-extension: not a file"},
		{"extension flush", []string{"--handler", "/bin/true", "--extension-flush", "shutdown"}, "--extension-flush"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs, code := runMain(t, context.Background(), "", append([]string{"compare"}, tt.args...)...)
			if code != 2 || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, errs, tt.want)
			}
		})
	}
}

// TestExtensionBinary checks where the extension strategy finds the
// extension without --extension-binary: lambdabridge-extension beside
// lambdabridge, else lambdabridge itself.
func TestExtensionBinary(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "lambdabridge")
	if got := besideOrSelf(self); got != self {
		t.Errorf("nothing beside: %s, want %s", got, self)
	}
	if err := os.Mkdir(filepath.Join(dir, "lambdabridge-extension"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := besideOrSelf(self); got != self {
		t.Errorf("a folder beside: %s, want %s", got, self)
	}
	other := t.TempDir()
	self = filepath.Join(other, "lambdabridge")
	beside := filepath.Join(other, "lambdabridge-extension")
	if err := os.WriteFile(beside, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := besideOrSelf(self); got != beside {
		t.Errorf("lambdabridge-extension beside: %s, want it", got)
	}
}

package main

import (
	"context"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/lambdabridge/lambdabridge/internal/testenv"
)

// TestE2ERunSignals sends SIGINT and SIGTERM to the lambdabridge binary
// serving with `run --serve` after it ran the example function (issue 4,
// shutdown). The sinks are set up so that nothing is delivered before the
// signal (remote_write and Pushgateway intervals of an hour): what
// VictoriaMetrics and the Pushgateway hold afterwards is what the shutdown
// flushed, drained and pushed. The process exits 0, stops every function
// environment, and, with a remote_write URL pointing at a dead port, still
// exits within the drain deadline and names what it dropped.
func TestE2ERunSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds lambdabridge and starts VictoriaMetrics and Pushgateway")
	}
	begin := time.Now()
	dir := t.TempDir()
	bootstrap := e2eBuildGoEmf(t, dir)
	bin := filepath.Join(dir, "lambdabridge")
	e2eGoBuild(t, "./cmd/lambdabridge", bin, e2eBuildFlags...)
	pg := testenv.StartPushgateway(t)
	vm := testenv.StartVictoriaMetrics(t)
	deadURL := fmt.Sprintf("http://127.0.0.1:%d/api/v1/write", testenv.FreePort(t))
	t.Logf("built, backends ready after %.1fs", time.Since(begin).Seconds())

	for _, tc := range []struct {
		sig  syscall.Signal
		dead bool // also remote_write to a dead port
		// bound of the time from the signal to the exit: the drain deadline
		// is 10 s (pipeline.WithDrainTimeout's default)
		bound time.Duration
	}{
		{syscall.SIGINT, false, 8 * time.Second},
		{syscall.SIGTERM, true, 20 * time.Second},
	} {
		name := strings.ToLower(tc.sig.String())
		name = strings.ReplaceAll(name, " ", "-")
		t.Run(tc.sig.String(), func(t *testing.T) {
			const k = 40
			fn := "go-emf-" + name
			job := "signal-" + name
			args := []string{"run", "--handler", bootstrap, "--name", fn,
				"--invocations", strconv.Itoa(k), "--concurrency", "4",
				"--dogstatsd-addr", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--api", "127.0.0.1:0", "--serve",
				"--remote-write", vm.RemoteWriteURL(), "--remote-write-interval", "1h",
				"--pushgateway", pg.URL, "--pushgateway-job", job, "--pushgateway-interval", "1h",
				"--logs", "none", "--progress", "0"}
			if tc.dead {
				args = append(args, "--remote-write", deadURL)
			}
			var stdout, stderr syncBuffer
			cmd := exec.Command(bin, args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
			// Wait must not wait for function environments that would
			// outlive lambdabridge and hold its stderr open (a failure,
			// reported by e2eCheckNoLeftovers).
			cmd.WaitDelay = 5 * time.Second
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1) // holds Wait's result once it returned
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() {
				if cmd.ProcessState == nil {
					cmd.Process.Kill()
				}
			})
			e2eWaitStderr(t, &stderr, exited, "serving until interrupted", 60*time.Second)

			// Nothing delivered yet: the sinks wait for their interval.
			ctx := context.Background()
			fnSel := `function_name="` + fn + `"`
			if v, err := vm.Query(ctx, "count("+e2eSelector("lambda_invocations_total", fnSel)+")"); err != nil || len(v) != 0 {
				t.Fatalf("victoria-metrics holds %v (%v) before the signal", v, err)
			}
			if n, _, err := e2ePushedSum(ctx, pg, e2eSelector("lambda_invocations_total", `job="`+job+`"`)); err != nil || n != 0 {
				t.Fatalf("pushgateway holds %d series (%v) before the signal", n, err)
			}

			sent := time.Now()
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			var werr error
			select {
			case werr = <-exited:
			case <-time.After(60 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("no exit within 60s of %v:\n%s", tc.sig, stderr.String())
			}
			took := time.Since(sent)
			t.Logf("%v: exit after %.2fs", tc.sig, took.Seconds())
			// A sink that dropped samples is a negative result: exit 1.
			want := exitOK
			if tc.dead {
				want = exitFailure
			}
			if code := cmd.ProcessState.ExitCode(); code != want {
				t.Errorf("exit: %v (status %d), want status %d:\n%s", werr, code, want, stderr.String())
			}
			if took > tc.bound {
				t.Errorf("exit %.1fs after %v, want within %v", took.Seconds(), tc.sig, tc.bound)
			}
			errs := stderr.String()
			if req, inv, e, _, _, _ := e2eSummaryRow(t, errs, fn); req != k || inv != k || e != 0 {
				t.Errorf("summary: %d requests, %d invocations, %d errors; want %d, %d, 0", req, inv, e, k, k)
			}
			if !tc.dead && strings.Contains(errs, "lambdabridge run:") {
				t.Errorf("run reported a problem:\n%s", errs)
			}
			if tc.dead {
				// The dead sink's loss is reported with its accounting:
				// emitted = sent + pending + dropped, dropped by reason.
				re := regexp.MustCompile(regexp.QuoteMeta(deadURL) + `.*samples dropped: emitted (\d+), sent (\d+), pending (\d+), dropped (\d+) \(shutdown (\d+)\)`)
				m := re.FindStringSubmatch(errs)
				if m == nil {
					t.Fatalf("no drop report naming %s in stderr:\n%s", deadURL, errs)
				}
				n := make([]int, 5)
				for i := range n {
					n[i], _ = strconv.Atoi(m[i+1])
				}
				if emitted, sent, pending, dropped, shutdown := n[0], n[1], n[2], n[3], n[4]; emitted == 0 || sent != 0 || pending != 0 || dropped != emitted || shutdown != dropped {
					t.Errorf("dead sink accounting: %s", m[0])
				}
				if c := strings.Count(errs, "samples dropped"); c != 1 {
					t.Errorf("%d sinks report drops, want only the dead one:\n%s", c, errs)
				}
			}

			// The live sinks got the final state at the shutdown.
			for _, w := range e2ePerInvocation(k) {
				sel := e2eSelector(w.name, fnSel, w.labels)
				// remote_write leaves the series at their final values
				// (no stale markers at shutdown).
				testenv.EventuallyValue(t, vm, "sum(last_over_time("+sel+"[10m]))", w.want, 10*time.Second)
				if _, v, err := e2ePushedSum(ctx, pg, e2eSelector(w.name, `job="`+job+`"`, fnSel, w.labels)); err != nil || !e2eApprox(v, w.want) {
					t.Errorf("pushgateway %s = %v (%v), want %v", sel, v, err, w.want)
				}
			}
			e2eCheckNoLeftovers(t, bootstrap)
		})
	}
	t.Logf("total %.1fs", time.Since(begin).Seconds())
}

// e2eWaitStderr waits until stderr holds s, failing when the process exits
// first or timeout passes.
func e2eWaitStderr(t *testing.T, stderr *syncBuffer, exited chan error, s string, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !strings.Contains(stderr.String(), s); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("exited (%v) before printing %q:\n%s", err, s, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %v:\n%s", s, timeout, stderr.String())
		}
	}
}

// e2ePushedSum finds the series the Pushgateway holds that match a PromQL
// selector (name{label="value",...}; name_sum and name_count of histograms)
// and returns how many there are and the sum of their values.
func e2ePushedSum(ctx context.Context, pg *testenv.Pushgateway, sel string) (int, float64, error) {
	p := parser.NewParser(parser.Options{})
	ms, err := p.ParseMetricSelector(sel)
	if err != nil {
		return 0, 0, err
	}
	name := ""
	for _, m := range ms {
		if m.Name == "__name__" {
			name = m.Value
		}
	}
	family := name
	for _, suffix := range []string{"_count", "_sum"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if fams, err := pg.Families(ctx); err == nil && fams[base] != nil {
				family = base
			}
		}
	}
	v, err := pg.Samples(ctx, family)
	if err != nil {
		return 0, 0, err
	}
	n, sum := 0, 0.0
	for key, val := range v {
		lbls, err := p.ParseMetric(key)
		if err != nil {
			return 0, 0, fmt.Errorf("series %s: %w", key, err)
		}
		ok := true
		for _, m := range ms {
			ok = ok && m.Matches(lbls.Get(m.Name))
		}
		if ok {
			n++
			sum += val
		}
	}
	return n, sum, nil
}

// e2eApprox reports whether got equals want within 1e-9 relative (sums of
// float64 values depend on their order).
func e2eApprox(got, want float64) bool {
	return got == want || math.Abs(got-want) <= 1e-9*math.Max(math.Abs(got), math.Abs(want))
}

package platform_test

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/logline"
	"github.com/lambdabridge/lambdabridge/logsource"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/platform"
	"github.com/lambdabridge/lambdabridge/runner"
)

// totals sums a family's values (counters: increments; histograms:
// observations; gauges: the last value).
type totals map[string]float64

func (t totals) add(p *metric.Point) {
	if p.Kind == metric.Gauge {
		t[p.Name] = p.Values[0]
		return
	}
	for _, v := range p.Values {
		t[p.Name] += v
	}
	if p.Kind == metric.Histogram {
		t[p.Name+"_count"] += float64(len(p.Values))
	}
}

// `lambdabridge run` of the shipped Go example, its console log captured
// and read back: the platform metrics of the log are run's, for a cold and
// warm invocations. Durations agree to the REPORT line's 0.01 ms and memory
// to its whole MB until the runner builds its points with platform.Emitter
// from a platform.Report. (Failed invocations are left out: the runner's
// REPORT line does not say Status: error|timeout yet, so a function error,
// a crash, or a timeout the function answered first at its deadline, is
// not in its log; platform.Report.Line writes it.)
func TestRunLogGivesRunsPlatformMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs examples/go-emf")
	}
	bin := filepath.Join(t.TempDir(), "bootstrap")
	if out, err := exec.Command("go", "build", "-o", bin, "../examples/go-emf").CombinedOutput(); err != nil {
		t.Fatalf("go build examples/go-emf: %v\n%s", err, out)
	}
	def, err := function.FromHandler(bin, function.WithName("GoEmf"), function.WithTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	var mu sync.Mutex
	run := totals{}
	r, err := runner.New([]function.Definition{def},
		runner.WithLogSink(runner.NewConsole(&log)),
		runner.WithPlatformSink(runner.PlatformSinkFunc(func(p *metric.Point) {
			mu.Lock()
			run.add(p)
			mu.Unlock()
		})))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, ev := range []string{`{}`, `{}`, `{"sleep_ms":20}`, `{}`, `{}`} {
		if _, err := r.Invoke(ctx, "GoEmf", runner.Request{Payload: []byte(ev)}); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()

	read := totals{}
	ps := logsource.Parsers{Platform: platform.NewParser(), Metrics: logline.New()}
	metricLines := 0
	var b metric.Batch
	err = logsource.New().Decode(bytes.NewReader(log.Bytes()), "run.log", func(m *logsource.Message) error {
		b.Reset()
		switch ps.Parse(&b, m, "run.log") {
		case metric.FormatPlatform:
			for i := range b.Points {
				read.add(&b.Points[i])
			}
		case metric.FormatUnknown:
		default:
			metricLines++ // the function's own metric lines
		}
		for _, d := range b.Diags { // no false errors from the console prefix
			t.Errorf("%s", d.String())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if metricLines < 5 {
		t.Errorf("%d metric lines read from the console log, want one per invocation at least", metricLines)
	}
	if run[platform.MetricInvocations] != 5 || run[platform.MetricColdStarts] != 1 {
		t.Fatalf("the run did not go as planned: %v\n%s", run, lastLines(log.String(), 20))
	}
	// run measures memory in bytes; REPORT says MB, rounded up
	run[platform.MetricMaxMemoryUsed] = float64(int64(platform.CeilMB(int64(run[platform.MetricMaxMemoryUsed]))) << 20)
	opt := cmpopts.EquateApprox(0, 5*1e-5) // 0.01 ms per observation
	if diff := cmp.Diff(run, read, opt); diff != "" {
		t.Errorf("platform metrics, run (-) and read back from its log (+):\n%s\nlog:\n%s", diff, lastLines(log.String(), 20))
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

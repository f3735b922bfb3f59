package runner

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/platform"
)

// TestPlatformPointsFromLogs: the platform points of a run (cold start,
// success, function error, timeout, crash, suppressed init, extension
// work) are those the platform package reads back from the run's own log
// lines, text or JSON: run's numbers and a log's cannot drift.
func TestPlatformPointsFromLogs(t *testing.T) {
	for _, format := range []string{"Text", "JSON"} {
		t.Run(format, func(t *testing.T) { testPointsFromLogs(t, format) })
	}
}

func testPointsFromLogs(t *testing.T, format string) {
	out := t.TempDir() + "/ext.jsonl"
	def := extDef(t, extLayer(t, "testext"), out, map[string]string{"TESTEXT_INVOKE_MS": "20"})
	def.Timeout = time.Second
	def.Logging = function.Logging{Format: format, SystemLevel: "DEBUG"}
	r, rec := newTestRunner(t, []function.Definition{def})
	for _, p := range []string{`{}`, `{"action":"error","text":"x"}`, `{"action":"sleep","ms":3000}`, `{}`, `{"action":"crash"}`, `{"action":"log","text":"x"}`} {
		invoke(t, r, "gofn", p)
	}
	r.Close()
	sums := func(points []metric.Point) map[string]float64 {
		out := map[string]float64{}
		for _, p := range points {
			if p.Name == MetricConcurrent || p.Name == MetricThrottles {
				continue // not in a log (run's own view of its queue)
			}
			for _, v := range p.Values {
				out[p.Name] += v
			}
			if p.Kind == metric.Histogram {
				out[p.Name+" count"]++
			}
		}
		return out
	}
	rec.mu.Lock()
	fromRun := sums(rec.points)
	parser := platform.NewParser()
	var b metric.Batch
	for _, l := range rec.lines {
		if l.stream == StreamPlatform {
			parser.Line(&b, []byte(l.text), platform.Context{Origin: l.o, Stream: l.o.Environment})
		}
	}
	rec.mu.Unlock()
	fromLog := sums(b.Points)
	if diff := cmp.Diff(fromRun, fromLog, cmpNear); diff != "" {
		t.Errorf("platform points of the run (-) and read back from its log (+):\n%s", diff)
	}
	if fromRun[MetricInvocations] != 6 || fromRun[MetricErrors] != 3 || fromRun[MetricTimeouts] != 1 || fromRun[MetricColdStarts] != 1 {
		t.Errorf("run's counts: %v", fromRun)
	}
}

// cmpNear compares float sums to a relative 1e-9 (they are added in other
// orders).
var cmpNear = cmp.Comparer(func(a, b float64) bool { return near(a, b) })

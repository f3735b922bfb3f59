package extension

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/pipeline"
)

var teleSeeds = []string{
	`[{"time":"2026-12-01T05:00:00.000Z","type":"platform.initStart","record":{"initializationType":"on-demand","phase":"init"}}]`,
	`[{"time":"2026-12-01T05:00:00.100Z","type":"platform.initReport","record":{"phase":"init","status":"success","metrics":{"durationMs":42.5}}}]`,
	`[{"time":"2026-12-01T05:00:00.200Z","type":"platform.start","record":{"requestId":"r1","version":"$LATEST"}},` +
		`{"time":"2026-12-01T05:00:00.210Z","type":"function","record":"MONITORING|1796101328|1|count|checkout.orders|#service:checkout"},` +
		`{"time":"2026-12-01T05:00:00.211Z","type":"function","record":{"_aws":{"Timestamp":1796101328261,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["S"]],"Metrics":[{"Name":"M","Unit":"Count"}]}]},"S":"x","M":1}},` +
		`{"time":"2026-12-01T05:00:00.220Z","type":"platform.runtimeDone","record":{"requestId":"r1","status":"success"}},` +
		`{"time":"2026-12-01T05:00:00.230Z","type":"platform.report","record":{"requestId":"r1","status":"success","metrics":{"durationMs":20.1,"billedDurationMs":21,"memorySizeMB":256,"maxMemoryUsedMB":10}}}]`,
	`[{"type":"platform.report","record":{"requestId":"r2"}}]`,
	`[{"type":"function","record":"\u0000"}]`,
	`{}`, `[1,"x",null]`, ``,
}

// TestReceiverBatch: one batch of the Telemetry API gives the function's
// metric lines and the platform metrics, and signals runtimeDone and the
// report of its request.
func TestReceiverBatch(t *testing.T) {
	var names []string
	p, err := pipeline.New(pipeline.WithPointHandler(func(pt *metric.Point) { names = append(names, pt.Name) }))
	if err != nil {
		t.Fatal(err)
	}
	r := newReceiver(p, metric.Origin{Function: "fn", Environment: "e1"}, "x86_64", slog.New(slog.DiscardHandler))
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(teleSeeds[2]))))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	for _, m := range []map[string]chan struct{}{r.done, r.reported} {
		select {
		case <-r.signal(m, "r1"):
		default:
			t.Error("no runtimeDone or report signal for r1")
		}
	}
	in := p.Input()
	if in.MetricLines["monitoring"] != 1 || in.MetricLines["emf"] != 1 {
		t.Errorf("metric lines %v: want one MONITORING and one EMF line", in.MetricLines)
	}
	want := map[string]bool{"checkout.orders": true, "lambda_invocations_total": true, "lambda_duration_seconds": true}
	for _, n := range names {
		delete(want, n)
	}
	if len(want) > 0 {
		t.Errorf("points %v: missing %v", names, want)
	}
}

// FuzzReceiver: whatever arrives on the Telemetry API port, the receiver
// never panics.
func FuzzReceiver(f *testing.F) {
	for _, s := range teleSeeds {
		f.Add([]byte(s))
	}
	p, err := pipeline.New()
	if err != nil {
		f.Fatal(err)
	}
	r := newReceiver(p, metric.Origin{Function: "fn", Environment: "e1"}, "arm64", slog.New(slog.DiscardHandler))
	f.Fuzz(func(t *testing.T, body []byte) {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
	})
}

package extension

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/pipeline"
)

var teleSeeds = []string{
	`[{"time":"2026-12-01T05:00:00.000Z","type":"platform.initStart","record":{"initializationType":"on-demand","phase":"init"}}]`,
	`[{"time":"2026-12-01T05:00:00.100Z","type":"platform.initReport","record":{"phase":"init","status":"success","metrics":{"durationMs":42.5}}}]`,
	`[{"time":"2026-12-01T05:00:00.200Z","type":"platform.start","record":{"requestId":"r1","version":"$LATEST"}},` +
		`{"time":"2026-12-01T05:00:00.210Z","type":"function","record":"MONITORING|1796101328|1|count|checkout.orders|#service:checkout"},` +
		`{"time":"2026-12-01T05:00:00.211Z","type":"function","record":{"_aws":{"Timestamp":1796101328261,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["S"]],"Metrics":[{"Name":"M","Unit":"Count"}]}]},"S":"x","M":1}},` +
		`{"time":"2026-12-01T05:00:00.220Z","type":"platform.runtimeDone","record":{"requestId":"r1","status":"success","metrics":{"durationMs":15}}},` +
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
	var post []time.Duration
	r.post = func(d time.Duration) { post = append(post, d) }
	r.waits = true
	r.invoked("r1")
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(teleSeeds[2]))))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	select {
	case <-r.signal("r1"):
	default:
		t.Error("no runtimeDone signal for r1")
	}
	if left := r.settle(t.Context(), time.Time{}); left != 0 {
		t.Errorf("%d requests without a report after r1's report", left)
	}
	// report 20.1 ms - runtimeDone 15 ms
	if want := []time.Duration{5100 * time.Microsecond}; !slices.Equal(post, want) {
		t.Errorf("time after the answer %v, want %v", post, want)
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

// TestReceiverKeepsNothingPerRequest: without INVOKE events (the periodic
// strategy) nothing waits for runtimeDone, and a reported request leaves
// nothing behind: the receiver's memory does not grow with invocations.
func TestReceiverKeepsNothingPerRequest(t *testing.T) {
	p, err := pipeline.New()
	if err != nil {
		t.Fatal(err)
	}
	r := newReceiver(p, metric.Origin{Function: "fn", Environment: "e1"}, "x86_64", slog.New(slog.DiscardHandler))
	for range 3 {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(teleSeeds[2]))))
		if w.Code != http.StatusOK {
			t.Fatalf("status %d", w.Code)
		}
	}
	if len(r.done) != 0 || len(r.open) != 0 || len(r.answered) != 0 {
		t.Errorf("after reported requests: %d runtimeDone signals, %d open, %d answered; want none", len(r.done), len(r.open), len(r.answered))
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

// TestSettle: at SHUTDOWN the extension waits for the reports of the
// requests it knows of and, without INVOKE events, for a batch sent after
// the shutdown began; never past its deadline.
func TestSettle(t *testing.T) {
	start := `[{"time":"2026-12-01T05:00:00.200Z","type":"platform.start","record":{"requestId":"r1"}}]`
	report := `[{"time":"2026-12-01T05:00:00.230Z","type":"platform.report","record":{"requestId":"r1","status":"success","metrics":{"durationMs":20.1,"billedDurationMs":21,"memorySizeMB":256,"maxMemoryUsedMB":10}}}]`
	tests := []struct {
		name      string
		before    []string // batches before SHUTDOWN
		after     []string // batches after it
		needBatch bool
		wantLeft  int
		wantWait  bool // it waits until the deadline
	}{
		{"reported", []string{start, report}, nil, false, 0, false},
		{"report after shutdown", []string{start}, []string{report}, false, 0, false},
		{"report never comes", []string{start}, nil, false, 1, true},
		{"periodic: the last batch comes", []string{start}, []string{report}, true, 0, false},
		{"periodic: nothing comes", []string{start, report}, nil, true, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := pipeline.New()
			if err != nil {
				t.Fatal(err)
			}
			r := newReceiver(p, metric.Origin{Function: "fn", Environment: "e1"}, "x86_64", slog.New(slog.DiscardHandler))
			post := func(b string) {
				r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(b))))
			}
			for _, b := range tc.before {
				post(b)
			}
			shutdown := time.Now()
			var after time.Time
			if tc.needBatch {
				after = shutdown
			}
			go func() {
				time.Sleep(20 * time.Millisecond)
				for _, b := range tc.after {
					post(b)
				}
			}()
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			left := r.settle(ctx, after)
			waited := time.Since(shutdown) >= 290*time.Millisecond
			if left != tc.wantLeft || waited != tc.wantWait {
				t.Errorf("settle: %d left, waited until the deadline %v; want %d, %v", left, waited, tc.wantLeft, tc.wantWait)
			}
		})
	}
}

package extension_test

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
	"github.com/lambdabridge/lambdabridge/runner"
)

// TestIntoPrometheus runs the example function with the extension's layer
// under the runner, into a real Prometheus by remote_write, across cold
// starts, warm invocations (the environment frozen between them), a
// function error, a crash, a timeout, the recycling of an idle environment
// and the SHUTDOWN of the last one, with each flush strategy: every custom
// and platform metric arrives exactly, summed over the environments.
func TestIntoPrometheus(t *testing.T) {
	for _, strategy := range []string{"invocation", "periodic"} {
		t.Run(strategy, func(t *testing.T) {
			prom, def := intoPrometheus(t, strategy, time.Second)
			log := &logs{}
			var runnerLog syncBuffer
			// Environments idle for 1.5 s are recycled (SHUTDOWN, reason
			// spindown); between invocations they are frozen.
			r, err := runner.New([]function.Definition{def}, runner.WithLogSink(log),
				runner.WithLogger(slog.New(slog.NewTextHandler(&runnerLog, nil))),
				runner.WithIdleTimeout(1500*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			var results []*runner.Result
			var wrote float64 // invocations that wrote their metrics
			for _, p := range []string{
				`{}`, `{}`, `{"fail":"out of stock"}`, `{"exit":3}`, // cold, warm, error, crash
				`{}`, `{"sleep_ms":3000}`, // cold, timeout
				`{}`, `{}`, // cold, warm
				"recycle", `{}`, `{}`, // cold, warm
			} {
				if p == "recycle" {
					time.Sleep(2500 * time.Millisecond)
					continue
				}
				// The one that sleeps returns at its deadline before
				// writing (as a timeout, or as its own error when its
				// answer comes first).
				if !strings.Contains(p, "sleep_ms") {
					wrote++
				}
				results = append(results, invoke(t, r, p))
			}
			r.Close()
			if !results[8].ColdStart || !strings.Contains(log.String(), "lambdabridge extension: shutdown (spindown)") {
				t.Fatalf("the idle environment was not recycled (cold start after the pause: %v):\n%s", results[8].ColdStart, testenv.GrepLines(log.String(), "lambdabridge extension"))
			}
			// Every invocation's own metrics reach the extension except
			// those of the one that sleeps first (it is cut before
			// writing); every invocation's platform.report reaches it, those
			// the runner ended (a crash, a timeout) before the shutdown
			// phase, as on Lambda.
			var failed, timedOut, cold float64 // of the Results
			for _, res := range results {
				if res.ColdStart {
					cold++
				}
				if res.Failed() {
					failed++
				}
				if res.TimedOut {
					timedOut++
				}
			}
			// A timeout after the function's answer (the go-emf handler
			// returns at its context's deadline) is reported before the
			// shutdown phase, as any other.
			reported := float64(len(results))
			// One extension process per init: the crash and the timeout
			// start the environment's processes again.
			inits := strings.Count(log.String(), "EXTENSION\tName: lambdabridge-extension\tState: Ready")
			if inits < 2 {
				t.Fatalf("%d inits: the crash did not start the environment again:\n%s", inits, log)
			}
			want := map[string]float64{
				// EMF, MONITORING, DogStatsD
				`lambda_bridge_example_orders_placed_total`:              wrote,
				`lambda_bridge_example_processing_latency_seconds_count`: 3 * wrote,
				`checkout_orders_total`:                                  wrote,
				`checkout_step_seconds_count`:                            2 * wrote,
				`checkout_requests_total`:                                wrote,
				`checkout_item_price_count`:                              2 * wrote,
				`checkout_db_query_seconds_count`:                        wrote,
				// platform
				`lambda_invocations_total`:      reported,
				`lambda_errors_total`:           failed,
				`lambda_timeouts_total`:         timedOut,
				`lambda_duration_seconds_count`: reported,
				// The init after a crash or timeout is a suppressed init,
				// part of Duration, not a cold start.
				`lambda_cold_starts_total`: cold,
			}
			for _, q := range slices.Sorted(maps.Keys(want)) {
				v := want[q]
				if got, ok := settle(prom, `sum(`+q+`{function_name="go-emf"})`, v); !ok {
					byEnv, _ := prom.Query(context.Background(), `sum by (lambda_environment) (`+q+`)`)
					t.Fatalf("%s = %g, want %g; by environment:\n%s\nextension lines:\n%s", q, got, v, byEnv, testenv.GrepLines(log.String(), "lambdabridge")+"\n"+testenv.GrepLines(log.String(), "REPORT"))
				}
			}
			testenv.EventuallyValue(t, prom, `count(count by (lambda_environment) (lambda_invocations_total))`, float64(inits), 5*time.Second)
			if !strings.Contains(log.String(), "lambdabridge extension: shutdown") || strings.Contains(log.String(), ", 0 dropped") == false {
				t.Errorf("no shutdown summary without drops in the function's log:\n%s", log)
			}
		})
	}
}

// TestBadConfigurationKeepsTheFunctionRunning: whatever is wrong with the
// extension's configuration, it registers, says what is wrong in the
// function's log and lets every invocation run.
func TestBadConfigurationKeepsTheFunctionRunning(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no sink", nil, "no sink: set LAMBDABRIDGE_REMOTE_WRITE_URL"},
		{"unknown strategy", map[string]string{"LAMBDABRIDGE_REMOTE_WRITE_URL": "http://127.0.0.1:9/api/v1/write", "LAMBDABRIDGE_FLUSH": "sometimes"},
			`LAMBDABRIDGE_FLUSH=\"sometimes\": want invocation or periodic`},
		{"missing file", map[string]string{"LAMBDABRIDGE_CONFIG": "/nonexistent/lambdabridge.yaml"}, "LAMBDABRIDGE_CONFIG: open /nonexistent/lambdabridge.yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log := &logs{}
			r, err := runner.New([]function.Definition{exampleDef(t, tc.env, 5*time.Second)}, runner.WithLogSink(log))
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if res := invoke(t, r, `{}`); res.Failed() {
					t.Fatalf("invocation failed: %s %s\n%s", res.ErrorType, res.Payload, log)
				}
			}
			r.Close()
			out := log.String()
			if !strings.Contains(out, "metrics are not delivered; the function runs as usual") || !strings.Contains(out, tc.want) {
				t.Errorf("the function's log does not say %q:\n%s", tc.want, out)
			}
			if !strings.Contains(out, "EXTENSION\tName: lambdabridge-extension\tState: Ready") {
				t.Errorf("the extension did not register:\n%s", out)
			}
		})
	}
}

// settle polls query for up to 10 s until it gives want; it returns the
// last value.
func settle(prom *testenv.Prometheus, query string, want float64) (float64, bool) {
	var got float64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		v, err := testenv.Value(context.Background(), prom, query)
		if err == nil && v == want {
			return v, true
		}
		got = v
	}
	return got, false
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

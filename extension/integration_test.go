package extension_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
	"github.com/lambdabridge/lambdabridge/runner"
)

// TestIntoPrometheus runs the example function with the extension's layer
// under the runner, into a real Prometheus by remote_write, across cold
// starts, warm invocations, a function error, a crash, a timeout and the
// SHUTDOWN of the last environment, with each flush strategy: every custom
// and platform metric arrives exactly, summed over the environments.
func TestIntoPrometheus(t *testing.T) {
	for _, strategy := range []string{"invocation", "periodic"} {
		t.Run(strategy, func(t *testing.T) {
			prom := testenv.StartPrometheus(t)
			def := exampleDef(t, map[string]string{
				"LAMBDABRIDGE_REMOTE_WRITE_URL": prom.RemoteWriteURL(),
				"LAMBDABRIDGE_FLUSH":            strategy,
				"LAMBDABRIDGE_FLUSH_INTERVAL":   "1s",
			}, time.Second)
			log := &logs{}
			r, err := runner.New(
				[]function.Definition{def}, runner.WithLogSink(log))
			if err != nil {
				t.Fatal(err)
			}
			var results []*runner.Result
			for _, p := range []string{
				`{}`, `{}`, `{"fail":"out of stock"}`, `{"exit":3}`, // cold, warm, error, crash
				`{}`, `{"sleep_ms":3000}`, // cold, timeout
				`{}`, `{}`, // cold, warm
			} {
				results = append(results, invoke(t, r, p))
			}
			r.Close()
			var cold, failed, timedOut int
			envs := map[string]bool{}
			for _, res := range results {
				envs[res.Environment] = true
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
			// After a crash or a timeout the next init is a suppressed
			// init, not a cold start (as on Lambda).
			if len(envs) != 3 || cold != 1 || failed != 3 || timedOut != 1 {
				t.Fatalf("runner: %d environments, %d cold starts, %d failed, %d timed out; want 3, 1, 3, 1\n%s", len(envs), cold, failed, timedOut, log)
			}
			const k = 7 // invocations that wrote their metrics (not the timeout)
			want := map[string]float64{
				// EMF, MONITORING, DogStatsD
				`lambda_bridge_example_orders_placed_total`:              k,
				`lambda_bridge_example_processing_latency_seconds_count`: 3 * k,
				`checkout_orders_total`:                                  k,
				`checkout_step_seconds_count`:                            2 * k,
				`checkout_requests_total`:                                k,
				`checkout_item_price_count`:                              2 * k,
				`checkout_db_query_seconds_count`:                        k,
				// platform: the runner publishes the platform.report of a
				// crashed or timed-out invocation after the environment's
				// shutdown phase (runner/fn.go: crashed and timedOut call
				// end after shutdown), where no extension can receive it:
				// 6 of the 8 invocations reach any extension, the function
				// error among them.
				`lambda_invocations_total`: 6,
				`lambda_errors_total`:      1,
				`lambda_timeouts_total`:    0,
				// The platform parser counts every environment's
				// platform.initStart as a cold start, where the runner's
				// Result folds the init after a crash or timeout into
				// Duration (a suppressed init): 3 here, 1 in the Results.
				`lambda_cold_starts_total`:      3,
				`lambda_duration_seconds_count`: 6,
			}
			for _, q := range slices.Sorted(maps.Keys(want)) {
				v := want[q]
				testenv.EventuallyValue(t, prom, `sum(`+q+`{function_name="go-emf"})`, v, 10*time.Second)
				if t.Failed() {
					byEnv, _ := prom.Query(context.Background(), `sum by (lambda_environment) (`+q+`)`)
					t.Fatalf("by environment:\n%s\nextension lines:\n%s", byEnv, grep(log.String(), "lambdabridge"))
				}
			}
			testenv.EventuallyValue(t, prom, `count(count by (lambda_environment) (lambda_invocations_total))`, 3, 5*time.Second)
			if !strings.Contains(log.String(), "lambdabridge extension: shutdown") || strings.Contains(log.String(), ", 0 dropped") == false {
				t.Errorf("no shutdown summary without drops in the function's log:\n%s", log)
			}
		})
	}
}

// grep returns the lines of s holding sub.
func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
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

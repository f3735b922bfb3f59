package session

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/config"
	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/remotewrite"
	"github.com/lambdabridge/lambdabridge/runner"
)

// A custom runtime (a bootstrap speaking the Runtime API with curl) whose
// handler talks to the agent the way hot-shots does (DD_AGENT_HOST and
// DD_DOGSTATSD_PORT) and writes an EMF line, run by the real runner.
const script = `#!/bin/bash
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"
while true; do
  id=$(curl -sS -D - -o /dev/null "$api/next" | tr -d '\r' | awk -F': ' 'tolower($1)=="lambda-runtime-aws-request-id" {print $2}')
  echo -n "checkout.orders:1|c|#route:/buy" > /dev/udp/$DD_AGENT_HOST/$DD_DOGSTATSD_PORT
  echo '{"_aws":{"Timestamp":'$(date +%s%3N)',"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[[]],"Metrics":[{"Name":"Orders","Unit":"Count"}]}]},"Orders":1}'
  curl -sS -o /dev/null -d '{"ok":true}' "$api/$id/response"
done
`

func handler(t *testing.T) function.Definition {
	t.Helper()
	for _, bin := range []string{"/bin/bash", "curl"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("the test function needs %s: %v", bin, err)
		}
	}
	path := filepath.Join(t.TempDir(), "fn.sh")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := function.FromHandler(path, function.WithName("fn"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// pointOrigins collects, per format, the origins of the points seen.
type pointOrigins struct {
	mu sync.Mutex
	by map[metric.Format][]metric.Origin
}

func (p *pointOrigins) add(pt *metric.Point) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.by == nil {
		p.by = map[metric.Format][]metric.Origin{}
	}
	p.by[pt.Format] = append(p.by[pt.Format], pt.Origin)
}

func runOnce(t *testing.T, s *Session, extra ...runner.Option) {
	t.Helper()
	defs := s.Apply([]function.Definition{handler(t)})
	opts := append([]runner.Option{runner.WithLogSink(s.Pipeline()), runner.WithPlatformSink(s.Pipeline()), runner.WithFreeze(false)}, extra...)
	r, err := runner.New(defs, opts...)
	if err != nil {
		t.Fatal(err)
	}
	s.AddSource(r)
	s.Start(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := r.Invoke(ctx, "fn", runner.Request{Payload: []byte("{}")})
	if err != nil || res.Failed() {
		t.Fatalf("invoke: %v %+v", err, res)
	}
}

// The shared listener: the function finds it through the variables Apply
// gave it, and its datagram sent just before it ended is counted.
func TestRunnerSharedAgent(t *testing.T) {
	var seen pointOrigins
	s, err := New(nil, WithAgents(Agents{DogStatsD: "127.0.0.1:0"}), WithFunction("fn"), WithPointHandler(seen.add))
	if err != nil {
		t.Fatal(err)
	}
	runOnce(t, s)
	sum := s.Shutdown()
	if sum.Input.Datagrams != 1 || len(seen.by[metric.FormatDogStatsD]) != 1 || len(seen.by[metric.FormatEMF]) != 1 {
		t.Fatalf("datagrams %d, points %v: want the function's datagram and EMF line", sum.Input.Datagrams, seen.by)
	}
	if o := seen.by[metric.FormatDogStatsD][0]; o.Function != "fn" {
		t.Errorf("datagram origin %+v, want function fn", o)
	}
}

// With a listener per environment, each datagram says which environment
// sent it.
func TestRunnerListenerPerEnvironment(t *testing.T) {
	var seen pointOrigins
	s, err := New(nil, WithAgents(Agents{PerEnvironment: true}), WithPointHandler(seen.add))
	if err != nil {
		t.Fatal(err)
	}
	runOnce(t, s, runner.WithEnvironmentVars(s.EnvironmentVars), runner.WithLifecycle(s.Lifecycle))
	sum := s.Shutdown()
	if sum.Err != nil {
		t.Fatal(sum.Err)
	}
	got := seen.by[metric.FormatDogStatsD]
	if len(got) != 1 || got[0].Function != "fn" || got[0].Environment == "" {
		t.Fatalf("datagram origins %+v, want one from fn with its environment", got)
	}
	if emf := seen.by[metric.FormatEMF]; len(emf) != 1 || emf[0].Environment != got[0].Environment {
		t.Errorf("EMF origins %+v, want the datagram's environment %q", emf, got[0].Environment)
	}
}

// slowHandler is a function whose invocations take d.
func slowHandler(t *testing.T, d time.Duration) function.Definition {
	t.Helper()
	path := filepath.Join(t.TempDir(), "slow.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\ncat >/dev/null\nsleep "+strconv.Itoa(int(d.Seconds()))+"\necho '{}'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	def, err := function.FromHandler(path, function.WithName("slow"), function.WithExec(true), function.WithTimeout(2*d))
	if err != nil {
		t.Fatal(err)
	}
	return def
}

// The drain deadline bounds the invocations in flight when the run is
// interrupted (issue 16): ShutdownOn shuts the runner down while Drive
// still waits, so Drive returns at the deadline with the invocation cut,
// not when the function ends; a cut context (a second signal) ends it at
// once.
func TestShutdownOnBoundsInFlight(t *testing.T) {
	for _, tc := range []struct {
		name  string
		drain time.Duration
		cut   bool
		max   time.Duration
	}{
		{"drain deadline", time.Second, false, 8 * time.Second},
		{"second signal", time.Hour, true, 8 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(nil, WithDrainTimeout(tc.drain))
			if err != nil {
				t.Fatal(err)
			}
			r, err := runner.New([]function.Definition{slowHandler(t, 20*time.Second)},
				runner.WithLogSink(s.Pipeline()), runner.WithPlatformSink(s.Pipeline()), runner.WithFreeze(false))
			if err != nil {
				t.Fatal(err)
			}
			s.AddSource(r)
			s.Start(context.Background())
			ctx, interrupt := context.WithCancel(context.Background())
			cut, cutNow := context.WithCancel(context.Background())
			defer cutNow()
			stop := s.ShutdownOn(ctx, cut)
			defer stop()
			time.AfterFunc(300*time.Millisecond, func() {
				interrupt()
				if tc.cut {
					cutNow()
				}
			})
			start := time.Now()
			st, _ := r.Drive(ctx, runner.Load{Function: "slow", Invocations: 1})
			stop()
			s.Shutdown()
			if took := time.Since(start); took > tc.max || st.Cut != 1 {
				t.Errorf("Drive returned after %v with %d invocations cut; want the invocation cut well before it ends (20s)", took, st.Cut)
			}
		})
	}
}

// The whole chain for --per-environment (issue 9/16): the runner recycles
// an idle environment, the session's Lifecycle ends that environment's
// series, and a real Prometheus fed by remote_write sees them go stale
// while the next environment's series are there; the run's end leaves the
// last environment's series queryable. (The idle timeout must outlast the
// Shutdown after the second invocation.)
func TestRecycledEnvironmentStaleInPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	prom := testenv.StartPrometheus(t)
	cfg := &config.File{
		RemoteWrite:         []remotewrite.Config{remoteWrite(t, prom.RemoteWriteURL())},
		RemoteWriteInterval: 200 * time.Millisecond,
		Aggregation:         config.Aggregation{PerEnvironment: true},
	}
	s, err := New(cfg, WithAgents(Agents{PerEnvironment: true}))
	if err != nil {
		t.Fatal(err)
	}
	recycled := make(chan string, 4)
	lifecycle := func(ev runner.EnvEvent) {
		s.Lifecycle(ev)
		if ev.Kind == runner.EnvEnded && ev.Reason == runner.EndIdle {
			recycled <- ev.Environment
		}
	}
	r, err := runner.New(s.Apply([]function.Definition{handler(t)}),
		runner.WithLogSink(s.Pipeline()), runner.WithPlatformSink(s.Pipeline()), runner.WithFreeze(false),
		runner.WithIdleTimeout(3*time.Second), runner.WithLifecycle(lifecycle), runner.WithEnvironmentVars(s.EnvironmentVars))
	if err != nil {
		t.Fatal(err)
	}
	s.AddSource(r)
	s.Start(context.Background())
	invoke := func() string {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := r.Invoke(ctx, "fn", runner.Request{Payload: []byte("{}")})
		if err != nil || res.Failed() {
			t.Fatalf("invoke: %v %+v", err, res)
		}
		return res.Environment
	}
	const q = `checkout_orders_total{function_name="fn"}` // the function's DogStatsD count
	series := func(env string) string {
		return `checkout_orders_total{function_name="fn", lambda_environment="` + env + `", route="/buy"}`
	}
	first := invoke()
	select {
	case env := <-recycled:
		if env != first {
			t.Fatalf("recycled %s, want %s", env, first)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the idle environment was not recycled within 30s")
	}
	second := invoke()
	if second == first {
		t.Fatalf("environment %s reused after it was recycled", first)
	}
	// The run ends (Shutdown closes env-2: its series stay, at their final
	// value) well within the idle timeout.
	sum := s.Shutdown()
	// Now: only the second environment's series; the first one's went
	// stale (it was delivered: it is in the range).
	testenv.EventuallyVector(t, prom, q, testenv.Vector{series(second): 1}, 30*time.Second)
	testenv.EventuallyVector(t, prom, "last_over_time("+q+"[10m])", testenv.Vector{series(first): 1, series(second): 1}, 30*time.Second)
	if sum.Failed() {
		t.Errorf("summary: %+v", sum)
	}
}

package session

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/metric"
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

package extension_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
	"github.com/lambdabridge/lambdabridge/runner"
)

// TestPushgatewayGroupPerEnvironment: each environment pushes to its own
// group (instance in the grouping key), so a second environment never
// overwrites the first one's counts: summed over the groups, every
// invocation's metrics are there.
func TestPushgatewayGroupPerEnvironment(t *testing.T) {
	pg := testenv.StartPushgateway(t)
	def := exampleDef(t, map[string]string{"LAMBDABRIDGE_PUSHGATEWAY_URL": pg.URL, "LAMBDABRIDGE_PUSHGATEWAY_JOB": "checkout"}, 5*time.Second)
	log := &logs{}
	r, err := runner.New([]function.Definition{def}, runner.WithLogSink(log))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{`{}`, `{}`, `{"exit":3}`, `{}`} { // the crash starts the environment again
		invoke(t, r, p)
	}
	r.Close()
	if n := strings.Count(log.String(), "EXTENSION\tName: lambdabridge-extension\tState: Ready"); n != 2 {
		t.Fatalf("%d extension processes, want 2:\n%s", n, log)
	}
	v, err := pg.Samples(context.Background(), "checkout_orders_total")
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	instances := map[string]bool{}
	for k, x := range v {
		if !strings.Contains(k, `job="checkout"`) {
			t.Errorf("series %s without the job", k)
		}
		i := strings.Index(k, `instance="`)
		if i < 0 {
			t.Errorf("series %s without its environment's instance", k)
			continue
		}
		instances[k[i:]] = true
		sum += x
	}
	if sum != 4 || len(instances) != 2 {
		t.Errorf("checkout_orders_total: %v summed to %g over %d groups, want 4 over 2\n%s", v, sum, len(instances), testenv.GrepLines(log.String(), "lambdabridge"))
	}
}

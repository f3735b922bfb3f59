package extension_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
	"github.com/lambdabridge/lambdabridge/runner"
)

// TestEMFAgentEndpoint: an EMF line sent to the extension's CloudWatch
// agent endpoint (TCP, as aws-embedded-metrics in agent mode sends it)
// while the environment is frozen is read when it thaws and delivered at
// SHUTDOWN.
func TestEMFAgentEndpoint(t *testing.T) {
	prom := testenv.StartPrometheus(t)
	def := exampleDef(t, map[string]string{"LAMBDABRIDGE_REMOTE_WRITE_URL": prom.RemoteWriteURL()}, 5*time.Second)
	r, err := runner.New([]function.Definition{def}, runner.WithLogSink(&logs{}))
	if err != nil {
		t.Fatal(err)
	}
	invoke(t, r, `{}`)
	c, err := net.Dial("tcp", def.Env["LAMBDABRIDGE_EMF_AGENT_ADDR"])
	if err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"AgentTest","Dimensions":[["Service"]],"Metrics":[{"Name":"Sent","Unit":"Count"}]}]},"Service":"agent","Sent":3}`+"\n", time.Now().UnixMilli())
	if _, err := c.Write([]byte(line)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		v, err := testenv.Value(ctx, prom, `sum({__name__=~"agent_test_sent.*", function_name="go-emf"})`)
		if err == nil && v == 3 {
			return
		}
		if ctx.Err() != nil {
			all, _ := prom.Query(context.Background(), `count by (__name__) ({__name__=~".+"})`)
			t.Fatalf("agent_test_sent: %v, %v; families:\n%s", v, err, all)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

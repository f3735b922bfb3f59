package extension_test

import (
	"context"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
	"github.com/lambdabridge/lambdabridge/runner"
)

// TestKernelDropsCounted floods the extension's DogStatsD socket while its
// environment is frozen, so that the kernel drops what the receive buffer
// cannot hold: every datagram sent is delivered or counted, in
// lambdabridge_dogstatsd_kernel_dropped_datagrams_total in Prometheus and
// in the shutdown line in the function's log (sent = delivered + dropped),
// and the extension's threads leave SCHED_BATCH.
func TestKernelDropsCounted(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example and the layer, runs Prometheus")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the kernel drop counter is read on Linux only")
	}
	prom, def := intoPrometheus(t, "periodic", 10*time.Second)
	marker := "drops-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	def.Env["LAMBDABRIDGE_BENCH_ID"] = marker
	log := &logs{}
	r, err := runner.New([]function.Definition{def}, runner.WithLogSink(log))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	invoke(t, r, `{}`) // the environment is frozen after it
	// More than the socket's buffer holds (the extension asks for 4 MiB,
	// at most net.core.rmem_max, doubled by the kernel): small datagrams
	// take about a kilobyte each in it.
	const sent = 30000
	testenv.SendUDP(t, def.Env["LAMBDABRIDGE_DOGSTATSD_ADDR"], []byte("lb.flood:1|c|#flood:yes"), sent)
	// Thawed for 1.5 s: the extension reads what the socket holds, and at
	// the next Telemetry batch sees the drops and leaves SCHED_BATCH.
	invoke(t, r, `{"sleep_ms":1500}`)
	pid, ok := extensionPID(marker)
	if !ok {
		t.Fatal("no extension process")
	}
	for tid, policy := range threadPolicies(t, pid) {
		if policy != "0" {
			t.Errorf("after the kernel dropped datagrams, thread %s has policy %s, want SCHED_NORMAL (0)", tid, policy)
		}
	}
	r.Close() // SHUTDOWN: the extension delivers what it holds
	const droppedQ = `sum(lambdabridge_dogstatsd_kernel_dropped_datagrams_total{function_name="go-emf"})`
	_, ok = settle(prom, `sum(lb_flood_total) + `+droppedQ, sent)
	delivered, _ := testenv.Value(context.Background(), prom, `sum(lb_flood_total)`)
	dropped, _ := testenv.Value(context.Background(), prom, droppedQ)
	if !ok {
		t.Fatalf("sent %d datagrams: %g delivered (lb_flood_total), %g counted as dropped by the kernel:\n%s", sent, delivered, dropped, testenv.GrepLines(log.String(), "lambdabridge extension"))
	}
	if dropped == 0 {
		t.Fatalf("sent %d datagrams to a frozen environment, none dropped: the test shows nothing (raise sent)", sent)
	}
	if !strings.Contains(log.String(), "lambdabridge extension: the kernel dropped datagrams on an agent socket") {
		t.Errorf("no line says the extension stopped yielding to the function:\n%s", testenv.GrepLines(log.String(), "lambdabridge extension"))
	}
	m := regexp.MustCompile(`; (\d+) datagrams dropped by the kernel`).FindStringSubmatch(log.String())
	if m == nil || m[1] != strconv.FormatFloat(dropped, 'f', -1, 64) {
		t.Errorf("the shutdown line does not say the %g datagrams the kernel dropped:\n%s", dropped, testenv.GrepLines(log.String(), "lambdabridge extension: shutdown"))
	}
	t.Logf("sent %d: delivered %g, dropped by the kernel %g", sent, delivered, dropped)
}

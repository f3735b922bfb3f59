package extension_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/extension"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
)

// rieTimeout is the function's timeout under the emulator, in seconds.
const rieTimeout = 4

// rieStep is one invocation of TestUnderRIE: its event and how it ends
// ("ok", "crash" or "timeout"; the emulator then shuts the environment down
// and starts it again at the next invocation).
type rieStep struct{ payload, end string }

var rieSteps = []rieStep{
	{`{}`, "ok"}, {`{}`, "ok"}, {`{"exit":3}`, "crash"}, // cold, warm, crash: SHUTDOWN (ReleaseFail)
	{`{}`, "ok"}, {`{"sleep_ms":60000}`, "timeout"}, // init again, timeout: SHUTDOWN (Timeout)
	{`{}`, "ok"}, {`{}`, "ok"}, // init again, warm; SIGTERM: SHUTDOWN (SandboxTerminated)
}

// rieTally is what the steps emit: invocations that wrote their metrics
// (all but the timeout, cut before writing), environments (extension
// processes), the sum of the EMF agent values the test sends after each
// invocation that answered.
type rieTally struct{ wrote, envs, agentSum float64 }

func tallyRIE(steps []rieStep) rieTally {
	tl := rieTally{envs: 1}
	for i, st := range steps {
		if st.end != "timeout" {
			tl.wrote++
		}
		if st.end == "ok" {
			tl.agentSum += float64(i + 1)
		} else if i < len(steps)-1 {
			tl.envs++
		}
	}
	return tl
}

// TestUnderRIE is the outside check: the example function with the
// extension's layer under AWS's Runtime Interface Emulator (its Extensions
// API, not lambdabridge's), into a real Prometheus, with each flush
// strategy, across a crash, a timeout and SHUTDOWN. The emulator has no
// Telemetry API: the extension must say so in the function's log, let every
// invocation end when the function answers, and deliver exactly what it can
// observe without it (DogStatsD, the EMF agent endpoint, its own overhead
// and init), and nothing of the log lines or the platform.
func TestUnderRIE(t *testing.T) {
	bin := testenv.RIE(t)
	wrap := mountWrapper(t)
	tl := tallyRIE(rieSteps)
	for _, strategy := range []string{"invocation", "periodic"} {
		t.Run(strategy, func(t *testing.T) {
			prom := testenv.StartPrometheus(t)
			dir := binaries(t)
			agent := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
			dsd := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
			e := startRIE(t, wrap, bin, filepath.Join(dir, "layer"), filepath.Join(dir, "go-emf", "bootstrap"), map[string]string{
				"AWS_LAMBDA_FUNCTION_NAME":        "go-emf-rie",
				"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(rieTimeout),
				"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
				"LAMBDABRIDGE_REMOTE_WRITE_URL":   prom.RemoteWriteURL(),
				"LAMBDABRIDGE_FLUSH":              strategy,
				"LAMBDABRIDGE_FLUSH_INTERVAL":     "1s",
				"LAMBDABRIDGE_DOGSTATSD_ADDR":     dsd,
				"DD_DOGSTATSD_URL":                "udp://" + dsd,
				"LAMBDABRIDGE_EMF_AGENT_ADDR":     agent,
			})
			e.run(t, rieSteps, agent)
			// Delivered while the environment runs, before SHUTDOWN: every
			// LAMBDABRIDGE_FLUSH_INTERVAL with each strategy, then within
			// remote_write's batch_send_deadline (5 s).
			testenv.EventuallyValue(t, prom, `sum(checkout_requests_total{function_name="go-emf-rie"})`, tl.wrote, 20*time.Second)
			testenv.EventuallyValue(t, prom, `sum(rie_check_sent_total{function_name="go-emf-rie"})`, tl.agentSum, 20*time.Second)
			e.stop(t)
			log := e.out.String()
			checkRIELog(t, log, rieSteps, int(tl.envs))
			// The periodic strategy takes no INVOKE events: no overhead of
			// its own to measure.
			overheads := len(rieSteps)
			if strategy == "periodic" {
				overheads = 0
			}
			checkRIEMetrics(t, prom, log, tl, overheads)
		})
	}
}

// run invokes the function once per step, one at a time, each with its
// own request id (rie-N), and checks the answers; after each invocation
// that answered it sends N to the EMF agent endpoint.
func (e *emulator) run(t *testing.T, steps []rieStep, agent string) {
	t.Helper()
	k := 0 // the environment's invocations, as the function counts them
	for i, st := range steps {
		k++
		id := fmt.Sprintf("rie-%d", i+1)
		status, body := e.invoke(t, id, st.payload)
		for retry := 0; retry < 2 && strings.Contains(body, "ErrGateCanceled"); retry++ {
			// The emulator's own race: a process of the environment it
			// reset, reported gone after the next init began, cancels that
			// init (502 Sandbox.Failure) before the function runs.
			t.Logf("aws-lambda-rie failed %s before it ran (%s), invoking again", id, body)
			status, body = e.invoke(t, id, st.payload)
		}
		switch st.end {
		case "ok":
			if want := fmt.Sprintf(`{"ok":true,"invocation":%d}`, k); status != http.StatusOK || body != want {
				t.Fatalf("invocation %d answered %d %s, want %s\n%s", i+1, status, body, want, e.out)
			}
			sendAgentLine(t, agent, i+1)
		case "timeout":
			if !strings.HasPrefix(body, "Task timed out") {
				t.Fatalf("invocation %d answered %d %s, want a timeout\n%s", i+1, status, body, e.out)
			}
			k = 0
		case "crash":
			t.Logf("the crash answered %d %s", status, body)
			k = 0
		}
	}
}

// checkRIEMetrics checks what reached Prometheus after SHUTDOWN: exactly
// what the invocations sent to DogStatsD and the EMF agent endpoint, summed
// over the environments, the extension's overhead (overheads points: one
// per INVOKE it took) and init (one per environment), nothing of the log
// lines or the platform.
func checkRIEMetrics(t *testing.T, prom *testenv.Prometheus, log string, tl rieTally, overheads int) {
	t.Helper()
	sum := func(f string) string { return `sum(` + f + `{function_name="go-emf-rie"})` }
	none := func(f string) string { return `count(` + f + `) or vector(0)` }
	n := tl.wrote
	for _, c := range []struct {
		query string
		want  float64
	}{
		// DogStatsD (the function), the EMF agent endpoint (the test)
		{sum(`checkout_requests_total`), n},
		{sum(`checkout_queue_depth`), 7 * tl.envs}, // a gauge per environment
		{sum(`checkout_item_price_count`), 2 * n},
		{sum(`checkout_item_price_sum`), 30 * n},
		{sum(`checkout_payload_bytes_count`), n},
		{sum(`checkout_payload_bytes_sum`), 2048 * n},
		{sum(`checkout_db_query_seconds_count`), n},
		{sum(`rie_check_sent_total`), tl.agentSum},
		// the extension's own
		{sum(extension.MetricOverhead+`_count`) + ` or vector(0)`, float64(overheads)},
		{`count(` + extension.MetricInit + `{function_name="go-emf-rie"})`, tl.envs},
		// Without the Telemetry API: none of the log lines' metrics, no
		// platform metrics.
		{none(`lambda_bridge_example_orders_placed_total`), 0},
		{none(`checkout_orders_total`), 0},
		{none(`lambda_invocations_total`), 0},
	} {
		if got, ok := settle(prom, c.query, c.want); !ok {
			all, _ := prom.Query(context.Background(), `count by (__name__) ({__name__=~".+"})`)
			t.Errorf("%s = %g, want %g; families:\n%s", c.query, got, c.want, all)
		}
	}
	if t.Failed() {
		t.Logf("extension lines:\n%s", testenv.GrepLines(log, "lambdabridge"))
	}
}

// checkRIELog checks the function's log under the emulator: in each
// environment one line saying that the Telemetry API is unavailable and
// what is therefore not collected, and a shutdown summary without drops
// (with the emulator's reasons); a REPORT for every invocation that
// answered, none of which waited for the deadline.
func checkRIELog(t *testing.T, log string, steps []rieStep, envs int) {
	t.Helper()
	const unavailable = "the Telemetry API is unavailable"
	lines := testenv.GrepLines(log, unavailable)
	registered := strings.Count(log, "External agent lambdabridge-extension (")
	if c := strings.Count(log, unavailable); c != registered || c < envs {
		t.Errorf("%d lines say %q, want one per registration (%d) and environment (%d):\n%s", c, unavailable, registered, envs, log)
	}
	for _, what := range []string{"EMF, MONITORING, Datadog JSON", "platform.report", "DogStatsD and the EMF agent endpoint are served"} {
		if !strings.Contains(lines, what) {
			t.Errorf("the line saying %q does not name %q:\n%s", unavailable, what, lines)
		}
	}
	sums := testenv.GrepLines(log, "lambdabridge extension: shutdown")
	if c := strings.Count(sums, ", 0 dropped"); c != envs {
		t.Errorf("%d shutdown summaries without drops, want %d:\n%s", c, envs, sums)
	}
	for _, reason := range []string{"ReleaseFail", "Timeout", "SandboxTerminated"} {
		if !strings.Contains(sums, "shutdown ("+reason+")") {
			t.Errorf("no shutdown summary with the reason %s:\n%s", reason, sums)
		}
	}
	for i, st := range steps {
		if st.end != "ok" {
			continue
		}
		m := regexp.MustCompile(`REPORT RequestId: rie-` + strconv.Itoa(i+1) + `\t.*Duration: ([0-9.]+) ms\tBilled`).FindStringSubmatch(log)
		if m == nil {
			t.Errorf("no REPORT for rie-%d:\n%s", i+1, log)
			continue
		}
		// An extension waiting for a platform.runtimeDone that never comes
		// holds every invocation until its deadline.
		t.Logf("rie-%d: Duration %s ms", i+1, m[1])
		if ms, _ := strconv.ParseFloat(m[1], 64); ms >= (rieTimeout-1)*1000 {
			t.Errorf("rie-%d lasted %s ms of its %d s: the extension held it until its deadline", i+1, m[1], rieTimeout)
		}
	}
}

// sendAgentLine sends one EMF line, Sent = i, to the extension's CloudWatch
// agent endpoint, as aws-embedded-metrics in agent mode does.
func sendAgentLine(t *testing.T, addr string, i int) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	line := fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"RieCheck","Dimensions":[["Service"]],"Metrics":[{"Name":"Sent","Unit":"Count"}]}]},"Service":"rie","Sent":%d}`+"\n", time.Now().UnixMilli(), i)
	if _, err := c.Write([]byte(line)); err != nil {
		t.Fatal(err)
	}
}

// mountScript bind-mounts $1 on /opt and executes the rest of its
// arguments; it runs in a private mount namespace (unshare --mount), so the
// machine's /opt is never touched.
const mountScript = `mount --bind "$1" /opt && shift && exec "$@"`

// mountWrapper returns the argv prefix that runs a command with a layer at
// /opt in a private mount namespace (the emulator finds its extensions in
// /opt/extensions only), or skips the test when none can be made here.
func mountWrapper(t *testing.T) []string {
	t.Helper()
	unshare := testenv.LookPath(t, "util-linux", "unshare")
	testenv.LookPath(t, "mount", "mount")
	if fi, err := os.Stat("/opt"); err != nil || !fi.IsDir() {
		t.Skip("no /opt to mount the layer on")
	}
	wrap := []string{unshare, "--mount"}
	if os.Geteuid() != 0 {
		wrap = append(wrap, "--map-root-user")
	}
	wrap = append(wrap, "sh", "-c", mountScript, "rie-mount")
	probe := append(slices.Clone(wrap), t.TempDir(), "true")
	if out, err := exec.Command(probe[0], probe[1:]...).CombinedOutput(); err != nil {
		t.Skipf("no private mount namespace here to show the emulator a layer at /opt: %v %s", err, out)
	}
	return wrap
}

// emulator is a running aws-lambda-rie.
type emulator struct {
	cmd    *exec.Cmd
	url    string
	out    *syncBuffer   // its output: the function's log with its own lines
	exited chan struct{} // closed when it exited
	client *http.Client
}

// startRIE runs the emulator with fn and the layer at /opt, the variables
// in its environment (it passes its environment to the function and the
// extensions), on loopback.
func startRIE(t *testing.T, wrap []string, bin, layer, fn string, vars map[string]string) *emulator {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	api := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	argv := append(slices.Clone(wrap), layer, bin, "--runtime-interface-emulator-address", addr, "--runtime-api-address", api, fn)
	e := &emulator{
		cmd: exec.Command(argv[0], argv[1:]...), url: "http://" + addr + "/2015-03-31/functions/function/invocations",
		out: &syncBuffer{}, exited: make(chan struct{}), client: &http.Client{Timeout: 30 * time.Second},
	}
	e.cmd.Env = os.Environ()
	for k, v := range vars {
		e.cmd.Env = append(e.cmd.Env, k+"="+v)
	}
	e.cmd.Stdout, e.cmd.Stderr = e.out, e.out
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	e.cmd.WaitDelay = 5 * time.Second // a process left holding its output
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = e.cmd.Wait(); close(e.exited) }()
	t.Cleanup(func() {
		select {
		case <-e.exited:
		default:
			_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
			<-e.exited
		}
		if t.Failed() {
			t.Logf("aws-lambda-rie output:\n%s", e.out)
		}
	})
	testenv.Eventually(t, 10*time.Second, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, "aws-lambda-rie does not listen on ", addr)
	return e
}

// invoke invokes the function once with the request id id and returns
// the answer's status and body.
func (e *emulator) invoke(t *testing.T, id, payload string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url, strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amzn-RequestId", id) // the emulator's request id
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("invoke %s: %v\n%s", id, err, e.out)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// stop sends the emulator SIGTERM (its extensions get SHUTDOWN) and waits
// for it to exit.
func (e *emulator) stop(t *testing.T) {
	t.Helper()
	if err := e.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.exited:
	case <-time.After(15 * time.Second):
		t.Fatalf("aws-lambda-rie did not exit within 15 s of SIGTERM:\n%s", e.out)
	}
}

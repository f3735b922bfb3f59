// Command gofn is the Go test function of the runner's integration tests: a
// bootstrap built with aws-lambda-go whose event says what to do.
package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Action string `json:"action"`
	Ms     int    `json:"ms"`
	MB     int    `json:"mb"`
	Text   string `json:"text"`
}

var keep [][]byte

func handle(ctx context.Context, e event) (any, error) {
	switch e.Action {
	case "":
		return nil, nil
	case "error":
		return nil, errors.New("boom: " + e.Text)
	case "sleep":
		fmt.Println("sleeping", e.Ms, "ms")
		time.Sleep(time.Duration(e.Ms) * time.Millisecond)
	case "ticker": // a background flusher, as metric libraries run
		go func() {
			for range time.Tick(20 * time.Millisecond) {
				fmt.Println("tick")
			}
		}()
	case "panic": // aws-lambda-go reports it, then the process exits
		panic("boom: " + e.Text)
	case "spawn": // children that try to outlive the environment
		return spawn()
	case "poller": // a child whose main thread waits in epoll_wait, and nothing else
		c := exec.Command(os.Args[0])
		c.Env = append(os.Environ(), "GOFN_EPOLL_WAIT=1")
		if err := c.Start(); err != nil {
			return nil, err
		}
		return map[string]int{"pid": c.Process.Pid}, nil
	case "crash":
		fmt.Println("about to crash")
		os.Exit(3)
	case "alloc":
		b := make([]byte, e.MB<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		keep = append(keep, b)
		time.Sleep(time.Duration(e.Ms) * time.Millisecond)
	case "log":
		fmt.Println("before")
		fmt.Fprintln(os.Stderr, "on stderr")
		fmt.Println(e.Text)
		fmt.Printf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"Test","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"}]}]},"Service":"gofn","Latency":12}`+"\n", time.Now().UnixMilli())
		fmt.Println("after")
	case "read": // a file as the function sees it, and its working folder
		b, err := os.ReadFile(e.Text)
		wd, _ := os.Getwd()
		if err != nil {
			return map[string]string{"error": err.Error(), "wd": wd}, nil
		}
		if len(b) > 4096 {
			return map[string]string{"content": "<" + strconv.Itoa(len(b)) + " bytes>", "wd": wd}, nil
		}
		return map[string]string{"content": string(b), "wd": wd}, nil
	case "levels": // structured lines at each level, a plain line, EMF
		for _, l := range []string{"DEBUG", "info", "WARN", "error"} {
			fmt.Printf(`{"level":%q,"msg":"at %s"}`+"\n", l, strings.ToLower(l))
		}
		fmt.Println("a plain line")
		fmt.Printf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"Test","Dimensions":[[]],"Metrics":[{"Name":"Hits"}]}]},"Hits":1}`+"\n", time.Now().UnixMilli())
	case "spin": // CPU-bound work: e.Ms rounds of hashing; the time it took
		start := time.Now()
		sum := sha256.Sum256([]byte(e.Text))
		for range e.Ms * 1000 {
			sum = sha256.Sum256(sum[:])
		}
		return map[string]any{"ms": time.Since(start).Milliseconds(), "sum": sum[0]}, nil
	case "initspin": // how long GOFN_INIT_SPIN's work took at init
		return map[string]any{"ms": initSpin.Milliseconds()}, nil
	case "stream": // a streamed response (io.Reader) in three chunks; "fail" fails after two
		pr, pw := io.Pipe()
		go func() {
			for i, c := range []string{"one,", "two,", "three"} {
				if i == 2 && e.Text == "fail" {
					pw.CloseWithError(errors.New("broken mid-stream"))
					return
				}
				pw.Write([]byte(c))
				time.Sleep(50 * time.Millisecond)
			}
			pw.Close()
		}()
		return pr, nil
	case "env":
		lc, _ := lambdacontext.FromContext(ctx)
		dl, _ := ctx.Deadline()
		out := map[string]any{"requestId": lc.AwsRequestID, "arn": lc.InvokedFunctionArn, "deadlineInMs": time.Until(dl).Milliseconds(),
			"trace": os.Getenv("_X_AMZN_TRACE_ID")}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			out["env:"+k] = v
		}
		return out, nil
	}
	return map[string]any{"ok": true, "action": e.Action}, nil
}

// spawn starts three `sleep 1000`: one in the environment's process group,
// one in a session of its own (setsid), holding stdout, and one daemon
// that forked away from setsid (setsid -f), and returns their pids.
func spawn() (map[string]int, error) {
	group := exec.Command("sleep", "1000")
	sess := exec.Command("setsid", "sleep", "1000")
	sess.Stdout = os.Stdout
	pidFile := filepath.Join(os.TempDir(), fmt.Sprintf("gofn-daemon-%d.pid", os.Getpid()))
	daemon := exec.Command("setsid", "-f", "sh", "-c", `echo $$ > "$0"; exec sleep 1000`, pidFile)
	for _, c := range []*exec.Cmd{group, sess} {
		if err := c.Start(); err != nil {
			return nil, err
		}
	}
	if err := daemon.Run(); err != nil {
		return nil, err
	}
	defer os.Remove(pidFile)
	var pid int
	for range 500 {
		if b, err := os.ReadFile(pidFile); err == nil && len(b) > 0 && b[len(b)-1] == '\n' {
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if pid == 0 {
		return nil, errors.New("the daemon wrote no pid")
	}
	return map[string]int{"env": os.Getpid(), "group": group.Process.Pid, "setsid": sess.Process.Pid, "daemon": pid}, nil
}

// initSpin is how long the work GOFN_INIT_SPIN asked for took at init.
var initSpin time.Duration

func init() {
	if os.Getenv("GOFN_EPOLL_WAIT") != "" { // the poller action's child
		waitInEpoll()
	}
}

func main() {
	if os.Getenv("GOFN_EXIT_AT_INIT") != "" {
		fmt.Println("failing at init")
		os.Exit(2)
	}
	if msg := os.Getenv("GOFN_INIT_PRINT"); msg != "" {
		fmt.Println(msg)
	}
	if n := os.Getenv("GOFN_INIT_SPIN"); n != "" { // the spin action's work, at init
		var rounds int
		fmt.Sscan(n, &rounds)
		start := time.Now()
		sum := sha256.Sum256(nil)
		for range rounds * 1000 {
			sum = sha256.Sum256(sum[:])
		}
		initSpin = time.Since(start)
	}
	if ms := os.Getenv("GOFN_INIT_SLEEP_MS"); ms != "" {
		var n int
		fmt.Sscan(ms, &n)
		time.Sleep(time.Duration(n) * time.Millisecond)
	}
	lambda.Start(handle)
}

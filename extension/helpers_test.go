package extension_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/extension"
	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/runner"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// binaries builds the extension and the example function once per test
// binary and returns their folder: extensions/lambdabridge-extension (a
// layer) and go-emf/bootstrap.
func binaries(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lambdabridge-extension-test-")
		if err != nil {
			buildErr = err
			return
		}
		buildDir = dir
		// The extension as layer build builds it.
		for _, b := range [][]string{
			{"layer/extensions/lambdabridge-extension", "../cmd/lambdabridge-extension", "-trimpath", "-tags", extension.BuildTags, "-ldflags=-s -w"},
			{"go-emf/bootstrap", "../examples/go-emf"},
		} {
			cmd := exec.Command("go", append(append([]string{"build"}, b[2:]...), "-o", filepath.Join(dir, b[0]), b[1])...)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = err
				buildDir = string(out)
				return
			}
		}
	})
	if buildErr != nil {
		tb.Fatalf("go build: %v\n%s", buildErr, buildDir)
	}
	return buildDir
}

// logs is a runner.LogSink keeping the function's log.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logs) Line(_ metric.Origin, _ string, b []byte) {
	l.mu.Lock()
	l.buf.Write(b)
	l.buf.WriteByte('\n')
	l.mu.Unlock()
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// exampleDef is the example function with the extension's layer and env,
// its DogStatsD and EMF agent on free ports.
func exampleDef(tb testing.TB, env map[string]string, timeout time.Duration) function.Definition {
	tb.Helper()
	dir := binaries(tb)
	port := strconv.Itoa(testenv.FreeAgentPort(tb))
	vars := map[string]string{
		"LAMBDABRIDGE_DOGSTATSD_ADDR": "127.0.0.1:" + port,
		"DD_DOGSTATSD_URL":            "udp://127.0.0.1:" + port,
		"LAMBDABRIDGE_EMF_AGENT_ADDR": "127.0.0.1:" + strconv.Itoa(testenv.FreeAgentPort(tb)),
	}
	for k, v := range env {
		vars[k] = v
	}
	d, err := function.FromHandler(filepath.Join(dir, "go-emf", "bootstrap"),
		function.WithName("go-emf"), function.WithEnv(vars), function.WithTimeout(timeout), function.WithMemoryMB(256))
	if err != nil {
		tb.Fatal(err)
	}
	d.Layers = []string{filepath.Join(dir, "layer")}
	return d
}

func invoke(tb testing.TB, r *runner.Runner, payload string) *runner.Result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := r.Invoke(ctx, "go-emf", runner.Request{Payload: []byte(payload)})
	if err != nil {
		tb.Fatalf("invoke %s: %v", payload, err)
	}
	return res
}

// intoPrometheus starts a Prometheus and returns it with the example
// function delivering into it by remote_write with the flush strategy,
// flushing every second.
func intoPrometheus(tb testing.TB, strategy string, timeout time.Duration) (*testenv.Prometheus, function.Definition) {
	tb.Helper()
	prom := testenv.StartPrometheus(tb)
	return prom, exampleDef(tb, map[string]string{
		"LAMBDABRIDGE_REMOTE_WRITE_URL": prom.RemoteWriteURL(),
		"LAMBDABRIDGE_FLUSH":            strategy,
		"LAMBDABRIDGE_FLUSH_INTERVAL":   "1s",
	}, timeout)
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/extension"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
)

// TestE2EExtensionLayerUnderRun runs both example functions with
// lambdabridge's extension in their layer (built by `layer build`) under
// `lambdabridge run`, three environments at once. Each environment's
// extension gets agent ports of its own (on the shared default ports all
// but one would fail and deliver nothing), the datagrams reach both
// lambdabridge and the extensions, and what the extensions deliver to one
// Prometheus equals, family by family and exactly, what lambdabridge reads
// and delivers to another: what was validated locally is what the layer
// delivers.
func TestE2EExtensionLayerUnderRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two Prometheus servers")
	}
	dir := t.TempDir()
	e2eBuildGoEmf(t, dir)
	ext := filepath.Join(dir, "lambdabridge-extension")
	e2eGoBuild(t, "./cmd/lambdabridge-extension", ext, "-tags", extension.BuildTags)
	layer := filepath.Join(dir, "layer.zip")
	if out, errOut, code := runCmd(t, "", "layer", "build", "--binary", ext, "-o", layer); code != 0 {
		t.Fatalf("layer build: exit %d\n%s%s", code, out, errOut)
	}
	shell, err := os.ReadFile("../../examples/shell-runtime/bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "shell-runtime"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "shell-runtime", "bootstrap"), shell, 0o755); err != nil {
		t.Fatal(err)
	}
	// The extensions write to one Prometheus, both lambdabridge runs to
	// another (each writes only the function it runs: the second one does
	// not reset the first one's counters to zero).
	promExt, promRun := testenv.StartPrometheus(t), testenv.StartPrometheus(t)
	tpl := filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(tpl, []byte(strings.NewReplacer("PROM", promExt.RemoteWriteURL()).Replace(extensionTemplate)), 0o644); err != nil {
		t.Fatal(err)
	}
	const n = 24
	for _, fn := range []string{"GoEmf", "ShellRuntime"} {
		out, errOut, code := runCmd(t, "", "run", "--template", tpl, "--function", fn, "--invocations", "24", "--concurrency", "3",
			"--remote-write", promRun.RemoteWriteURL(), "--dogstatsd-addr", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--logs", "all", "--progress", "0")
		if code != 0 {
			t.Fatalf("run %s: exit %d\n%s%s", fn, code, out, errOut)
		}
		if !strings.Contains(errOut, "function "+fn+": its layers hold lambdabridge-extension") {
			t.Errorf("run %s does not say the extension is the function's agent:\n%s", fn, errOut)
		}
		inits := strings.Count(errOut, "EXTENSION\tName: lambdabridge-extension\tState: Ready")
		shutdowns := strings.Count(errOut, "lambdabridge extension: shutdown (")
		if inits < 2 || shutdowns != inits || strings.Contains(errOut, "metrics are not delivered") || !strings.Contains(errOut, ", 0 dropped") {
			t.Fatalf("run %s: %d extension inits, %d shutdowns (want one each per environment, at least 2), every one delivering:\n%s", fn, inits, shutdowns, testenv.GrepLines(errOut, "lambdabridge"))
		}
	}
	want := []struct {
		q string
		v float64
	}{
		{"lambda_bridge_example_orders_placed_total", n},
		{"lambda_bridge_example_processing_latency_seconds_count", 3 * n},
		{"checkout_orders_total", n},
		{"checkout_step_seconds_count", 2 * n},
		{"checkout_requests_total", n}, // DogStatsD, relayed
		{"checkout_item_price_count", 2 * n},
		{"checkout_db_query_seconds_count", n},
		{`lambda_invocations_total{function_name="GoEmf"}`, n},
		{`lambda_duration_seconds_count{function_name="GoEmf"}`, n},
		{"shell_invocations_total", n},
		{"lambda_bridge_example_shell_invocations_total", n},
		{`lambda_invocations_total{function_name="ShellRuntime"}`, n},
		{`lambda_duration_seconds_count{function_name="ShellRuntime"}`, n},
	}
	for _, w := range want {
		testenv.EventuallyValue(t, promRun, "sum("+w.q+")", w.v, 20*time.Second)
		testenv.EventuallyValue(t, promExt, "sum("+w.q+")", w.v, 20*time.Second)
	}
	testenv.EventuallyValue(t, promExt, `count(count by (lambda_environment) (lambda_invocations_total{function_name="GoEmf"})) >= bool 2`, 1, 5*time.Second)
}

// extensionTemplate holds both example functions with the layer; PROM is
// the extensions' remote_write URL.
const extensionTemplate = `Transform: AWS::Serverless-2016-10-31
Resources:
  LambdaBridgeLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer.zip
  GoEmf:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: go-emf/
      Handler: bootstrap
      Runtime: provided.al2023
      MemorySize: 256
      Timeout: 10
      Layers: [!Ref LambdaBridgeLayer]
      Environment:
        Variables:
          LAMBDABRIDGE_REMOTE_WRITE_URL: PROM
          LAMBDABRIDGE_FLUSH: invocation
  ShellRuntime:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: shell-runtime/
      Handler: function.handler
      Runtime: provided.al2023
      MemorySize: 128
      Timeout: 5
      Layers: [!Ref LambdaBridgeLayer]
      Environment:
        Variables:
          LAMBDABRIDGE_REMOTE_WRITE_URL: PROM
          LAMBDABRIDGE_FLUSH: periodic
          LAMBDABRIDGE_FLUSH_INTERVAL: 1s
`

package extension

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/lambdabridge/lambdabridge/session"
)

// Name is the extension's executable name in a layer (LayerBinary), and
// its Lambda-Extension-Name.
const Name = session.ExtensionName

// Main is the extension's program: it registers with the Extensions API at
// AWS_LAMBDA_RUNTIME_API as name (the executable's file name), reads the
// configuration from getenv (LAMBDABRIDGE_* and the layer's file) and runs
// until SHUTDOWN. It returns the exit code: 2 outside an execution
// environment, 1 when the Extensions API fails. Both cmd/lambdabridge-extension
// and cmd/lambdabridge (started as lambdabridge-extension) run it.
func Main(ctx context.Context, name, version string, getenv func(string) string, stderr io.Writer) int {
	api := getenv("AWS_LAMBDA_RUNTIME_API")
	if api == "" {
		fmt.Fprintln(stderr, "lambdabridge-extension: AWS_LAMBDA_RUNTIME_API is not set: this program runs as a Lambda extension (extensions/ in a layer)")
		return 2
	}
	// The extension shares the function's CPU share (a seventh of a CPU at
	// 256 MB): one P spends it on work, more would spin looking for it.
	// cmd/lambdabridge-extension has set it already, while its packages
	// initialized (internal/maxprocs), which costs less than here.
	if getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	yielding := yieldToFunction() == nil // best effort: without it, only slower
	cfg, err := Load(getenv)
	x := New(cfg, err, WithRuntimeAPI(api), WithName(name), WithVersion(version))
	x.yielding = yielding
	if err := x.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "lambdabridge-extension:", err)
		return 1
	}
	return 0
}

package extension

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strconv"

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
	if getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	tuneGC(getenv)
	cfg, err := Load(getenv)
	x := New(cfg, err, WithRuntimeAPI(api), WithName(name), WithVersion(version))
	if err := x.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "lambdabridge-extension:", err)
		return 1
	}
	return 0
}

// tuneGC spends less of the function's CPU on garbage collection: the
// collector runs when the heap has grown by 400% rather than 100% (about
// a fifth less CPU per invocation at 256 MB), with a soft limit of an
// eighth of the function's memory (at least 16 MiB), near which it collects
// sooner: the extension shares the function's memory too. GOGC and
// GOMEMLIMIT, when set, win.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if getenv("GOMEMLIMIT") == "" {
		mb, _ := strconv.Atoi(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
		debug.SetMemoryLimit(max(16, int64(mb)/8) << 20)
	}
}

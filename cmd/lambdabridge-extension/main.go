// Command lambdabridge-extension is lambdabridge as an AWS Lambda external
// extension (package extension): put it in a layer as
// extensions/lambdabridge-extension (`lambdabridge layer build` does) and
// configure it with LAMBDABRIDGE_* environment variables or
// /opt/lambdabridge/lambdabridge.yaml.
//
//	LAMBDABRIDGE_REMOTE_WRITE_URL=https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write
//	LAMBDABRIDGE_SIGV4_REGION=eu-west-1
//	LAMBDABRIDGE_FLUSH=invocation   # or periodic, with LAMBDABRIDGE_FLUSH_INTERVAL=10s
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/lambdabridge/lambdabridge/extension"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	api := os.Getenv("AWS_LAMBDA_RUNTIME_API")
	if api == "" {
		fmt.Fprintln(os.Stderr, "lambdabridge-extension: AWS_LAMBDA_RUNTIME_API is not set: this program runs as a Lambda extension (extensions/ in a layer)")
		os.Exit(2)
	}
	// The extension shares the function's CPU share (a seventh of a CPU at
	// 256 MB): one P spends it on work, more would spin looking for it.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	cfg, err := extension.Load(os.Getenv)
	x := extension.New(cfg, err, extension.WithRuntimeAPI(api), extension.WithName(filepath.Base(os.Args[0])), extension.WithVersion(version))
	if err := x.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "lambdabridge-extension:", err)
		os.Exit(1)
	}
}

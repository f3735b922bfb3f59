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
	"os"
	"path/filepath"

	"github.com/lambdabridge/lambdabridge/extension"
	_ "github.com/lambdabridge/lambdabridge/internal/maxprocs"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	os.Exit(extension.Main(context.Background(), filepath.Base(os.Args[0]), version, os.Getenv, os.Stderr))
}

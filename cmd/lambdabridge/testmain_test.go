package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lambdabridge/lambdabridge/extension"
)

// TestMain lets the test binary be the extension as lambdabridge is (main):
// compare's extension strategy, run in-process by the tests without
// --extension-binary, puts this executable in its layer.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == extension.Name {
		os.Exit(extension.Main(context.Background(), extension.Name, version, os.Getenv, os.Stderr))
	}
	os.Exit(m.Run())
}

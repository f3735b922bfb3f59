package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lambdabridge/lambdabridge/extension"
)

// TestMaxprocsInitializesFirst checks the program takes its second P away
// before the packages that allocate at initialization run (a later
// GOMAXPROCS(1) stops the world and returns that P's cached spans: see
// internal/maxprocs): in the order GODEBUG=inittrace=1 prints, maxprocs
// comes before client_golang, the AWS SDK and protobuf, among the first 30.
func TestMaxprocsInitializesFirst(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	bin := filepath.Join(t.TempDir(), "lambdabridge-extension")
	if out, err := exec.Command("go", "build", "-tags", extension.BuildTags, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	// Nothing listens on port 1: registering fails at once, after every
	// package initialized.
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", "AWS_LAMBDA_RUNTIME_API=127.0.0.1:1")
	out, _ := cmd.CombinedOutput()
	var order []string
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) > 2 && f[0] == "init" {
			order = append(order, f[1])
		}
	}
	at := slices.Index(order, "github.com/lambdabridge/lambdabridge/internal/maxprocs")
	if at < 0 || at >= 30 {
		t.Fatalf("internal/maxprocs initialized %dth of %d (-1: not at all):\n%s", at, len(order), strings.Join(order, "\n"))
	}
	for _, later := range []string{"github.com/prometheus/client_golang/prometheus", "github.com/aws/aws-sdk-go-v2/service/sts", "google.golang.org/protobuf/internal/filedesc"} {
		if i := slices.Index(order, later); i >= 0 && i < at {
			t.Errorf("%s initialized before internal/maxprocs", later)
		}
	}
}

// TestNoClientGolang: the extension's program does not link client_golang's
// prometheus package (nor promhttp or push, which import it): its package
// initialization (the default registry's Go and process collectors,
// procfs' regular expressions, expvar) cost each cold start about 1 ms of
// CPU. The packages it shares with the command line leave their
// collectors out under the build tag.
func TestNoClientGolang(t *testing.T) {
	out, err := exec.Command("go", "list", "-tags", extension.BuildTags, "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for dep := range strings.Lines(string(out)) {
		if dep = strings.TrimSpace(dep); strings.HasPrefix(dep, "github.com/prometheus/client_golang/") || strings.HasPrefix(dep, "github.com/prometheus/procfs") {
			t.Errorf("the extension's program links %s", dep)
		}
	}
}

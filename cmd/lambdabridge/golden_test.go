package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files of the command tests")

// runCmd runs lambdabridge with args and returns stdout, stderr and the exit
// code.
func runCmd(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	code := m.Exit(m.Run(context.Background(), args))
	return out.String(), errOut.String(), code
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", name, diff)
	}
}

const goldenNow = "2026-11-23T10:00:00Z"

// TestGoldenCommands runs validate and convert over the golden inputs: a
// mixed log (every format, good and broken lines) and the logs of the real
// producers.
func TestGoldenCommands(t *testing.T) {
	// The producers' fixtures were generated with the clock at 2024-05-01.
	inputs := map[string]struct{ path, now string }{
		"mixed":                {"testdata/golden/mixed.log", goldenNow},
		"aws-embedded-metrics": {"../../testdata/producers/emf/aws-embedded-metrics.log", "2024-05-01T10:00:00Z"},
		"powertools":           {"../../testdata/producers/emf/powertools.log", "2024-05-01T10:00:00Z"},
	}
	for name, input := range inputs {
		in, now := input.path, input.now
		t.Run(name, func(t *testing.T) {
			for _, c := range []struct {
				suffix string
				args   []string
			}{
				{"validate.txt", []string{"validate", "--now", now, in}},
				{"validate.json", []string{"validate", "--format", "json", "--now", now, in}},
				{"convert.prom", []string{"convert", "--quiet", "--now", now, in}},
				{"convert.openmetrics", []string{"convert", "--quiet", "--format", "openmetrics", "--now", now, in}},
				{"convert.json", []string{"convert", "--quiet", "--format", "json", "--now", now, in}},
			} {
				out, _, _ := runCmd(t, "", c.args...)
				golden(t, name+"."+c.suffix, out)
			}
		})
	}
}

func TestValidateExitCodes(t *testing.T) {
	good := `{"_aws":{"Timestamp":1795428000000,"CloudWatchMetrics":[{"Namespace":"A","Dimensions":[["RequestId"]],"Metrics":[{"Name":"M","Unit":"Count"}]}]},"RequestId":"0b1c2d3e-0000-4000-8000-000000000001","M":1}` + "\n"
	bad := `{"_aws":{"Timestamp":"x"}}` + "\n"
	for _, tt := range []struct {
		name  string
		stdin string
		args  []string
		code  int
	}{
		{"ordinary log only", "hello\nworld\n", []string{"validate"}, 0},
		{"warning only", good, []string{"validate", "--now", goldenNow}, 0},
		{"warning with --strict", good, []string{"validate", "--strict", "--now", goldenNow, "-"}, 1},
		{"error", bad, []string{"validate"}, 1},
		{"missing file", "", []string{"validate", "/nonexistent/x.log"}, 2},
		{"bad flag", "", []string{"validate", "--format", "xml"}, 2},
		{"bad --now", "", []string{"validate", "--now", "yesterday"}, 2},
		{"unknown command", "", []string{"frobnicate"}, 2},
		{"help", "", []string{"validate", "-h"}, 0},
		{"convert bad format", "", []string{"convert", "--format", "xml"}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCmd(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
		})
	}
}

// TestConvertStdinMatchesFile checks that - reads standard input like a file.
func TestConvertStdinMatchesFile(t *testing.T) {
	data, err := os.ReadFile("testdata/golden/mixed.log")
	if err != nil {
		t.Fatal(err)
	}
	fromFile, _, _ := runCmd(t, "", "convert", "--quiet", "--now", goldenNow, "testdata/golden/mixed.log")
	fromStdin, _, _ := runCmd(t, string(data), "convert", "--quiet", "--now", goldenNow, "-")
	if fromFile != fromStdin {
		t.Errorf("convert of stdin differs from convert of the file")
	}
}

func TestConvertCatalog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.json")
	if _, stderr, code := runCmd(t, "", "convert", "--quiet", "--now", goldenNow, "--catalog", path, "testdata/golden/mixed.log"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"schema": "lambdabridge.catalog"`, `"name": "shop_latency_seconds"`, `"namespace": "Shop"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("catalog lacks %s", want)
		}
	}
}

package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// TestExitCodes drives every command through the exit codes of the one
// table (main.go, README "Exit status"): 0 success, 1 a negative result,
// 2 usage or I/O.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	script := writeScript(t, dir, "ok.sh", "#!/bin/sh\ncat >/dev/null\necho '{\"ok\":true}'\n")
	failing := writeScript(t, dir, "fail.sh", "#!/bin/sh\ncat >/dev/null\nexit 3\n")
	emf := `{"_aws":{"Timestamp":1795428000000,"CloudWatchMetrics":[{"Namespace":"A","Dimensions":[[]],"Metrics":[{"Name":"M","Unit":"Count"}]}]},"M":1}` + "\n"
	badEMF := `{"_aws":{"Timestamp":"x"}}` + "\n"
	// A count below zero cannot be a Prometheus counter: dropped with reason
	// negative_counter, which (like every drop) changes the exit status.
	negative := "MONITORING|1795428000|-3|count|shop.stock|#env:dev\n"
	decrement := writeScript(t, dir, "decr.sh", "#!/bin/sh\ncat >/dev/null\necho \"MONITORING|$(date +%s)|-1|count|shop.stock\"\necho '{}'\n")
	goodConfig := filepath.Join(dir, "good.yaml")
	os.WriteFile(goodConfig, []byte("scrape:\n  listen: 127.0.0.1:9464\n"), 0o644)
	badConfig := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badConfig, []byte("no_such_key: 1\n"), 0o644)
	dead := deadURL(t)

	for _, tt := range []struct {
		name  string
		stdin string
		args  []string
		code  int
	}{
		{"validate ok", "plain log line\n", []string{"validate"}, exitOK},
		{"validate errors", badEMF, []string{"validate", "-"}, exitFailure},
		{"validate bad enum", "", []string{"validate", "--format", "xml"}, exitUsage},
		{"convert ok", emf, []string{"convert", "--now", "2026-11-23T10:00:00Z"}, exitOK},
		{"convert negative counter", negative, []string{"convert", "--now", "2026-11-23T10:00:00Z"}, exitFailure},
		{"convert missing file", "", []string{"convert", "/nonexistent/x.log"}, exitUsage},
		{"check-config ok", "", []string{"check-config", goodConfig}, exitOK},
		{"check-config unknown key", "", []string{"check-config", badConfig}, exitUsage},
		{"check-config no file", "", []string{"check-config"}, exitUsage},
		{"dashboard ok", emf, []string{"dashboard", "--quiet"}, exitOK},
		{"dashboard bad enum", "", []string{"dashboard", "--datasource", "influx"}, exitUsage},
		{"invoke ok", "", []string{"invoke", "--exec", "--handler", script, "--no-freeze"}, exitOK},
		{"invoke function error", "", []string{"invoke", "--exec", "--handler", failing, "--no-freeze"}, exitFailure},
		{"invoke no handler", "", []string{"invoke"}, exitUsage},
		{"run ok", "", []string{"run", "--exec", "--handler", script, "--invocations", "2", "--logs", "none", "--progress", "0"}, exitOK},
		{"run function error", "", []string{"run", "--exec", "--handler", failing, "--invocations", "1", "--logs", "none", "--progress", "0"}, exitFailure},
		{"run sink dropped", "", []string{"run", "--exec", "--handler", script, "--invocations", "1", "--logs", "none", "--progress", "0",
			"--remote-write", dead, "--drain-timeout", "2s"}, exitFailure},
		{"run negative counter", "", []string{"run", "--exec", "--handler", decrement, "--invocations", "1", "--logs", "none", "--progress", "0"}, exitFailure},
		{"run unknown flag", "", []string{"run", "--invocation", "3"}, exitUsage},
		{"tail ok", emf, []string{"tail", "--listen", "none", "--quiet", "-"}, exitOK},
		{"tail sink dropped", emf, []string{"tail", "-", "--listen", "none", "--remote-write", dead, "--drain-timeout", "2s"}, exitFailure},
		{"tail negative counter", negative, []string{"tail", "--listen", "none", "--quiet", "--now", "2026-11-23T10:00:00Z", "-"}, exitFailure},
		{"tail missing file", "", []string{"tail", "--listen", "none", "/nonexistent/x.log"}, exitUsage},
		{"compare bad strategy", "", []string{"compare", "--handler", script, "--strategies", "carrier-pigeon"}, exitUsage},
		{"version", "", []string{"version"}, exitOK},
		{"help", "", []string{"help", "run"}, exitOK},
		{"no command", "", nil, exitUsage},
		{"unknown command", "", []string{"vaildate"}, exitUsage},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runMain(t, context.Background(), tt.stdin, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
		})
	}
}

func writeScript(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// deadURL is a remote_write URL on a loopback port nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/api/v1/write"
}

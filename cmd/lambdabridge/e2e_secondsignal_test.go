package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A second SIGINT cuts the shutdown short: with a remote_write that never
// answers and a drain timeout of an hour, tail exits at the second signal,
// counting the samples it could not deliver (exit 1).
func TestE2ESecondSignalCutsShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds lambdabridge")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "lambdabridge")
	e2eGoBuild(t, "./cmd/lambdabridge", bin, e2eBuildFlags...)
	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer hang.Close()
	defer close(stop)
	log := filepath.Join(dir, "fn.log")
	if err := os.WriteFile(log, []byte("MONITORING|1764583200|1|count|shop.orders|#env:dev\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "tail", "--follow", log, "--listen", "none", "--drain-timeout", "1h",
		"--remote-write", hang.URL+"/api/v1/write", "--remote-write-interval", "1h")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waitStderr(t, &stderr, "delivering to")
	time.Sleep(200 * time.Millisecond) // the line is read
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		t.Fatalf("exited at the first signal (%v) although remote_write hangs and the drain timeout is 1h:\n%s", err, stderr.String())
	case <-time.After(time.Second):
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("no exit within 30s of the second signal:\n%s", stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != exitFailure || !strings.Contains(stderr.String(), "dropped") {
		t.Errorf("exit status %d, want %d with the undelivered samples counted:\n%s", code, exitFailure, stderr.String())
	}
}

func waitStderr(t *testing.T, b *syncBuffer, want string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(b.String(), want) {
			return
		}
	}
	t.Fatalf("stderr lacks %q within 30s:\n%s", want, b.String())
}

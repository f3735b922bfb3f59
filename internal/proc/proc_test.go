package proc

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestLookPath(t *testing.T) {
	if _, err := LookPath("coreutils", "no-such-binary-here", "/nonexistent/x"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "coreutils") {
		t.Errorf("LookPath = %v, want ErrNotFound naming the package", err)
	}
	if p, err := LookPath("coreutils", "true"); err != nil || p == "" {
		t.Errorf("LookPath(true) = %q, %v", p, err)
	}
}

// TestStartStop starts a small HTTP server (python3's http.server stands in
// for a backend), waits until it answers, and stops its whole group.
func TestStartStop(t *testing.T) {
	py, err := LookPath("python3", "python3")
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	p, err := Start(context.Background(), Spec{
		Name: "httpd", Bin: py, Dir: dir, Ready: HTTPReady("/"),
		Args: func(port int) []string {
			return []string{"-m", "http.server", "--bind", "127.0.0.1", strconv.Itoa(port)}
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !HTTPOK(context.Background(), p.URL+"/") {
		t.Fatal("not answering after Start")
	}
	pid := p.cmd.Process.Pid
	p.Stop()
	p.Stop() // idempotent
	select {
	case <-p.Exited():
	case <-time.After(5 * time.Second):
		t.Fatal("not exited after Stop")
	}
	if err := syscall.Kill(-pid, 0); err == nil {
		t.Error("process group still alive after Stop")
	}
}

func TestStartReportsEarlyExit(t *testing.T) {
	sh, err := LookPath("dash", "sh")
	if err != nil {
		t.Skip(err)
	}
	_, err = Start(context.Background(), Spec{
		Name: "broken", Bin: sh, Dir: t.TempDir(), Ready: HTTPReady("/"),
		Args: func(int) []string { return []string{"-c", "echo cannot start >&2; exit 3"} },
	}, nil)
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "cannot start") {
		t.Errorf("Start = %v, want the early exit with the log", err)
	}
}

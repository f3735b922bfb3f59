package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func shellHandler(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed: the shell custom runtime needs it")
	}
	p, err := filepath.Abs("../../runner/testdata/shell/bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func runMain(t *testing.T, ctx context.Context, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb syncBuffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code = m.Exit(m.Run(ctx, testArgs(args)))
	return out.String(), errb.String(), code
}

// testArgs keeps the commands that run functions off the fixed default
// ports (8125, 9464), which parallel test packages would share: free ports
// unless the test names its own.
func testArgs(args []string) []string {
	if len(args) == 0 || args[0] != "invoke" && args[0] != "run" {
		return args
	}
	extra := []string{"--dogstatsd-addr", "127.0.0.1:0"}
	if args[0] == "run" {
		extra = append(extra, "--listen", "none")
	}
	return append(append([]string{args[0]}, extra...), args[1:]...)
}

func TestInvokeCommand(t *testing.T) {
	h := shellHandler(t)
	out, errs, code := runMain(t, context.Background(), `{"k":1}`, "invoke", "--handler", h, "--name", "hello", "--event", "-", "--memory", "256")
	if code != 0 || out != `{"echo":{"k":1}}`+"\n" {
		t.Fatalf("code %d stdout %q stderr:\n%s", code, out, errs)
	}
	for _, re := range []string{
		`(?m)^\[hello env-1\] START RequestId: [0-9a-f-]{36} Version: \$LATEST$`,
		`(?m)^\[hello env-1\] handling [0-9a-f-]{36}: \{"k":1\}$`,
		`(?m)^\[hello env-1\] END RequestId: [0-9a-f-]{36}$`,
		`(?m)^\[hello env-1\] REPORT RequestId: [0-9a-f-]{36}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms$`,
		`(?m)^metrics: 0 points in 0 families, \d+ platform points$`,
	} {
		if !regexp.MustCompile(re).MatchString(errs) {
			t.Errorf("stderr does not match %s:\n%s", re, errs)
		}
	}
}

func TestInvokeCommandFunctionError(t *testing.T) {
	h := shellHandler(t)
	out, errs, code := runMain(t, context.Background(), "", "invoke", "--handler", h, "--event-template", "sqs")
	if code != 0 || !strings.Contains(out, `"Records"`) {
		t.Errorf("sqs template: code %d out %s\n%s", code, out, errs)
	}
	out, errs, code = runMain(t, context.Background(), `{"fail":true}`, "invoke", "--handler", h, "--event", "-")
	if code != 1 || !strings.Contains(out, `"errorType":"ShellError"`) || !strings.Contains(errs, "function error (ShellError)") {
		t.Errorf("code %d stdout %q stderr:\n%s", code, out, errs)
	}
}

func TestInvokeCommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"invoke"},
		{"invoke", "--handler", "/nonexistent/bootstrap"},
		{"invoke", "--handler", "x", "--template", "y"},
		{"invoke", "--handler", "x", "--timeout", "abc"},
		{"invoke", "--handler", "x", "--env", "novalue"},
	} {
		if _, errs, code := runMain(t, context.Background(), "", args...); code != 2 {
			t.Errorf("%v: code %d, want 2; stderr %s", args, code, errs)
		}
	}
}

func TestInvokeCommandExec(t *testing.T) {
	script, err := filepath.Abs("../../runner/testdata/exec/script.sh")
	if err != nil {
		t.Fatal(err)
	}
	out, errs, code := runMain(t, context.Background(), `{"x":1}`, "invoke", "--exec", "--handler", script, "--event", "-", "--no-freeze")
	if code != 0 || out != "null\n" {
		t.Fatalf("code %d out %q\n%s", code, out, errs)
	}
	for _, want := range []string{"[script env-1] first\n", "[script env-1] middle\n", "[script env-1] bad \\xff\\xfe utf8\n", `[script env-1] event: {"x":1}` + "\n", "[script env-1] last-no-newline\n"} {
		if !strings.Contains(errs, want) {
			t.Errorf("missing %q in stderr", want)
		}
	}
}

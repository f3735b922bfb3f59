// Package testenv starts real backends for integration tests: Prometheus
// (with the remote-write receiver), VictoriaMetrics and the Pushgateway, each
// on a free loopback port with its own temporary directory, stopped (with its
// whole process group) when the test ends. It is a thin wrapper of
// compare/backend, the one implementation that starts them (for compare
// too), adding the tests' policy: a missing binary skips, a failed start
// fails, the test's own temporary directory, cleanup at the test's end. It
// also holds assertion helpers (Vector, EventuallyValue) on top of
// backend.PromQL, and an Eventually poller.
//
//	prom := testenv.StartPrometheus(t, testenv.WithScrapeInterval(time.Second))
//	// ... send data to prom.RemoteWriteURL() ...
//	testenv.Eventually(t, 10*time.Second, func() bool { v, err := prom.Query(ctx, "up"); return err == nil && len(v) > 0 })
//
// When a binary is missing the test is skipped with a message naming the
// Debian package, except when the environment variable CI is set: then it
// fails (`make test` installs the packages).
package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/compare/backend"
	"github.com/lambdabridge/lambdabridge/internal/proc"
)

// LookPath finds a backend binary: name in PATH, then each of alternatives
// (names or absolute paths). When none exists it skips the test, or fails it
// when CI is set, naming the Debian package that provides it.
func LookPath(t testing.TB, pkg, name string, alternatives ...string) string {
	t.Helper()
	p, err := proc.LookPath(pkg, append([]string{name}, alternatives...)...)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("testenv: %s not found (install the Debian package %q: apt-get install %s, or run `make test-deps`)", name, pkg, pkg)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s; CI is set, so a missing backend is a failure", msg)
	}
	t.Skip(msg)
	return ""
}

// FreePort returns a TCP port that was free on 127.0.0.1 a moment ago. The
// backend that gets it may still lose a race for it; the Start functions
// retry in that case.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := proc.FreePort()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return port
}

// Eventually calls cond every 100ms until it returns true or timeout passes;
// then it fails the test with msg (fmt.Sprint of msg, if given).
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, msg ...any) {
	t.Helper()
	eventually(t, timeout, cond, func() string { return fmt.Sprint(msg...) })
}

// eventually is Eventually with a message built when the wait fails, so it
// can show the last value seen.
func eventually(t testing.TB, timeout time.Duration, cond func() bool, describe func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			if m := describe(); m != "" {
				t.Fatalf("testenv: condition not met within %v: %s", timeout, m)
			}
			t.Fatalf("testenv: condition not met within %v", timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// need turns a backend's start error into the test's outcome: a missing
// binary skips (fails when CI is set, as LookPath), anything else fails.
func need(t testing.TB, name string, err error) {
	t.Helper()
	if errors.Is(err, backend.ErrNotFound) {
		msg := fmt.Sprintf("testenv: %v, or run `make test-deps`", err)
		if os.Getenv("CI") != "" {
			t.Fatalf("%s; CI is set, so a missing backend is a failure", msg)
			return
		}
		t.Skip(msg)
		return
	}
	if err != nil {
		t.Fatalf("testenv: %s: %v", name, err)
	}
}

// startOptions are the options every backend of a test gets: the test's
// own temporary directory, GOMAXPROCS=2 (the machines are small), and
// retries logged to the test.
func startOptions(t testing.TB, extra ...backend.Option) []backend.Option {
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return append([]backend.Option{backend.WithDir(t.TempDir()), backend.WithEnv("GOMAXPROCS=2"), backend.WithLogger(log)}, extra...)
}

// stopAtCleanup stops p when the test ends, after logging the tail of its
// log if the test failed.
func stopAtCleanup(t testing.TB, p *backend.Process) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("testenv: %s log (%s), last lines:\n%s", p.Name, p.LogPath, p.LogTail(4096))
		}
		p.Stop()
	})
}

// testWriter writes log lines to the test's log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// get fetches url and returns the body; non-2xx is an error with status, URL
// and the start of the body.
func get(ctx context.Context, url string) ([]byte, error) {
	return do(ctx, http.MethodGet, url, nil)
}

func do(ctx context.Context, method, url string, body []byte) ([]byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", strings.ToLower(method), url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", strings.ToLower(method), url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", strings.ToLower(method), url, err)
	}
	if resp.StatusCode/100 != 2 {
		if len(b) > 512 {
			b = b[:512]
		}
		return nil, fmt.Errorf("%s %s: %w", strings.ToLower(method), url, &StatusError{Code: resp.StatusCode, Body: string(b)})
	}
	return b, nil
}

// StatusError is a non-2xx reply from a backend.
type StatusError struct {
	Code int
	Body string // at most 512 bytes
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("status %d: %s", e.Code, strings.TrimSpace(e.Body))
}

// IsStatus reports whether err is a StatusError with the given code.
func IsStatus(err error, code int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == code
}

// ProcessesWith returns the ids of the processes whose command line or
// working directory contains s (a directory or address of the test's own),
// so that a test checks only the processes it started.
func ProcessesWith(s string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		cwd, _ := os.Readlink("/proc/" + e.Name() + "/cwd")
		if err == nil && (strings.Contains(string(b), s) || strings.Contains(cwd, s)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// GrepLines returns the lines of s holding sub, for a test's failure
// message.
func GrepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

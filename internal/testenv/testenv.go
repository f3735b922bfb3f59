// Package testenv starts real backends for integration tests: Prometheus
// (with the remote-write receiver), VictoriaMetrics and the Pushgateway, each
// on a free loopback port with its own temporary directory, stopped (with its
// whole process group) when the test ends. It also holds a PromQL client and
// an Eventually poller.
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
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long a backend may take to become ready.
const startTimeout = 60 * time.Second

// bindAttempts is how many times a start is retried when the port picked was
// taken between choosing it and the backend binding it.
const bindAttempts = 4

// LookPath finds a backend binary: name in PATH, then each of alternatives
// (names or absolute paths). When none exists it skips the test, or fails it
// when CI is set, naming the Debian package that provides it.
func LookPath(t testing.TB, pkg, name string, alternatives ...string) string {
	t.Helper()
	for _, n := range append([]string{name}, alternatives...) {
		if filepath.IsAbs(n) {
			if st, err := os.Stat(n); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return n
			}
			continue
		}
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: pick a free port: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatalf("testenv: release port %d: %v", port, err)
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

// process is a running backend. Its output goes to a log file in its
// directory; the tail of it is logged when the test fails.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error
	stopped sync.Once
}

// startSpec says how to start one backend on a given port.
type startSpec struct {
	name  string                  // for messages: "prometheus"
	bin   string                  // absolute path
	args  func(port int) []string // command line for a port
	dir   string                  // working directory and log location
	ready func(base string) bool  // true once the backend answers
}

// start runs the backend on a free port, retrying with another port when the
// bind fails, waits until ready says so, and registers a cleanup that stops
// its process group. It returns the process and the base URL.
func start(t testing.TB, s startSpec) (*process, string) {
	t.Helper()
	var lastErr error
	for attempt := 1; attempt <= bindAttempts; attempt++ {
		port := FreePort(t)
		base := "http://127.0.0.1:" + strconv.Itoa(port)
		p, err := launch(t, s, port, attempt)
		if err != nil {
			t.Fatalf("testenv: start %s: %v", s.name, err)
		}
		err = p.waitReady(s, base)
		if err == nil {
			t.Logf("testenv: %s ready at %s (dir %s)", s.name, base, s.dir)
			return p, base
		}
		p.stop()
		lastErr = err
		if !p.bindFailed() {
			break
		}
		t.Logf("testenv: %s could not bind port %d, retrying", s.name, port)
	}
	t.Fatalf("testenv: start %s: %v", s.name, lastErr)
	return nil, ""
}

func launch(t testing.TB, s startSpec, port, attempt int) (*process, error) {
	logPath := filepath.Join(s.dir, fmt.Sprintf("%s.%d.log", s.name, attempt))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create log: %w", err)
	}
	cmd := exec.Command(s.bin, s.args(port)...)
	cmd.Dir = s.dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Env = append(os.Environ(), "GOMAXPROCS=2")
	// Own process group so that Cleanup can kill everything the backend
	// started; Pdeathsig so that nothing survives a killed test binary.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("exec %s: %w", s.bin, err)
	}
	p := &process{name: s.name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("testenv: %s log (%s), last lines:\n%s", s.name, logPath, p.logTail(4096))
		}
		p.stop()
	})
	return p, nil
}

func (p *process) waitReady(s startSpec, base string) error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready (%v); log:\n%s", p.name, p.waitErr, p.logTail(2048))
		default:
		}
		if s.ready(base) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready at %s within %v; log:\n%s", p.name, base, startTimeout, p.logTail(2048))
}

// stop terminates the process group: SIGTERM, then SIGKILL after 5 s. It is
// idempotent: the group is signalled only by the first call, so a later call
// never hits a reused process id.
func (p *process) stop() { p.stopped.Do(p.kill) }

func (p *process) kill() {
	pgid := p.cmd.Process.Pid
	select {
	case <-p.done:
		// The leader is gone; still make sure no child survives.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		return
	default:
	}
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

func (p *process) bindFailed() bool {
	tail := p.logTail(8192)
	return strings.Contains(tail, "address already in use")
}

func (p *process) logTail(n int64) string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		_, _ = f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// httpOK reports whether GET url answers 200 within a second.
func httpOK(url string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode == http.StatusOK
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

// Package proc runs the real backends lambdabridge works with (Prometheus,
// VictoriaMetrics, Pushgateway) as child processes: each on a free loopback
// port, in its own process group, its output in a log file, started again
// on another port when the one picked was taken meanwhile, and stopped with
// its whole group. compare/backend builds Prometheus, the Pushgateway and
// VictoriaMetrics on it, for compare and (through internal/testenv) for the
// tests.
//
//	p, err := proc.Start(ctx, proc.Spec{Name: "pushgateway", Bin: bin, Dir: dir, Args: args, Ready: proc.HTTPReady("/-/ready")})
//	defer p.Stop()
//	fmt.Println(p.URL)
package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lambdabridge/lambdabridge/internal/loopback"
)

// ErrNotFound is wrapped when a backend's binary is not found.
var ErrNotFound = errors.New("backend binary not found")

// LookPath finds a backend's binary: each name in PATH, or an absolute
// path. The error wraps ErrNotFound and names the Debian package to install.
func LookPath(pkg string, names ...string) (string, error) {
	for _, n := range names {
		if filepath.IsAbs(n) {
			if st, err := os.Stat(n); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return n, nil
			}
			continue
		}
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w (install the Debian package %s)", names[0], ErrNotFound, pkg)
}

// FreePort returns a TCP port that was free on 127.0.0.1 a moment ago,
// none of the last ones handed out (loopback.TCPPort).
func FreePort() (int, error) { return loopback.TCPPort() }

// Spec says how to start one backend.
type Spec struct {
	Name string                  // for messages and log file names: "prometheus"
	Bin  string                  // the binary
	Dir  string                  // working directory, where the log goes
	Args func(port int) []string // command line for a port
	Env  []string                // added to the environment
	// Ready reports whether the backend at base (http://127.0.0.1:PORT)
	// is ready.
	Ready func(ctx context.Context, base string) bool
	// Timeout bounds the wait for Ready (default 60 s); Attempts the starts
	// on another port after a lost bind race (default 4).
	Timeout  time.Duration
	Attempts int
}

// HTTPReady is a Ready function: GET base+path answers 200.
func HTTPReady(path string) func(ctx context.Context, base string) bool {
	return func(ctx context.Context, base string) bool { return HTTPOK(ctx, base+path) }
}

// Process is a running backend in its own process group.
type Process struct {
	Name    string
	URL     string // http://127.0.0.1:PORT
	Port    int
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	once    sync.Once
}

// Start runs the backend on a free port and waits until it is ready. When
// the port was taken in the meantime it starts again on another one.
// onRetry, if not nil, hears about each retry.
func Start(ctx context.Context, s Spec, onRetry func(port int)) (*Process, error) {
	if s.Attempts <= 0 {
		s.Attempts = 4
	}
	if s.Timeout <= 0 {
		s.Timeout = 60 * time.Second
	}
	var lastErr error
	for attempt := 1; attempt <= s.Attempts; attempt++ {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		p, err := launch(s, port, attempt)
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", s.Name, err)
		}
		if err = p.waitReady(ctx, s); err == nil {
			return p, nil
		}
		p.Stop()
		lastErr = err
		if ctx.Err() != nil || !strings.Contains(p.LogTail(8192), "address already in use") {
			break
		}
		if onRetry != nil {
			onRetry(port)
		}
	}
	return nil, fmt.Errorf("start %s: %w", s.Name, lastErr)
}

func launch(s Spec, port, attempt int) (*Process, error) {
	logPath := filepath.Join(s.Dir, fmt.Sprintf("%s.%d.log", s.Name, attempt))
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create log: %w", err)
	}
	cmd := exec.Command(s.Bin, s.Args(port)...)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = lf, lf
	if len(s.Env) > 0 {
		cmd.Env = append(os.Environ(), s.Env...)
	}
	// Its own process group, so Stop ends everything it started; Pdeathsig
	// so nothing survives a killed parent.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("exec %s: %w", s.Bin, err)
	}
	p := &Process{Name: s.Name, URL: "http://127.0.0.1:" + strconv.Itoa(port), Port: port, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *Process) waitReady(ctx context.Context, s Spec) error {
	deadline := time.Now().Add(s.Timeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready (%v); log:\n%s", p.Name, p.waitErr, p.LogTail(2048))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if s.Ready(ctx, p.URL) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready at %s within %v; log:\n%s", p.Name, p.URL, s.Timeout, p.LogTail(2048))
}

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.done }

// Stop ends the process group: SIGTERM, then SIGKILL after 5 s. It is
// idempotent: the group is signalled only by the first call, so a later
// call never hits a reused process id.
func (p *Process) Stop() {
	p.once.Do(func() {
		pgid := p.cmd.Process.Pid
		select {
		case <-p.done:
		default:
			_ = syscall.Kill(-pgid, syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
				<-p.done
			}
		}
		// The leader is gone; make sure no child of it survives.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	})
}

// LogTail returns the last n bytes of the process' log.
func (p *Process) LogTail(n int64) string {
	f, err := os.Open(p.LogPath)
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

// HTTPOK reports whether GET url answers 200 within a second.
func HTTPOK(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
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

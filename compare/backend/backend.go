// Package backend starts and stops the real metric backends lambdabridge
// compare talks to (Prometheus with its remote-write receiver, the
// Pushgateway), each on a free loopback port in its own temporary
// directory, and queries Prometheus with PromQL.
//
//	prom, err := backend.StartPrometheus(ctx, backend.PrometheusConfig{ScrapeInterval: 5 * time.Second})
//	defer prom.Stop()
//	v, err := prom.Query(ctx, "up", time.Now())
package backend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotFound is wrapped when a backend's binary is not on the PATH.
var ErrNotFound = errors.New("backend binary not found")

// startTimeout bounds how long a backend may take to become ready.
const startTimeout = 60 * time.Second

// Process is a running backend process in its own process group.
type Process struct {
	Name    string
	URL     string // http://127.0.0.1:PORT
	Dir     string // its temporary directory
	LogPath string
	ownDir  bool
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	once    sync.Once
}

// LookPath finds the binary of a backend: each name in PATH, or an
// absolute path. The error wraps ErrNotFound and names the Debian package.
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

// FreePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// spec says how to start one backend.
type spec struct {
	name  string
	bin   string
	dir   string
	args  func(port int) []string
	ready string // path answering 200 once ready
	log   *slog.Logger
}

// start runs the backend on a free port (retrying on a lost port race) and
// waits until it is ready.
func start(ctx context.Context, s spec) (*Process, error) {
	var lastErr error
	for attempt := 1; attempt <= 4; attempt++ {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		p, err := launch(s, port, attempt)
		if err != nil {
			return nil, err
		}
		if err = p.waitReady(ctx, s.ready); err == nil {
			s.log.Debug("backend ready", "backend", s.name, "url", p.URL, "dir", s.dir)
			return p, nil
		}
		p.Stop()
		lastErr = err
		if ctx.Err() != nil || !strings.Contains(p.logTail(8192), "address already in use") {
			break
		}
	}
	return nil, fmt.Errorf("start %s: %w", s.name, lastErr)
}

func launch(s spec, port, attempt int) (*Process, error) {
	logPath := filepath.Join(s.dir, fmt.Sprintf("%s.%d.log", s.name, attempt))
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", s.name, err)
	}
	cmd := exec.Command(s.bin, s.args(port)...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: exec %s: %w", s.name, s.bin, err)
	}
	p := &Process{Name: s.name, URL: "http://127.0.0.1:" + strconv.Itoa(port), Dir: s.dir, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *Process) waitReady(ctx context.Context, path string) error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready (%v): %s", p.Name, p.waitErr, p.logTail(1024))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if httpOK(ctx, p.URL+path) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready at %s within %v: %s", p.Name, p.URL, startTimeout, p.logTail(1024))
}

// Stop ends the process group (SIGTERM, SIGKILL after 5 s) and removes
// the temporary directory it was given. It is idempotent.
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
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		if p.ownDir {
			os.RemoveAll(p.Dir)
		}
	})
}

func (p *Process) logTail(n int64) string {
	f, err := os.Open(p.LogPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		_, _ = f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

func httpOK(ctx context.Context, url string) bool {
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

// StartPushgateway starts a Pushgateway (Debian prometheus-pushgateway)
// keeping pushed metrics in memory. Stop it with Stop.
func StartPushgateway(ctx context.Context, log *slog.Logger) (*Process, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	bin, err := LookPath("prometheus-pushgateway", "prometheus-pushgateway", "pushgateway", "/usr/bin/prometheus-pushgateway")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "lambdabridge-pushgateway-")
	if err != nil {
		return nil, fmt.Errorf("start pushgateway: %w", err)
	}
	p, err := start(ctx, spec{name: "pushgateway", bin: bin, dir: dir, ready: "/-/ready", log: log,
		args: func(port int) []string {
			return []string{"--web.listen-address=127.0.0.1:" + strconv.Itoa(port), "--persistence.file=", "--log.level=warn"}
		}})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p.ownDir = true
	return p, nil
}

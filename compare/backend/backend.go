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
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"

	"github.com/lambdabridge/lambdabridge/internal/proc"
)

// ErrNotFound is wrapped when a backend's binary is not on the PATH.
var ErrNotFound = proc.ErrNotFound

// LookPath finds the binary of a backend: each name in PATH, or an
// absolute path. The error wraps ErrNotFound and names the Debian package.
func LookPath(pkg string, names ...string) (string, error) { return proc.LookPath(pkg, names...) }

// Process is a running backend process in its own process group, in a
// temporary directory of its own.
type Process struct {
	*proc.Process
	Dir    string // its temporary directory
	ownDir bool
	once   sync.Once
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
	p, err := proc.Start(ctx, proc.Spec{Name: s.name, Bin: s.bin, Dir: s.dir, Args: s.args, Ready: proc.HTTPReady(s.ready)},
		func(port int) { s.log.Debug("backend lost its port, retrying", "backend", s.name, "port", port) })
	if err != nil {
		return nil, err
	}
	s.log.Debug("backend ready", "backend", s.name, "url", p.URL, "dir", s.dir)
	return &Process{Process: p, Dir: s.dir}, nil
}

// Stop ends the process group (SIGTERM, SIGKILL after 5 s) and removes
// the temporary directory it was given. It is idempotent.
func (p *Process) Stop() {
	p.once.Do(func() {
		p.Process.Stop()
		if p.ownDir {
			os.RemoveAll(p.Dir)
		}
	})
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

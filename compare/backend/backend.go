// Package backend starts and stops the real metric backends lambdabridge
// works with — Prometheus (with its remote-write receiver), the Pushgateway
// and VictoriaMetrics — each on a free loopback port in a directory of its
// own, and queries them with PromQL through client_golang's
// api/prometheus/v1. It is the one place that knows how to run them:
// `lambdabridge compare` starts its backends with it, and the tests'
// internal/testenv wraps it.
//
//	prom, err := backend.StartPrometheus(ctx, backend.WithScrapeInterval(5*time.Second))
//	defer prom.Stop()
//	v, err := prom.Instant(ctx, "up", time.Now())
package backend

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/lambdabridge/lambdabridge/internal/proc"
)

// ErrNotFound is wrapped when a backend's binary is not on the PATH.
var ErrNotFound = proc.ErrNotFound

// LookPath finds the binary of a backend: each name in PATH, or an
// absolute path. The error wraps ErrNotFound and names the Debian package.
func LookPath(pkg string, names ...string) (string, error) { return proc.LookPath(pkg, names...) }

// Option configures a backend's start.
type Option func(*options)

type options struct {
	dir      string
	log      *slog.Logger
	args     []string
	env      []string
	interval time.Duration  // Prometheus
	scrapes  []ScrapeConfig // Prometheus
}

// WithDir runs the backend in dir (its configuration, data and log go
// there) and leaves dir in place at Stop. Without it the backend gets a
// new temporary directory that Stop removes.
func WithDir(dir string) Option { return func(o *options) { o.dir = dir } }

// WithLogger logs the backend's start (retries on a lost port, readiness)
// at debug level. The default discards.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithArgs appends command-line flags ("--flag=value" for Prometheus and
// the Pushgateway, "-flag=value" for VictoriaMetrics).
func WithArgs(args ...string) Option { return func(o *options) { o.args = append(o.args, args...) } }

// WithEnv adds variables (NAME=value) to the backend's environment.
func WithEnv(env ...string) Option { return func(o *options) { o.env = append(o.env, env...) } }

func newOptions(opts []Option) *options {
	o := &options{log: slog.New(slog.DiscardHandler), interval: 5 * time.Second}
	for _, f := range opts {
		f(o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	return o
}

// Process is a running backend process in its own process group.
type Process struct {
	*proc.Process
	Dir    string // its directory: configuration, data, log
	ownDir bool   // Dir was created for it: Stop removes it
	once   sync.Once
}

// spec says how to start one backend.
type spec struct {
	name  string // "prometheus": messages, log and directory names
	pkg   string // the Debian package, for a missing binary
	bins  []string
	ready string // path answering 200 once ready
	// prepare, if set, writes what the backend needs in dir before it
	// starts (its configuration).
	prepare func(dir string) error
	args    func(dir string, port int) []string
}

// start finds the binary, prepares the directory, runs the backend on a
// free port (retrying on a lost port race) and waits until it is ready.
func start(ctx context.Context, s spec, o *options) (*Process, error) {
	bin, err := LookPath(s.pkg, s.bins...)
	if err != nil {
		return nil, err
	}
	p := &Process{Dir: o.dir}
	if p.Dir == "" {
		if p.Dir, err = os.MkdirTemp("", "lambdabridge-"+s.name+"-"); err != nil {
			return nil, fmt.Errorf("start %s: %w", s.name, err)
		}
		p.ownDir = true
	}
	fail := func(err error) (*Process, error) {
		if p.ownDir {
			os.RemoveAll(p.Dir)
		}
		return nil, err
	}
	if s.prepare != nil {
		if err := s.prepare(p.Dir); err != nil {
			return fail(fmt.Errorf("start %s: %w", s.name, err))
		}
	}
	p.Process, err = proc.Start(ctx, proc.Spec{Name: s.name, Bin: bin, Dir: p.Dir, Env: o.env, Ready: proc.HTTPReady(s.ready),
		Args: func(port int) []string { return append(s.args(p.Dir, port), o.args...) }},
		func(port int) { o.log.Debug("backend lost its port, retrying", "backend", s.name, "port", port) })
	if err != nil {
		return fail(err)
	}
	o.log.Debug("backend ready", "backend", s.name, "url", p.URL, "dir", p.Dir)
	return p, nil
}

// Stop ends the process group (SIGTERM, SIGKILL after 5 s) and removes
// the directory it created. It is idempotent.
func (p *Process) Stop() {
	p.once.Do(func() {
		p.Process.Stop()
		if p.ownDir {
			os.RemoveAll(p.Dir)
		}
	})
}

// Addr is the backend's host:port, for a scrape target.
func (p *Process) Addr() string { return p.URL[len("http://"):] }

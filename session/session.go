package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/config"
	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/logline"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/pipeline"
)

// Source feeds a session (the runner's environments, a log reader, later
// the Extensions and Telemetry APIs). Close stops it and returns once it
// hands the pipeline nothing more. *runner.Runner is a Source. A source that
// also has Shutdown(ctx) error (a runner that lets in-flight invocations
// end within a deadline) is shut down with it instead, within the drain
// deadline.
type Source interface {
	Close() error
}

// shutdowner is a Source whose stop a deadline bounds.
type shutdowner interface {
	Shutdown(ctx context.Context) error
}

// Option configures a Session.
type Option func(*options)

type options struct {
	log            *slog.Logger
	version        string
	drain          time.Duration
	agents         Agents
	function       string
	scrapeFlag     string
	scrapeOptional bool
	catalog        *catalog.Catalog
	lint           bool
	clock          func() time.Time
	popts          []pipeline.Option
}

// WithLogger sets the logger of the session, its listeners and sinks
// (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithVersion sets lambdabridge's version, sent in the remote_write
// User-Agent.
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// WithDrainTimeout bounds the whole Shutdown (default 10 s): sources that
// take a deadline get it, and every sink, at once, has what is left to
// deliver what it holds.
func WithDrainTimeout(d time.Duration) Option { return func(o *options) { o.drain = d } }

// WithAgents serves the agent endpoints functions send metrics to.
func WithAgents(a Agents) Option { return func(o *options) { o.agents = a } }

// WithFunction names the function that what the agent listeners receive
// belongs to (datagrams do not say who sent them): give it when only one
// function runs.
func WithFunction(name string) Option { return func(o *options) { o.function = name } }

// WithScrapeFlag names the flag that sets the /metrics address, for the
// busy-port error (default --listen).
func WithScrapeFlag(flag string) Option { return func(o *options) { o.scrapeFlag = flag } }

// WithScrapeOptional makes a busy /metrics port a warning (Warnings) that
// turns /metrics off, for a default address the user did not ask for.
func WithScrapeOptional() Option { return func(o *options) { o.scrapeOptional = true } }

// WithCatalog records every family seen in c (`--catalog`, dashboards).
func WithCatalog(c *catalog.Catalog) Option { return func(o *options) { o.catalog = c } }

// WithCatalogLint adds the catalog's dashboard checks to the diagnostics
// at Shutdown (with WithCatalog).
func WithCatalogLint() Option { return func(o *options) { o.lint = true } }

// WithClock sets the clock EMF timestamps are checked against (`--now`).
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// WithLineHandler calls fn for every log line (see pipeline.WithLineHandler).
func WithLineHandler(fn func(o metric.Origin, stream string, line []byte, f metric.Format)) Option {
	return func(o *options) { o.popts = append(o.popts, pipeline.WithLineHandler(fn)) }
}

// WithDiagnosticHandler calls fn for every diagnostic (see
// pipeline.WithDiagnosticHandler).
func WithDiagnosticHandler(fn func(d *metric.Diagnostic)) Option {
	return func(o *options) { o.popts = append(o.popts, pipeline.WithDiagnosticHandler(fn)) }
}

// WithPointHandler calls fn for every point (see pipeline.WithPointHandler).
func WithPointHandler(fn func(p *metric.Point)) Option {
	return func(o *options) { o.popts = append(o.popts, pipeline.WithPointHandler(fn)) }
}

// WithPipelineOptions passes further options to the pipeline (extra sinks,
// parser options).
func WithPipelineOptions(opts ...pipeline.Option) Option {
	return func(o *options) { o.popts = append(o.popts, opts...) }
}

// Session is one local run. Its methods are safe for concurrent use.
type Session struct {
	o        options
	p        *pipeline.Pipeline
	sinks    *sinks
	agents   *agents
	perEnv   perEnv
	ext      extensionFns
	warnings []string
	dsdDrops atomic.Uint64 // the last count dogstatsdDropped gave

	mu      sync.Mutex
	sources []Source
	cancel  context.CancelFunc
	runErr  chan error
	summary *Summary
}

// New builds a session from cfg (its sinks, aggregation and mapping rules)
// and binds every address it serves: a busy port is an error here, naming
// the address and the flag that changes it. Nothing runs before Start.
func New(cfg *config.File, opts ...Option) (*Session, error) {
	o := options{log: slog.New(slog.DiscardHandler), version: "dev", drain: 10 * time.Second, scrapeFlag: "--listen"}
	for _, f := range opts {
		f(&o)
	}
	if cfg == nil {
		cfg = &config.File{}
	}
	s := &Session{o: o}
	sk, warns, err := buildSinks(cfg, &o)
	if err != nil {
		return nil, err
	}
	s.sinks, s.warnings = sk, warns
	popts := append(sk.options, pipeline.WithLogger(o.log), pipeline.WithDrainTimeout(o.drain))
	if o.catalog != nil {
		popts = append(popts, pipeline.WithCatalog(o.catalog))
		if o.lint {
			popts = append(popts, pipeline.WithCatalogLint())
		}
	}
	if o.clock != nil {
		popts = append(popts, pipeline.WithParserOptions(logline.WithClock(o.clock)))
	}
	if s.p, err = pipeline.New(append(popts, o.popts...)...); err != nil {
		sk.close()
		return nil, fmt.Errorf("session: %w", err)
	}
	if s.agents, err = startAgents(o.agents, s.p, o.function, o.log); err != nil {
		sk.close()
		return nil, err
	}
	if on(o.agents.DogStatsD) || o.agents.PerEnvironment {
		// The kernel's drops on every DogStatsD socket, the shared one's
		// and each environment's, on /metrics.
		if err := registerDogStatsDDrops(s.p, s.dogstatsdDropped); err != nil {
			s.agents.close()
			sk.close()
			return nil, fmt.Errorf("session: %w", err)
		}
	}
	return s, nil
}

// dogstatsdDropped sums the datagrams the kernel dropped on the DogStatsD
// sockets: the shared listener's, the environments' closed ones and those
// still open. It never goes down (a closing listener's count moves from
// the open ones to the closed ones).
func (s *Session) dogstatsdDropped() uint64 {
	var n uint64
	if s.agents.dsd != nil {
		n = s.agents.dsd.Stats().KernelDropped
	}
	n += s.perEnv.dropped()
	for {
		last := s.dsdDrops.Load()
		if n <= last {
			return last
		}
		if s.dsdDrops.CompareAndSwap(last, n) {
			return n
		}
	}
}

// Pipeline is where sources hand their lines, datagrams and platform
// points (a runner.LogSink and runner.PlatformSink).
func (s *Session) Pipeline() *pipeline.Pipeline { return s.p }

// Warnings lists what the session turned off instead of failing (a busy
// default /metrics port with WithScrapeOptional).
func (s *Session) Warnings() []string { return s.warnings }

// Sinks names every sink with its URL (credentials redacted), for the user.
func (s *Session) Sinks() []string { return s.sinks.names }

// ScrapeAddr is the address /metrics is served on, "" when off.
func (s *Session) ScrapeAddr() string { return s.sinks.scrapeAddr }

// Env returns the variables that point a function's metric clients at the
// session's listeners: listen.DogStatsDClientEnv for DogStatsD, and the EMF
// agent's AWS_EMF_AGENT_ENDPOINT and AWS_EMF_ENVIRONMENT.
func (s *Session) Env() map[string]string { return maps.Clone(s.agents.env) }

// Apply adds Env to every definition without overriding what the user set,
// and returns defs. A function whose layers hold lambdabridge's extension
// gets none: the extension is its agent, and EnvironmentVars gives each of
// its environments the extension's ports (see ExtensionName).
func (s *Session) Apply(defs []function.Definition) []function.Definition {
	for i := range defs {
		if defs[i].Env == nil {
			defs[i].Env = map[string]string{}
		}
		if s.ext.add(&defs[i]) {
			continue
		}
		for k, v := range s.agents.env {
			if _, set := defs[i].Env[k]; !set {
				defs[i].Env[k] = v
			}
		}
	}
	return defs
}

// AddSource adds a source that Shutdown closes first, in the order added.
func (s *Session) AddSource(src Source) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sources = append(s.sources, src)
}

// ReadLog reads one log stream into the pipeline until EOF or ctx ends
// (see pipeline.ReadLog). Several may be read at once.
func (s *Session) ReadLog(ctx context.Context, name string, r io.Reader) error {
	return s.p.ReadLog(ctx, name, r)
}

// Start runs the listeners and the sinks until Shutdown. Cancelling ctx
// does not stop them: shutting down is Shutdown's job, in its order.
func (s *Session) Start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return
	}
	ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.runErr = make(chan error, 1)
	s.agents.serve(ctx)
	s.perEnv.start(ctx)
	go func() { s.runErr <- s.p.Run(ctx) }()
}

// StopAgents ends the shared agent listeners (WithAgents) once what
// functions sent last had time to arrive (Settle): each reads what its
// socket holds, then closes it. Their AgentStats are final from then on.
// ShutdownWithin stops them too; a caller that records their counts in the
// pipeline (the Lambda extension) stops them first.
func (s *Session) StopAgents() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopAgentsLocked()
}

func (s *Session) stopAgentsLocked() {
	if s.agents.stopped {
		return
	}
	if s.agents.bound() || s.o.agents.PerEnvironment {
		time.Sleep(Settle) // what functions sent last is read
	}
	s.agents.stop()
}

// DrainAgents reads what the polled UDP sockets hold (Agents.DogStatsDPoll,
// Agents.EMFPoll); without polling, or once stopped, it does nothing.
func (s *Session) DrainAgents() {
	if s.agents.dsd != nil {
		s.agents.dsd.Drain()
	}
	if s.agents.emf != nil {
		s.agents.emf.Drain()
	}
}

// AgentStats is what each shared agent listener received so far, and the
// datagrams the kernel dropped on its socket.
func (s *Session) AgentStats() []AgentStats { return s.agents.stats() }

// Shutdown ends the session in order, within the drain timeout: sources
// closed, listeners settled and stopped, parsers finished, then every sink
// drained at once until the deadline. It returns the summary; calling it
// again returns the same.
func (s *Session) Shutdown() Summary { return s.ShutdownWithin(context.Background()) }

// ShutdownWithin is Shutdown, cut short when ctx ends (a second Ctrl-C):
// sources end their work at once and the sinks drop what they still hold,
// counted with reason shutdown.
func (s *Session) ShutdownWithin(ctx context.Context) Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.summary != nil {
		return *s.summary
	}
	dctx, cancel := context.WithTimeout(ctx, s.o.drain)
	defer cancel()
	errs := s.closeSources(dctx)
	s.stopAgentsLocked()
	if err := s.perEnv.stop(); err != nil {
		errs = append(errs, err)
	}
	s.p.Finish()
	s.p.SetDrainContext(dctx)
	if s.cancel != nil {
		s.cancel()
		<-s.runErr // each sink's error is in its status (Summary.Sinks)
	} else {
		s.sinks.close() // never started: release what New bound
	}
	sum := s.summarize(errors.Join(errs...))
	s.summary = &sum
	return sum
}

// ShutdownOn starts ShutdownWithin(cut) as soon as ctx ends (a CLI's first
// SIGINT or SIGTERM), while the caller may still be waiting for the
// invocations in flight (runner.Drive, Serve, Invoke): the drain deadline,
// not the function's timeout, bounds how long they run on, and cut (a
// second signal) ends them at once. Call stop when the command is done
// with its sources: it stops watching ctx and waits for a shutdown in
// progress. Shutdown afterwards returns the same summary.
func (s *Session) ShutdownOn(ctx, cut context.Context) (stop func()) {
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case <-quit:
		case <-ctx.Done():
			s.ShutdownWithin(cut)
		}
	}()
	return sync.OnceFunc(func() {
		close(quit)
		<-finished
	})
}

// closeSources stops the sources in the order they were added, those that
// take one within ctx.
func (s *Session) closeSources(ctx context.Context) []error {
	var errs []error
	for _, src := range s.sources {
		var err error
		if sh, ok := src.(shutdowner); ok {
			err = sh.Shutdown(ctx)
		} else {
			err = src.Close()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("session: stop source: %w", err))
		}
	}
	return errs
}

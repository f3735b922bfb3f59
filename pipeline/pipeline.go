// Package pipeline is the one path from input to metrics: a log line (from
// a function, a log file, standard input or an agent endpoint), a DogStatsD
// datagram or a platform point is parsed (logline), checked across formats
// (validate.Checker), aggregated (aggregate) and recorded in the catalog, and
// the aggregation is fanned out to every sink (scrape endpoint, remote_write,
// Pushgateway), each running on its own so a slow or dead sink never blocks
// the others or the function. validate, convert, dashboard and tail read log
// streams through ReadLog, and run, invoke and compare feed it from the
// runner, so one input gives one diagnosis everywhere. The session package
// owns a pipeline for a whole local run (listeners, sinks, shutdown order).
//
//	p, _ := pipeline.New(pipeline.WithSink(pipeline.RemoteWrite(w)))
//	err := p.ReadLog(ctx, "app.log", f) // or: runner.WithLogSink(p), runner.WithPlatformSink(p)
//	p.Finish(); err = p.Run(ctx)         // Run: until ctx ends, then drains every sink
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/netip"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/logline"
	"github.com/lambdabridge/lambdabridge/logsource"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/platform"
	"github.com/lambdabridge/lambdabridge/validate"
)

// Option configures a Pipeline.
type Option func(*Pipeline)

// WithAggregateOptions passes options to the aggregator (mapping rules,
// limits, per-environment series, TTL).
func WithAggregateOptions(opts ...aggregate.Option) Option {
	return func(p *Pipeline) { p.aggOpts = append(p.aggOpts, opts...) }
}

// WithSink adds a sink.
func WithSink(s Sink) Option { return func(p *Pipeline) { p.sinks = append(p.sinks, s) } }

// WithCatalog records every point in c (for `--catalog` and dashboards).
func WithCatalog(c *catalog.Catalog) Option { return func(p *Pipeline) { p.catalog = c } }

// WithCatalogLint adds the catalog's checks (catalog.Lint: what makes a
// generated dashboard less useful) to the diagnostics of Finish. It needs
// WithCatalog.
func WithCatalogLint() Option { return func(p *Pipeline) { p.lint = true } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(p *Pipeline) { p.log = l } }

// WithLineHandler calls fn for every log line read from a source, after it
// was parsed, with the format found (metric.FormatUnknown for ordinary
// lines): the CLI uses it to show the function's output. line is only valid
// during the call. Calls are serialized.
func WithLineHandler(fn func(o metric.Origin, stream string, line []byte, f metric.Format)) Option {
	return func(p *Pipeline) { p.onLine = fn }
}

// WithDiagnosticHandler calls fn for every diagnostic (invalid metric lines,
// cross-format warnings). d is only valid during the call. Calls are
// serialized.
func WithDiagnosticHandler(fn func(d *metric.Diagnostic)) Option {
	return func(p *Pipeline) { p.onDiag = fn }
}

// WithPointHandler calls fn for every point after it reached the
// aggregator (the compare command counts what was emitted with it). p is only
// valid during the call. Calls are serialized.
func WithPointHandler(fn func(pt *metric.Point)) Option {
	return func(p *Pipeline) { p.onPoint = fn }
}

// WithParserOptions passes options to the log-line parsers (clock, EMF
// event size).
func WithParserOptions(opts ...logline.Option) Option {
	return func(p *Pipeline) { p.parserOpts = append(p.parserOpts, opts...) }
}

// WithInput sets how ReadLog reads its streams: the envelope to force
// (logsource.WithEnvelope, --input-format; detected per line by default),
// the function of events whose log group does not name one
// (logsource.WithFunction, --function), the event size limit.
func WithInput(opts ...logsource.Option) Option {
	return func(p *Pipeline) { p.inputOpts = append(p.inputOpts, opts...) }
}

// WithPlatformOptions configures the platform metrics ReadLog makes of
// START, REPORT and platform.* lines (architecture for the cost, labels per
// environment).
func WithPlatformOptions(opts ...platform.Option) Option {
	return func(p *Pipeline) { p.platOpts = append(p.platOpts, opts...) }
}

// WithDrainTimeout bounds the shutdown: how long Run waits for the sinks to
// deliver what they hold after ctx ends (default 10 s).
func WithDrainTimeout(d time.Duration) Option { return func(p *Pipeline) { p.drain = d } }

// Pipeline is safe for concurrent use by several sources.
type Pipeline struct {
	aggOpts    []aggregate.Option
	parserOpts []logline.Option
	inputOpts  []logsource.Option
	platOpts   []platform.Option
	agg        *aggregate.Aggregator
	catalog    *catalog.Catalog
	sinks      []Sink
	envs       []*Env // per sink
	scrapes    []scrapeSpec
	log        *slog.Logger
	drain      time.Duration
	onLine     func(o metric.Origin, stream string, line []byte, f metric.Format)
	onDiag     func(d *metric.Diagnostic)
	onPoint    func(pt *metric.Point)

	self *registry // lambdabridge's own metrics (Registry); nil in the Lambda extension's build
	m    selfMetrics

	mu      sync.Mutex // guards what follows: parsers and checks keep state
	parser  *logline.Parser
	parsers logsource.Parsers // ReadLog's: the platform lines, then p.parser
	checker *validate.Checker
	batch   metric.Batch

	in   Input
	lint bool

	sinkMu   sync.Mutex
	sinkErrs []error         // per sink, once Run returned
	drainCtx context.Context // SetDrainContext

	subsMu sync.Mutex
	subs   []chan struct{}
}

// New returns a pipeline; call Run to start its sinks.
func New(opts ...Option) (*Pipeline, error) {
	p := &Pipeline{
		log:     slog.New(slog.DiscardHandler),
		drain:   10 * time.Second,
		self:    newRegistry(),
		checker: validate.New(),
		in:      Input{MetricLines: map[string]int{}},
	}
	for _, o := range opts {
		o(p)
	}
	// Defaults, which the caller's options override: every DimensionSet of
	// an EMF metric is its own series (as in CloudWatch), so one family may
	// hold several label-name sets; and series from the runner carry the
	// function's name.
	defaults := []aggregate.Option{
		aggregate.WithMixedLabelSets(true),
		aggregate.WithFunctionLabel("function_name"),
	}
	p.agg = aggregate.New(append(defaults, p.aggOpts...)...)
	p.parser = logline.New(p.parserOpts...)
	p.parsers = logsource.Parsers{Platform: platform.NewParser(p.platOpts...), Metrics: p.parser}
	p.m = newSelfMetrics()
	if err := p.registerSelf(); err != nil {
		return nil, err
	}
	for _, s := range p.sinks {
		// Subscribed now, so an invocation that ends before Run starts a
		// sink is not missed.
		p.envs = append(p.envs, &Env{Gatherer: p.agg, Invocations: p.invocations(), Log: p.log})
		if err := p.registerSink(s); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Aggregator returns the aggregation the sinks deliver.
func (p *Pipeline) Aggregator() *aggregate.Aggregator { return p.agg }

// Gatherer returns the aggregated metrics, as sinks see them.
func (p *Pipeline) Gatherer() Gatherer { return p.agg }

// Gatherer is what sinks deliver: the aggregation (it is a
// prometheus.Gatherer).
type Gatherer interface {
	Gather() ([]*dto.MetricFamily, error)
}

// Line handles one log line of a function (it implements runner.LogSink).
func (p *Pipeline) Line(o metric.Origin, stream string, line []byte) {
	p.line(o, stream, logline.Line{Num: o.Line, Bytes: line, Size: len(line)})
}

// line is the one step from a log line to points and diagnostics:
// logline.Parser.ParseLine (which reports lines the reader had to cut),
// then flushBatch.
func (p *Pipeline) line(o metric.Origin, stream string, l logline.Line) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.batch.Reset()
	f := p.parser.ParseLine(&p.batch, l, o)
	p.m.lines[f]++
	p.in.Lines++
	if f != metric.FormatUnknown {
		p.in.MetricLines[f.String()]++
	}
	if p.onLine != nil {
		p.onLine(o, stream, l.Bytes, f)
	}
	p.flushBatch()
}

// Platform handles one platform point of the runner (it implements
// runner.PlatformSink).
func (p *Pipeline) Platform(pt *metric.Point) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.batch.Reset()
	p.batch.AddPoint(*pt)
	p.flushBatch()
	if pt.Name == "lambda_invocations_total" {
		p.notifyInvocation()
	}
}

// Datagram handles one DogStatsD UDP payload (a listen.PacketFunc).
func (p *Pipeline) Datagram(payload []byte, from netip.AddrPort) {
	p.datagram(payload, metric.Origin{Source: "udp://" + from.String()})
}

// ReadLog reads a log stream (a file, standard input) in any form AWS
// delivers logs (logsource: `aws logs tail`, filter-log-events output,
// subscription payloads, S3 exports, the JSON log format, lambdabridge's
// console) until EOF or ctx ends, and makes the platform metrics of its
// START/REPORT lines. A broken line or payload is reported with its line and
// the lines after it are read as usual. Several streams may be read at once.
func (p *Pipeline) ReadLog(ctx context.Context, name string, r io.Reader) error {
	p.mu.Lock()
	p.in.Inputs++
	p.mu.Unlock()
	return logsource.New(p.inputOpts...).Decode(r, name, func(m *logsource.Message) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		p.message(name, m)
		return nil
	})
}

// message is ReadLog's step from one decoded log event to points and
// diagnostics.
func (p *Pipeline) message(name string, m *logsource.Message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.batch.Reset()
	f := p.parsers.Parse(&p.batch, m, name)
	p.m.lines[f]++
	p.in.Lines++
	if f != metric.FormatUnknown {
		p.in.MetricLines[f.String()]++
	}
	if p.onLine != nil && m.Text != nil {
		p.onLine(m.Origin(name), "log", m.Text, f)
	}
	p.flushBatch()
}

// Finish runs the checks that need the whole input (EMF dimensions unique
// in every event, ...) and, with WithCatalogLint, the catalog's dashboard
// checks, and reports their diagnostics. Call it once, after the last input.
func (p *Pipeline) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.batch.Reset()
	p.parser.Finish(&p.batch)
	if p.lint && p.catalog != nil {
		p.batch.Diags = append(p.batch.Diags, p.catalog.Lint()...)
	}
	p.flushBatch()
}

// Input returns what the pipeline was given so far.
func (p *Pipeline) Input() Input {
	p.mu.Lock()
	defer p.mu.Unlock()
	in := p.in
	in.MetricLines = maps.Clone(p.in.MetricLines)
	return in
}

// flushBatch hands the batch's points to the aggregator and catalog and its
// diagnostics to the handler. p.mu is held.
func (p *Pipeline) flushBatch() {
	p.checker.Check(&p.batch)
	for i := range p.batch.Points {
		pt := &p.batch.Points[i]
		p.agg.Add(pt)
		if p.catalog != nil {
			p.catalog.Add(pt)
		}
		if p.onPoint != nil {
			p.onPoint(pt)
		}
	}
	p.in.Points += len(p.batch.Points)
	for i := range p.batch.Diags {
		d := &p.batch.Diags[i]
		switch d.Severity {
		case metric.Error:
			p.in.Errors++
		case metric.Warning:
			p.in.Warnings++
		}
		p.m.diags[diagKey{d.Format, d.Rule, d.Severity}]++
		if p.onDiag != nil {
			p.onDiag(d)
		}
	}
}

// InvocationDone tells per-invocation sinks (a Pushgateway pushing after
// every invocation) that an invocation ended. The runner's platform points
// call it; other sources may too. It never blocks.
func (p *Pipeline) InvocationDone() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.notifyInvocation()
}

func (p *Pipeline) notifyInvocation() {
	p.subsMu.Lock()
	defer p.subsMu.Unlock()
	for _, c := range p.subs {
		select {
		case c <- struct{}{}:
		default: // a signal is pending already: coalesce
		}
	}
}

// invocations returns a channel that receives (coalesced) signals of ended
// invocations.
func (p *Pipeline) invocations() <-chan struct{} {
	c := make(chan struct{}, 1)
	p.subsMu.Lock()
	p.subs = append(p.subs, c)
	p.subsMu.Unlock()
	return c
}

// Run runs every sink until ctx ends, then shuts them all down at once,
// each with the whole drain timeout to deliver what it holds (a hanging
// remote_write cannot take the Pushgateway's time). It returns the errors of
// the sinks (joined); delivery losses are reported through the sinks'
// counters, SinkStatus and the error.
func (p *Pipeline) Run(ctx context.Context) error {
	errs := make([]error, len(p.sinks))
	var wg sync.WaitGroup
	for i, s := range p.sinks {
		env := p.envs[i]
		wg.Go(func() {
			if err := s.Run(ctx, env); err != nil && !errors.Is(err, context.Canceled) {
				errs[i] = fmt.Errorf("sink %s: %w", s.Name(), err)
				p.log.Error("sink stopped", "sink", s.Name(), "err", err)
			}
		})
	}
	wg.Wait()
	p.sinkMu.Lock()
	dctx := p.drainCtx
	p.sinkMu.Unlock()
	if dctx == nil {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), p.drain)
		defer cancel()
	}
	for i, s := range p.sinks {
		wg.Go(func() {
			if err := s.Shutdown(dctx, p.agg); err != nil {
				errs[i] = errors.Join(errs[i], fmt.Errorf("sink %s: shutdown: %w", s.Name(), err))
			}
		})
	}
	wg.Wait()
	p.sinkMu.Lock()
	p.sinkErrs = errs
	p.sinkMu.Unlock()
	return errors.Join(errs...)
}

// SetDrainContext makes the sinks drain within ctx instead of the drain
// timeout after Run's ctx ends: a caller whose whole shutdown is bounded
// gives the sinks what is left of it, and can cut it short (a second
// Ctrl-C). Call it before Run's ctx ends.
func (p *Pipeline) SetDrainContext(ctx context.Context) {
	p.sinkMu.Lock()
	p.drainCtx = ctx
	p.sinkMu.Unlock()
}

// SinkStatus returns what every sink delivered so far, in the order they
// were added (scrape endpoints last), with the error each ended with once
// Run returned.
func (p *Pipeline) SinkStatus() []Status {
	p.sinkMu.Lock()
	defer p.sinkMu.Unlock()
	out := make([]Status, 0, len(p.sinks))
	for i, s := range p.sinks {
		st := Status{Kind: s.Name()}
		if r, ok := s.(StatusReporter); ok {
			st = r.Status()
		}
		if i < len(p.sinkErrs) {
			st.Err = p.sinkErrs[i]
		}
		out = append(out, st)
	}
	return out
}

// DatagramFunc returns a DogStatsD packet handler (a listen.PacketFunc)
// whose points carry function as their Origin.Function, for a listener that
// serves one function's environments.
func (p *Pipeline) DatagramFunc(function string) func(payload []byte, from netip.AddrPort) {
	return p.DatagramOrigin(metric.Origin{Function: function})
}

// DatagramOrigin returns a DogStatsD packet handler whose points carry o
// (its function and environment, for a listener that serves one
// environment); Source is set to the sender's address. A client sends
// from one socket, so the address's text is kept from one datagram to the
// next.
func (p *Pipeline) DatagramOrigin(o metric.Origin) func(payload []byte, from netip.AddrPort) {
	var last netip.AddrPort // o.Source's address; both guarded by p.mu
	return func(payload []byte, from netip.AddrPort) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if from != last || o.Source == "" {
			last, o.Source = from, "udp://"+from.String()
		}
		p.datagramLocked(payload, o)
	}
}

func (p *Pipeline) datagram(payload []byte, o metric.Origin) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.datagramLocked(payload, o)
}

func (p *Pipeline) datagramLocked(payload []byte, o metric.Origin) {
	p.batch.Reset()
	p.m.datagrams++
	p.in.Datagrams++
	p.parser.Datagram(&p.batch, payload, o)
	p.flushBatch()
}

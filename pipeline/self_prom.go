//go:build !lambdabridge_extension

package pipeline

import (
	"context"
	"fmt"
	"maps"
	"net"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lambdabridge/lambdabridge/scrape"
)

// lambdabridge's own metrics and the scrape sink, which serves them with
// the aggregation. The Lambda extension's build (tag
// lambdabridge_extension) has neither (self_ext.go): it serves no /metrics,
// and client_golang's prometheus package, which they need, costs its cold
// start about 0.9 ms of CPU.

type registry = prometheus.Registry

func newRegistry() *registry { return prometheus.NewRegistry() }

// Registry returns lambdabridge's own metrics (lines read, parse errors by
// format and rule, sink delivery counts, ...).
func (p *Pipeline) Registry() *prometheus.Registry { return p.self }

// WithScrape serves the aggregation and lambdabridge's own metrics on ln
// (/metrics, text, OpenMetrics and protobuf negotiated). The caller binds
// ln, so a busy port is reported before anything runs.
func WithScrape(ln net.Listener, opts ...scrape.Option) Option {
	return func(p *Pipeline) { p.scrapes = append(p.scrapes, scrapeSpec{ln, opts}) }
}

type scrapeSpec struct {
	ln   net.Listener
	opts []scrape.Option
}

// registerSelf registers the pipeline's and the aggregator's own metrics
// and adds the scrape sinks, which serve them.
func (p *Pipeline) registerSelf() error {
	if err := p.self.Register(selfCollector{p}); err != nil {
		return fmt.Errorf("pipeline: register own metrics: %w", err)
	}
	if err := p.self.Register(p.agg.SelfCollector()); err != nil {
		return fmt.Errorf("pipeline: register aggregator metrics: %w", err)
	}
	for _, sc := range p.scrapes {
		opts := append([]scrape.Option{scrape.WithGatherers(p.agg, p.self)}, sc.opts...)
		srv, err := scrape.New(sc.ln.Addr().String(), opts...)
		if err != nil {
			return fmt.Errorf("pipeline: %w", err)
		}
		p.sinks = append(p.sinks, scrapeSink{s: srv, ln: sc.ln})
	}
	return nil
}

// registerSink registers the metrics of a sink that has some: a
// remote_write writer's, a Pushgateway sink's (its collector made once),
// or a sink's that is a prometheus.Collector itself.
func (p *Pipeline) registerSink(s Sink) error {
	var c prometheus.Collector
	switch s := s.(type) {
	case *rwSink:
		c = s.w
	case *pushSink:
		c = s.s.Collector()
	case prometheus.Collector:
		c = s
	default:
		return nil
	}
	if err := p.self.Register(c); err != nil {
		return fmt.Errorf("pipeline: register metrics of sink %s: %w", s.Name(), err)
	}
	return nil
}

var (
	descLines = prometheus.NewDesc("lambdabridge_log_lines_total",
		"Log lines read from functions and log streams, by the metric format found in them (unknown: ordinary log lines).", []string{"format"}, nil)
	descDatagrams = prometheus.NewDesc("lambdabridge_dogstatsd_datagrams_total", "DogStatsD datagrams received.", nil, nil)
	descDiags     = prometheus.NewDesc("lambdabridge_diagnostics_total",
		"Problems found in metric input, by format, rule and severity (error: the backend would drop it).", []string{"format", "rule", "severity"}, nil)
)

// selfCollector exports the pipeline's selfMetrics.
type selfCollector struct{ p *Pipeline }

func (c selfCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descLines
	ch <- descDatagrams
	ch <- descDiags
}

func (c selfCollector) Collect(ch chan<- prometheus.Metric) {
	c.p.mu.Lock() // the parsers' lock: copy, then build the metrics outside it
	lines, datagrams, diags := maps.Clone(c.p.m.lines), c.p.m.datagrams, maps.Clone(c.p.m.diags)
	c.p.mu.Unlock()
	for f, n := range lines {
		ch <- prometheus.MustNewConstMetric(descLines, prometheus.CounterValue, float64(n), f.String())
	}
	ch <- prometheus.MustNewConstMetric(descDatagrams, prometheus.CounterValue, float64(datagrams))
	for k, n := range diags {
		ch <- prometheus.MustNewConstMetric(descDiags, prometheus.CounterValue, float64(n), k.format.String(), k.rule, k.severity.String())
	}
}

// Scrape serves the aggregation on /metrics with a server built by the
// caller (WithScrape builds one that also serves lambdabridge's own metrics).
func Scrape(s *scrape.Server) Sink { return scrapeSink{s: s} }

type scrapeSink struct {
	s  *scrape.Server
	ln net.Listener // nil: s binds its own address
}

func (s scrapeSink) Name() string { return "scrape " + s.s.Addr() }

func (s scrapeSink) Run(ctx context.Context, _ *Env) error {
	if s.ln != nil {
		return s.s.ServeListener(ctx, s.ln)
	}
	return s.s.Serve(ctx)
}

func (s scrapeSink) Shutdown(context.Context, Gatherer) error { return nil }

func (s scrapeSink) Status() Status {
	addr := s.s.Addr()
	if s.ln != nil {
		addr = s.ln.Addr().String()
	}
	return Status{Kind: "scrape", URL: "http://" + addr + "/metrics"}
}

//go:build !lambdabridge_extension

package pipeline

import (
	"context"
	"fmt"
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

// registerSink registers the metrics of a sink that has some.
func (p *Pipeline) registerSink(s Sink) error {
	c, ok := s.(prometheus.Collector)
	if !ok {
		return nil
	}
	if err := p.self.Register(c); err != nil {
		return fmt.Errorf("pipeline: register metrics of sink %s: %w", s.Name(), err)
	}
	return nil
}

func (s *rwSink) Describe(ch chan<- *prometheus.Desc) { s.w.Describe(ch) }
func (s *rwSink) Collect(ch chan<- prometheus.Metric) { s.w.Collect(ch) }

func (s *pushSink) Describe(ch chan<- *prometheus.Desc) { s.s.Collector().Describe(ch) }
func (s *pushSink) Collect(ch chan<- prometheus.Metric) { s.s.Collector().Collect(ch) }

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
	var out []prometheus.Metric
	c.p.mu.Lock()
	for f, n := range c.p.m.lines {
		out = append(out, prometheus.MustNewConstMetric(descLines, prometheus.CounterValue, float64(n), f.String()))
	}
	out = append(out, prometheus.MustNewConstMetric(descDatagrams, prometheus.CounterValue, float64(c.p.m.datagrams)))
	for k, n := range c.p.m.diags {
		out = append(out, prometheus.MustNewConstMetric(descDiags, prometheus.CounterValue, float64(n), k.format.String(), k.rule, k.severity.String()))
	}
	c.p.mu.Unlock()
	for _, m := range out {
		ch <- m
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

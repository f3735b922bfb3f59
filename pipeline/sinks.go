package pipeline

import (
	"context"
	"log/slog"
	"net"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lambdabridge/lambdabridge/pushgw"
	"github.com/lambdabridge/lambdabridge/remotewrite"
	"github.com/lambdabridge/lambdabridge/scrape"
)

// Env is what the pipeline gives a running sink.
type Env struct {
	// Gatherer holds the aggregation to deliver.
	Gatherer prometheus.Gatherer
	// Invocations receives a (coalesced) signal whenever an invocation ends.
	Invocations <-chan struct{}
	Log         *slog.Logger
}

// Sink delivers the aggregation somewhere. Run delivers until ctx ends and
// must not block the caller's sources; Shutdown then delivers a last time
// within its ctx and reports what could not be delivered. A sink that also
// implements prometheus.Collector has its metrics registered on the
// pipeline's own registry.
type Sink interface {
	Name() string
	Run(ctx context.Context, env *Env) error
	Shutdown(ctx context.Context, g prometheus.Gatherer) error
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

func (s scrapeSink) Shutdown(context.Context, prometheus.Gatherer) error { return nil }

// RemoteWrite ships the aggregation with a remote_write sender: every
// interval of the writer, and once more at shutdown (without stale markers:
// the series stay queryable after a finite run).
func RemoteWrite(w *remotewrite.Writer) Sink { return &rwSink{w: w} }

type rwSink struct{ w *remotewrite.Writer }

func (s *rwSink) Name() string { return "remote_write " + s.w.Name() }

func (s *rwSink) Run(ctx context.Context, env *Env) error { return s.w.Run(ctx, env.Gatherer) }

// Shutdown closes the writer: it gathers a last time and drains the queue
// within ctx.
func (s *rwSink) Shutdown(ctx context.Context, _ prometheus.Gatherer) error {
	_, err := s.w.Close(ctx)
	return err
}

func (s *rwSink) Describe(ch chan<- *prometheus.Desc) { s.w.Describe(ch) }
func (s *rwSink) Collect(ch chan<- prometheus.Metric) { s.w.Collect(ch) }

// Pushgateway pushes the aggregation: every Config.Interval when set, else
// after every invocation (coalesced: a push in flight covers the
// invocations that end meanwhile), and finishes at shutdown (a last push, or
// the group's deletion with delete_on_end).
func Pushgateway(s *pushgw.Sink, interval bool) Sink { return &pushSink{s: s, interval: interval} }

type pushSink struct {
	s        *pushgw.Sink
	interval bool
}

func (s *pushSink) Name() string { return "pushgateway " + s.s.GroupURL() }

func (s *pushSink) Run(ctx context.Context, env *Env) error {
	if s.interval {
		// pushgw.Sink.Run finishes by itself when ctx ends; Shutdown must not
		// finish a second time.
		return s.s.Run(ctx, env.Gatherer)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-env.Invocations:
			if err := s.s.Push(ctx, env.Gatherer); err != nil {
				env.Log.Warn("push failed", "sink", s.Name(), "err", err)
			}
		}
	}
}

func (s *pushSink) Shutdown(ctx context.Context, g prometheus.Gatherer) error {
	if s.interval {
		return nil
	}
	return s.s.Finish(ctx, g)
}

func (s *pushSink) Describe(ch chan<- *prometheus.Desc) { s.s.Collector().Describe(ch) }
func (s *pushSink) Collect(ch chan<- prometheus.Metric) { s.s.Collector().Collect(ch) }

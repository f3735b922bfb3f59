package compare

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/compare/analysis"
	"github.com/lambdabridge/lambdabridge/compare/backend"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/pipeline"
	"github.com/lambdabridge/lambdabridge/runner"
	"github.com/lambdabridge/lambdabridge/scrape"
	"github.com/lambdabridge/lambdabridge/session"
)

// scrapeJob is the job of the Prometheus compare starts.
const scrapeJob = "lambdabridge-compare"

// Run runs the comparison and returns its report. It starts the backends
// it needs (unless given by URL) and stops them, with every environment,
// before it returns.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := newExperiment(ctx, cfg)
	defer s.close()
	if w := analysis.DurationWarning(cfg.Duration, cfg.ScrapeInterval); w != "" {
		cfg.Progress("warning: " + w)
	}
	if err := s.startBackends(ctx); err != nil {
		return nil, err
	}
	if err := s.startPipeline(); err != nil {
		return nil, err
	}
	if err := s.startExtension(ctx); err != nil {
		return nil, err
	}
	r, err := runner.New(s.cfg.Defs,
		runner.WithLogSink(s.pipe), runner.WithConcurrency(cfg.Concurrency),
		runner.WithIdleTimeout(cfg.IdleTimeout), runner.WithRegion(cfg.Region),
		runner.WithLogger(s.log), runner.WithLifecycle(s.lifecycle), runner.WithEnvironmentVars(s.envVars))
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	s.sess.AddSource(r)
	s.sess.Start(ctx)
	s.closers = append(s.closers, func() { s.sess.Shutdown(); s.closeEnvironments() })
	obs, err := s.run(ctx, r)
	if err != nil {
		return nil, err
	}
	return analysis.Analyze(obs), nil
}

// run drives the function and records what happened.
func (s *experiment) run(ctx context.Context, r *runner.Runner) (analysis.Observations, error) {
	cfg := s.cfg
	// Let Prometheus discover the static targets first.
	if err := sleep(ctx, min(cfg.ScrapeInterval, 2*time.Second)); err != nil {
		return analysis.Observations{}, err
	}
	start := time.Now()
	cfg.Progress(fmt.Sprintf("running %s for %v: bursts of %v at concurrency %d, quiet %v, idle timeout %v, scrape interval %v",
		cfg.Function, cfg.Duration, cfg.Burst, cfg.Concurrency, cfg.Quiet, cfg.IdleTimeout, cfg.ScrapeInterval))
	if err := s.drive(ctx, r); err != nil {
		return analysis.Observations{}, err
	}
	driveEnd := time.Now()
	s.obsMu.Lock()
	n := len(s.invocations)
	s.obsMu.Unlock()
	cfg.Progress(fmt.Sprintf("%d invocations in %d environments; waiting %v for the last scrapes", n, len(s.environments()), cfg.Settle))
	if err := sleep(ctx, cfg.Settle); err != nil {
		return analysis.Observations{}, err
	}
	end := time.Now()
	s.envMu.Lock()
	envErr := s.envErr
	s.envMu.Unlock()
	if envErr != nil {
		return analysis.Observations{}, envErr
	}
	cfg.Progress("reading back through PromQL")
	def, _ := r.Definition(cfg.Function)
	return s.observations(ctx, def, start, driveEnd, end)
}

// startBackends starts Prometheus and the Pushgateway unless given by URL,
// and the counting proxies in front of the Pushgateway and remote_write.
func (s *experiment) startBackends(ctx context.Context) error {
	cfg := s.cfg
	promURL := cfg.PrometheusURL
	s.fileSD = cfg.FileSD
	if promURL == "" {
		cfg.Progress("starting Prometheus")
		p, err := backend.StartPrometheus(ctx, backend.WithScrapeInterval(cfg.ScrapeInterval), backend.WithLogger(s.log),
			backend.WithScrape(backend.ScrapeConfig{Job: scrapeJob, FileSD: true, HonorLabels: true}))
		if err != nil {
			return fmt.Errorf("compare: %w (or give --prometheus-url)", err)
		}
		s.closers = append(s.closers, p.Stop)
		promURL, s.fileSD = p.URL, p.FileSDPath(scrapeJob)
	}
	var err error
	if s.prom, err = backend.NewPromQL(promURL); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	if err := s.startPushgateway(ctx); err != nil {
		return err
	}
	return s.proxyRemoteWrite(promURL)
}

// startPushgateway starts the Pushgateway (unless given by URL) and a
// counting proxy in front of it for each Pushgateway strategy.
func (s *experiment) startPushgateway(ctx context.Context) error {
	base := s.cfg.PushgatewayURL
	if base == "" && (s.cfg.has(Pushgateway) || s.cfg.has(PushgatewayInstance)) {
		s.cfg.Progress("starting Pushgateway")
		p, err := backend.StartPushgateway(ctx, backend.WithLogger(s.log))
		if err != nil {
			return fmt.Errorf("compare: %w (or give --pushgateway-url)", err)
		}
		s.closers = append(s.closers, p.Stop)
		base = p.URL
	}
	if base == "" {
		return nil
	}
	s.pgAddr = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSuffix(base, "/"), "http://"), "https://")
	for _, st := range []Strategy{Pushgateway, PushgatewayInstance} {
		px, err := newCountingProxy(base, s.traffic[st], s.log)
		if err != nil {
			return fmt.Errorf("compare: pushgateway proxy: %w", err)
		}
		s.closers = append(s.closers, px.Close)
		s.pgURL[st] = px.URL()
	}
	return nil
}

// proxyRemoteWrite sends remote_write (that of the remote-write strategy,
// and the extension's) through a counting proxy each, except when it is
// signed (SigV4 signs the Host header) or carries credentials: then its
// requests and bytes are not counted.
func (s *experiment) proxyRemoteWrite(promURL string) error {
	target := s.cfg.RemoteWriteURL
	if target == "" {
		target = strings.TrimSuffix(promURL, "/") + "/api/v1/write"
	}
	var err error
	if s.rwURL, s.rwCounted, err = s.countedURL(target, RemoteWrite); err != nil {
		return err
	}
	if s.cfg.has(Extension) {
		s.extRWURL, _, err = s.countedURL(target, Extension)
	}
	return err
}

// countedURL returns the URL of a counting proxy in front of target for
// strategy st, or target itself (false) when it is signed or carries
// credentials.
func (s *experiment) countedURL(target string, st Strategy) (string, bool, error) {
	u, err := url.Parse(target)
	if err != nil || s.cfg.SigV4Region != "" || u.User != nil {
		return target, false, nil
	}
	px, err := newCountingProxy(u.Scheme+"://"+u.Host, s.traffic[st], s.log)
	if err != nil {
		return "", false, fmt.Errorf("compare: %s remote write proxy: %w", st, err)
	}
	s.closers = append(s.closers, px.Close)
	return px.URL() + u.RequestURI(), true, nil
}

// startPipeline sets up parsing: the pipeline's point handler is the
// ground truth and routes every point to the environment's own
// aggregations; the pipeline's aggregator is the aggregate strategy,
// served on its own endpoint. Then it writes the first scrape targets.
func (s *experiment) startPipeline() error {
	s.truth = aggregate.New(aggregate.WithMixedLabelSets(true), aggregate.WithFunctionLabel("function_name"),
		// The truth is never limited: the strategies are compared with all of it.
		aggregate.WithMaxSeries(0), aggregate.WithMaxSeriesPerFamily(0))
	// The session owns the lifecycle: the runner is its source, closed
	// first at the end (in-flight invocations cut at once, as the run is
	// over), then the parsers finish. Its own sinks are none: each strategy
	// delivers through the environment's own state.
	var err error
	s.sess, err = session.New(nil, session.WithLogger(s.log), session.WithPointHandler(s.point), session.WithDrainTimeout(0),
		session.WithPipelineOptions(pipeline.WithAggregateOptions(aggregate.WithConstLabels(metric.Label{Name: Label, Value: string(Aggregate)}))))
	if err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	s.pipe = s.sess.Pipeline()
	s.dgFunc = s.pipe.DatagramFunc(s.cfg.Function)
	if s.cfg.has(Aggregate) {
		if err := s.serveAggregate(); err != nil {
			return err
		}
	}
	if err := s.writeTargets(); err != nil {
		return err
	}
	s.closers = append(s.closers, s.clearTargets)
	return nil
}

// serveAggregate serves the pipeline's aggregation on a loopback /metrics
// and counts what Prometheus scrapes from it.
func (s *experiment) serveAggregate() error {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("compare: aggregate endpoint: %w", err)
	}
	srv, err := scrape.New(ln.Addr().String(), scrape.WithGatherers(s.pipe.Gatherer()))
	if err != nil {
		ln.Close()
		return fmt.Errorf("compare: %w", err)
	}
	h := srv.Handler()
	hs := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &countingWriter{ResponseWriter: w}
		h.ServeHTTP(cw, r)
		if r.URL.Path == "/metrics" {
			s.traffic[Aggregate].requests.Add(1)
			s.traffic[Aggregate].bytes.Add(cw.n)
		}
	})}
	go hs.Serve(ln) //nolint:errcheck // ends at Close
	s.closers = append(s.closers, func() { hs.Close() })
	s.aggAddr = ln.Addr().String()
	return nil
}

// clearTargets empties the file-SD file once the run is over (after the
// runner closed: no target is left to scrape).
func (s *experiment) clearTargets() {
	s.envMu.Lock()
	s.sdDone = true
	s.envMu.Unlock()
	if s.fileSD == "" {
		return
	}
	if err := backend.WriteTargets(s.fileSD, nil); err != nil {
		s.log.Warn("clearing scrape targets", "err", err)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

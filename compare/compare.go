package compare

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/compare/backend"
	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/listen"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/pipeline"
	"github.com/lambdabridge/lambdabridge/runner"
	"github.com/lambdabridge/lambdabridge/scrape"
)

// Config is one comparison run.
type Config struct {
	// Defs are the functions the runner knows; Function is the one to run.
	Defs     []function.Definition
	Function string
	// Events are the payloads, used in turn (none: "{}").
	Events [][]byte
	// Strategies to compare (default AllStrategies).
	Strategies []Strategy

	// Duration of the workload (default 30s): bursts of Burst (default 3s)
	// separated by quiet periods of Quiet (default IdleTimeout + 1s, so
	// that every environment is recycled between bursts).
	Duration, Burst, Quiet time.Duration
	// Concurrency is the number of environments that may run at once
	// (default 4); during a burst that many callers invoke back to back,
	// unless Rate (invocations per second) is set.
	Concurrency int
	Rate        float64
	// IdleTimeout recycles idle environments (default 2s, far shorter than
	// Lambda's, so that recycling happens within the run).
	IdleTimeout time.Duration
	// ScrapeInterval of Prometheus (default 5s).
	ScrapeInterval time.Duration
	// Settle is how long to wait after the workload before reading the
	// results (default 2 scrape intervals + 2s).
	Settle time.Duration
	// MonthlyInvocations scales the cost estimate (default 10 million).
	MonthlyInvocations int64
	// Region is the AWS_REGION given to the function.
	Region string

	// PrometheusURL and PushgatewayURL use running backends instead of
	// starting them. A Prometheus given by URL must read FileSD (a
	// file_sd_configs job with honor_labels: true) to scrape the targets
	// and must have the remote-write receiver on.
	PrometheusURL, PushgatewayURL string
	FileSD                        string
	// RemoteWriteURL overrides Prometheus' receiver (for example Amazon
	// Managed Prometheus, with SigV4Region); results are still read from
	// PrometheusURL.
	RemoteWriteURL, SigV4Region string

	// Logger (default: discard); Progress, when set, gets a line per phase.
	Logger   *slog.Logger
	Progress func(msg string)
}

func (c *Config) defaults() error {
	if c.Function == "" {
		if len(c.Defs) != 1 {
			return errors.New("compare: no function given")
		}
		c.Function = c.Defs[0].Name
	}
	found := false
	for _, d := range c.Defs {
		found = found || d.Name == c.Function
	}
	if !found {
		return fmt.Errorf("compare: no function %q", c.Function)
	}
	if len(c.Strategies) == 0 {
		c.Strategies = slices.Clone(AllStrategies)
	}
	if c.Duration <= 0 {
		c.Duration = 30 * time.Second
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 2 * time.Second
	}
	if c.Burst <= 0 {
		c.Burst = 3 * time.Second
	}
	if c.Quiet <= 0 {
		c.Quiet = c.IdleTimeout + time.Second
	}
	if c.ScrapeInterval <= 0 {
		c.ScrapeInterval = 5 * time.Second
	}
	if c.Settle <= 0 {
		c.Settle = 2*c.ScrapeInterval + 2*time.Second
	}
	if c.MonthlyInvocations <= 0 {
		c.MonthlyInvocations = 10_000_000
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Progress == nil {
		c.Progress = func(string) {}
	}
	if c.PrometheusURL != "" && c.FileSD == "" && (c.has(Scrape) || c.has(Aggregate) || c.has(Pushgateway) || c.has(PushgatewayInstance)) {
		return errors.New("compare: with a Prometheus given by URL, give the file-SD file it reads (FileSD) so that it scrapes the environments, the aggregate and the Pushgateway")
	}
	return nil
}

func (c *Config) has(s Strategy) bool { return slices.Contains(c.Strategies, s) }

// session is the state of one run.
type session struct {
	ctx        context.Context // the run's: ends in-invocation deliveries when the run is cancelled
	cfg        Config
	strategies []Strategy
	log        *slog.Logger
	pipe       *pipeline.Pipeline
	truth      *aggregate.Aggregator
	prom       *backend.PromQL
	fileSD     string
	rwURL      string
	pgURL      map[Strategy]string
	rwCounted  bool   // remote_write goes through the counting proxy
	pgAddr     string // host:port of the Pushgateway, a scrape target
	aggAddr    string // host:port of the aggregate endpoint
	traffic    map[Strategy]*traffic

	dgMu  sync.Mutex // serializes datagrams, so dgEnv names the sender
	dgEnv string

	emitMu    sync.Mutex
	emissions []emission
	lastGauge map[string]float64

	envMu      sync.Mutex
	sdMu       sync.Mutex // serializes writes of the file-SD file
	envs       map[string]*envState
	order      []*envState
	envErr     error
	lastPusher string
	sdDone     bool // the run is over: the file-SD file stays empty

	billedMu     sync.Mutex
	billedAdded  map[Strategy]float64 // ms over all invocations
	inlineTime   map[Strategy]time.Duration
	inlineCount  map[Strategy]int
	invocations  int
	coldStarts   int
	failed       int
	durationSum  time.Duration
	billedSum    time.Duration
	inlineErrors map[Strategy]int
}

// emission is what the function emitted at one moment, in count units
// (counter increments and histogram observations).
type emission struct {
	t     time.Time
	units float64
}

// Run runs the comparison and returns its report. It starts the backends
// it needs (unless given by URL) and stops them, with every environment,
// before it returns.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := &session{ctx: ctx, cfg: cfg, strategies: cfg.Strategies, log: cfg.Logger,
		pgURL: map[Strategy]string{}, traffic: map[Strategy]*traffic{},
		lastGauge: map[string]float64{}, envs: map[string]*envState{},
		billedAdded: map[Strategy]float64{}, inlineTime: map[Strategy]time.Duration{}, inlineCount: map[Strategy]int{},
		inlineErrors: map[Strategy]int{}}
	for _, st := range AllStrategies {
		s.traffic[st] = &traffic{}
	}
	var closers []func()
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}()

	// Backends.
	promURL := cfg.PrometheusURL
	s.fileSD = cfg.FileSD
	if promURL == "" {
		cfg.Progress("starting Prometheus")
		p, err := backend.StartPrometheus(ctx, backend.PrometheusConfig{ScrapeInterval: cfg.ScrapeInterval, Logger: s.log})
		if err != nil {
			return nil, fmt.Errorf("compare: %w (or give --prometheus-url)", err)
		}
		closers = append(closers, p.Stop)
		promURL, s.fileSD = p.URL, p.FileSD
	}
	var err error
	if s.prom, err = backend.NewPromQL(promURL); err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	pgBase := cfg.PushgatewayURL
	if pgBase == "" && (cfg.has(Pushgateway) || cfg.has(PushgatewayInstance)) {
		cfg.Progress("starting Pushgateway")
		p, err := backend.StartPushgateway(ctx, s.log)
		if err != nil {
			return nil, fmt.Errorf("compare: %w (or give --pushgateway-url)", err)
		}
		closers = append(closers, p.Stop)
		pgBase = p.URL
	}
	if pgBase != "" {
		s.pgAddr = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSuffix(pgBase, "/"), "http://"), "https://")
		for _, st := range []Strategy{Pushgateway, PushgatewayInstance} {
			px, err := newCountingProxy(pgBase, s.traffic[st])
			if err != nil {
				return nil, fmt.Errorf("compare: pushgateway proxy: %w", err)
			}
			closers = append(closers, px.Close)
			s.pgURL[st] = px.URL()
		}
	}
	// remote_write goes through a counting proxy, except when it is signed
	// (SigV4 signs the Host header) or carries credentials: then requests
	// and bytes are not counted.
	s.rwURL = cfg.RemoteWriteURL
	if s.rwURL == "" {
		s.rwURL = strings.TrimSuffix(promURL, "/") + "/api/v1/write"
	}
	if u, err := url.Parse(s.rwURL); err == nil && cfg.SigV4Region == "" && u.User == nil {
		px, err := newCountingProxy(u.Scheme+"://"+u.Host, s.traffic[RemoteWrite])
		if err != nil {
			return nil, fmt.Errorf("compare: remote write proxy: %w", err)
		}
		closers = append(closers, px.Close)
		s.rwURL = px.URL() + u.RequestURI()
		s.rwCounted = true
	}

	// Parsing: the pipeline's point handler is the ground truth and routes
	// every point to the environment's own aggregations; the pipeline's
	// aggregator is the aggregate strategy.
	s.truth = aggregate.New(aggregate.WithMixedLabelSets(true), aggregate.WithFunctionLabel("function_name"))
	s.pipe, err = pipeline.New(pipeline.WithLogger(s.log), pipeline.WithPointHandler(s.point),
		pipeline.WithAggregateOptions(aggregate.WithConstLabels(metric.Label{Name: Label, Value: string(Aggregate)})))
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	if cfg.has(Aggregate) {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("compare: aggregate endpoint: %w", err)
		}
		srv, err := scrape.New(ln.Addr().String(), scrape.WithGatherers(s.pipe.Gatherer()))
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("compare: %w", err)
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
		closers = append(closers, func() { hs.Close() })
		s.aggAddr = ln.Addr().String()
	}
	if err := s.writeTargets(); err != nil {
		return nil, err
	}
	closers = append(closers, func() {
		// Runs after the runner closed: no target is left to scrape.
		s.envMu.Lock()
		s.sdDone = true
		s.envMu.Unlock()
		if s.fileSD == "" {
			return
		}
		if err := backend.WriteTargets(s.fileSD, nil); err != nil {
			s.log.Warn("clearing scrape targets", "err", err)
		}
	})

	r, err := runner.New(cfg.Defs,
		runner.WithLogSink(s.pipe), runner.WithConcurrency(cfg.Concurrency),
		runner.WithIdleTimeout(cfg.IdleTimeout), runner.WithRegion(regionOr(cfg.Region)),
		runner.WithLogger(s.log), runner.WithLifecycle(s.lifecycle), runner.WithEnvironmentVars(s.envVars))
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	runnerClosed := false
	closeRunner := func() {
		if !runnerClosed {
			runnerClosed = true
			r.Close()
		}
	}
	closers = append(closers, func() {
		closeRunner()
		s.envMu.Lock()
		envs := slices.Clone(s.order)
		s.envMu.Unlock()
		for _, e := range envs {
			e.close()
		}
	})

	// Let Prometheus discover the static targets first.
	if err := sleep(ctx, min(cfg.ScrapeInterval, 2*time.Second)); err != nil {
		return nil, err
	}
	def, _ := r.Definition(cfg.Function)
	start := time.Now()
	cfg.Progress(fmt.Sprintf("running %s for %v: bursts of %v at concurrency %d, quiet %v, idle timeout %v, scrape interval %v",
		cfg.Function, cfg.Duration, cfg.Burst, cfg.Concurrency, cfg.Quiet, cfg.IdleTimeout, cfg.ScrapeInterval))
	if err := s.drive(ctx, r); err != nil {
		return nil, err
	}
	driveEnd := time.Now()
	cfg.Progress(fmt.Sprintf("%d invocations in %d environments; waiting %v for the last scrapes", s.invocations, len(s.order), cfg.Settle))
	if err := sleep(ctx, cfg.Settle); err != nil {
		return nil, err
	}
	end := time.Now()
	s.envMu.Lock()
	envErr := s.envErr
	s.envMu.Unlock()
	if envErr != nil {
		return nil, envErr
	}
	cfg.Progress("reading back through PromQL")
	rep, err := s.analyze(ctx, def, start, driveEnd, end)
	if err != nil {
		return nil, err
	}
	return rep, nil
}

func regionOr(r string) string {
	if r == "" {
		return "us-east-1"
	}
	return r
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

// drive runs the workload: bursts and quiet periods until Duration.
func (s *session) drive(ctx context.Context, r *runner.Runner) error {
	cfg := s.cfg
	deadline := time.Now().Add(cfg.Duration)
	events := cfg.Events
	if len(events) == 0 {
		events = [][]byte{[]byte("{}")}
	}
	var next int
	var nextMu sync.Mutex
	payload := func() []byte {
		nextMu.Lock()
		defer nextMu.Unlock()
		p := events[next%len(events)]
		next++
		return p
	}
	one := func() {
		res, err := r.Invoke(ctx, cfg.Function, runner.Request{Payload: payload()})
		if err != nil || res == nil {
			return
		}
		s.count(res)
	}
	for time.Now().Before(deadline) && ctx.Err() == nil {
		burstEnd := time.Now().Add(cfg.Burst)
		if burstEnd.After(deadline) {
			burstEnd = deadline
		}
		var wg sync.WaitGroup
		if cfg.Rate > 0 {
			iv := time.Duration(float64(time.Second) / cfg.Rate)
			for t := time.Now(); t.Before(burstEnd) && ctx.Err() == nil; t = t.Add(iv) {
				if err := sleep(ctx, time.Until(t)); err != nil {
					break
				}
				wg.Add(1)
				go func() { defer wg.Done(); one() }()
			}
		} else {
			for range cfg.Concurrency {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for time.Now().Before(burstEnd) && ctx.Err() == nil {
						one()
					}
				}()
			}
		}
		wg.Wait()
		if !time.Now().Add(cfg.Quiet).Before(deadline) {
			break
		}
		if err := sleep(ctx, cfg.Quiet); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// count records an invocation's outcome.
func (s *session) count(res *runner.Result) {
	s.billedMu.Lock()
	defer s.billedMu.Unlock()
	s.invocations++
	if res.ColdStart {
		s.coldStarts++
	}
	if res.Failed() {
		s.failed++
	}
	s.durationSum += res.Duration
	s.billedSum += res.BilledDuration
}

// deliverInline is what the environment does at the end of an invocation
// for the inline strategies: remote_write its series, push to the
// Pushgateway. It runs before the runner puts the environment back in the
// warm pool (runner.EnvInvoked), so the environment's next invocation
// waits for it, as it would on Lambda. Each delivery is timed: on Lambda
// that time is billed.
func (s *session) deliverInline(e *envState, res *runner.Result) {
	if !slices.ContainsFunc(s.strategies, Strategy.inline) {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	// The delivery is part of the invocation: on Lambda the environment is
	// thawed while it runs (its /metrics answers), and frozen after.
	if wasFrozen := e.setThawed(); wasFrozen {
		defer e.setFrozen()
	}
	e.syncDatagrams(time.Second)
	for _, st := range []Strategy{RemoteWrite, Pushgateway, PushgatewayInstance} {
		if e.aggs[st] == nil {
			continue
		}
		t0 := time.Now()
		var err error
		switch st {
		case RemoteWrite:
			err = e.rw.Flush(ctx)
		case Pushgateway:
			err = e.pg.Push(ctx, e.aggs[st])
			s.envMu.Lock()
			s.lastPusher = e.id
			s.envMu.Unlock()
		case PushgatewayInstance:
			err = e.pgi.Push(ctx, e.aggs[st])
		}
		d := time.Since(t0)
		s.billedMu.Lock()
		s.billedAdded[st] += addedBilledMs(res.Duration, d)
		s.inlineTime[st] += d
		s.inlineCount[st]++
		if err != nil {
			s.inlineErrors[st]++
		}
		s.billedMu.Unlock()
		if err != nil {
			s.log.Warn("in-invocation delivery failed", "strategy", st, "environment", e.id, "err", err)
		}
	}
}

// addedBilledMs is how many billed milliseconds d adds to an invocation
// of duration dur (Lambda bills in 1 ms steps, rounding up).
func addedBilledMs(dur, d time.Duration) float64 {
	ceil := func(x time.Duration) float64 { return math.Ceil(float64(x) / float64(time.Millisecond)) }
	return ceil(dur+d) - ceil(dur)
}

// envVars creates the environment's state before its process starts and
// points the function's DogStatsD client at the environment's own listener.
func (s *session) envVars(fn, id string) []string {
	if fn != s.cfg.Function {
		return nil
	}
	e, err := s.newEnvState(id)
	s.envMu.Lock()
	defer s.envMu.Unlock()
	if err != nil {
		s.envErr = errors.Join(s.envErr, err)
		return nil
	}
	s.envs[id] = e
	s.order = append(s.order, e)
	vars := listen.DogStatsDEnv(e.dsd.Addr())
	env := make([]string, 0, len(vars))
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		env = append(env, k+"="+vars[k])
	}
	return env
}

func (s *session) lifecycle(ev runner.EnvEvent) {
	s.envMu.Lock()
	e := s.envs[ev.Environment]
	s.envMu.Unlock()
	if e == nil {
		return
	}
	switch ev.Kind {
	case runner.EnvStarted:
		e.setStarted(ev.Time)
		s.targetsChanged()
	case runner.EnvThawed:
		e.setThawed()
	case runner.EnvFrozen:
		e.setFrozen()
	case runner.EnvInvoked:
		if ev.Result != nil {
			s.deliverInline(e, ev.Result)
		}
	case runner.EnvEnded:
		e.setEnded(ev.Time, ev.Reason)
		s.targetsChanged()
	}
}

func (s *session) targetsChanged() {
	if err := s.writeTargets(); err != nil {
		s.log.Warn("updating scrape targets", "err", err)
	}
}

// writeTargets writes the file-SD file: the aggregate endpoint, the
// Pushgateway and every live environment's /metrics.
func (s *session) writeTargets() error {
	// Environments start and end concurrently: one writer at a time, so the
	// last list written is the newest one.
	s.sdMu.Lock()
	defer s.sdMu.Unlock()
	var ts []backend.Target
	if s.aggAddr != "" {
		ts = append(ts, backend.Target{Addr: s.aggAddr})
	}
	if s.pgAddr != "" {
		ts = append(ts, backend.Target{Addr: s.pgAddr})
	}
	s.envMu.Lock()
	if s.sdDone {
		s.envMu.Unlock()
		return nil
	}
	for _, e := range s.order {
		e.mu.Lock()
		alive := e.alive
		e.mu.Unlock()
		if alive && e.metricsAddr() != "" {
			ts = append(ts, backend.Target{Addr: e.metricsAddr()})
		}
	}
	s.envMu.Unlock()
	if s.fileSD == "" {
		return nil
	}
	return backend.WriteTargets(s.fileSD, ts)
}

// datagram hands one DogStatsD datagram of environment id to the pipeline.
func (s *session) datagram(id string, payload []byte, from netip.AddrPort) {
	s.dgMu.Lock()
	defer s.dgMu.Unlock()
	s.dgEnv = id
	s.pipe.DatagramFunc(s.cfg.Function)(payload, from) // the aggregate strategy labels by function too
	s.dgEnv = ""
}

// point is the pipeline's point handler (calls are serialized): the
// ground truth, and the routing to the environment's aggregations.
func (s *session) point(pt *metric.Point) {
	if pt.Format == metric.FormatPlatform {
		return
	}
	if pt.Origin.Environment == "" && strings.HasPrefix(pt.Origin.Source, "udp://") {
		pt.Origin.Environment = s.dgEnv
		pt.Origin.Function = s.cfg.Function
	}
	s.truth.Add(pt)
	fam := metric.Translate(pt)
	units := 0.0
	switch fam.Type {
	case metric.TypeCounter:
		w := pt.Weight()
		if math.IsNaN(w) || math.IsInf(w, 0) || w < 1 {
			w = 1
		}
		for _, v := range pt.Values {
			if v >= 0 {
				units += v * w
			}
		}
	case metric.TypeHistogram, metric.TypeSummary:
		w := pt.Weight()
		if math.IsNaN(w) || math.IsInf(w, 0) || w <= 1 {
			w = 1
		}
		units = float64(len(pt.Values)) * math.Round(w)
	}
	s.emitMu.Lock()
	if fam.Type == metric.TypeGauge && len(pt.Values) > 0 {
		s.lastGauge[fam.Name] = pt.Values[len(pt.Values)-1] * fam.Scale
	}
	if units > 0 {
		s.emissions = append(s.emissions, emission{t: time.Now(), units: units})
	}
	s.emitMu.Unlock()
	s.envMu.Lock()
	e := s.envs[pt.Origin.Environment]
	s.envMu.Unlock()
	if e == nil {
		return
	}
	for _, agg := range e.aggs {
		agg.Add(pt)
	}
}

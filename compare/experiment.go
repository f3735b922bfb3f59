package compare

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/compare/analysis"
	"github.com/lambdabridge/lambdabridge/compare/backend"
	"github.com/lambdabridge/lambdabridge/listen"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/pipeline"
	"github.com/lambdabridge/lambdabridge/runner"
	"github.com/lambdabridge/lambdabridge/session"
)

// experiment is the state of one run, and the raw
// observations it records for the analysis (emissions, invocations,
// environments' lives, each strategy's deliveries and traffic).
type experiment struct {
	ctx        context.Context // the run's: ends in-invocation deliveries when the run is cancelled
	cfg        Config
	strategies []Strategy
	log        *slog.Logger
	closers    []func()           // run in reverse order by close
	sess       *session.Session   // the lifecycle: runner, parsing, shutdown order
	pipe       *pipeline.Pipeline // sess's: parsing, truth, the aggregate strategy
	truth      *aggregate.Aggregator
	prom       *backend.PromQL
	fileSD     string
	rwURL      string
	pgURL      map[Strategy]string
	rwCounted  bool   // remote_write goes through the counting proxy
	extRWURL   string // where the extension writes
	extConfig  string // the extension's configuration file
	pgAddr     string // host:port of the Pushgateway, a scrape target
	aggAddr    string // host:port of the aggregate endpoint
	traffic    map[Strategy]*traffic

	dgMu  sync.Mutex // serializes datagrams, so dgEnv names the sender
	dgEnv string
	// dgFunc is pipe's DogStatsD handler (made once: it keeps the text of
	// the sender's address between datagrams)
	dgFunc func(payload []byte, from netip.AddrPort)

	emitMu    sync.Mutex
	emissions []analysis.Emission
	lastGauge map[string]float64

	envMu      sync.Mutex
	sdMu       sync.Mutex // serializes writes of the file-SD file
	envs       map[string]*envState
	order      []*envState
	envErr     error
	lastPusher string
	sdDone     bool // the run is over: the file-SD file stays empty

	obsMu       sync.Mutex
	invocations []analysis.Invocation
	deliveries  map[Strategy][]analysis.Delivery
	invokeErrs  int   // invocations that could not run
	firstErr    error // the first of them
	throttled   int
}

func newExperiment(ctx context.Context, cfg Config) *experiment {
	s := &experiment{ctx: ctx, cfg: cfg, strategies: cfg.Strategies, log: cfg.Logger,
		pgURL: map[Strategy]string{}, traffic: map[Strategy]*traffic{},
		lastGauge: map[string]float64{}, envs: map[string]*envState{}, deliveries: map[Strategy][]analysis.Delivery{}}
	for _, st := range AllStrategies {
		s.traffic[st] = &traffic{}
	}
	return s
}

// close releases everything the run set up, the newest first.
func (s *experiment) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// environments returns every environment created so far.
func (s *experiment) environments() []*envState {
	s.envMu.Lock()
	defer s.envMu.Unlock()
	return slices.Clone(s.order)
}

func (s *experiment) closeEnvironments() {
	for _, e := range s.environments() {
		e.close()
	}
}

// drive runs the workload with runner.Drive: bursts of Burst, each until
// its end, separated by quiet periods, until Duration. The payloads go on
// in turn from one burst to the next.
func (s *experiment) drive(ctx context.Context, r *runner.Runner) error {
	cfg := s.cfg
	deadline := time.Now().Add(cfg.Duration)
	events := cfg.Events
	if len(events) == 0 {
		events = [][]byte{[]byte("{}")}
	}
	next := 0
	for ctx.Err() == nil && time.Now().Before(deadline) {
		burstEnd := time.Now().Add(cfg.Burst)
		if burstEnd.After(deadline) {
			burstEnd = deadline
		}
		var mu sync.Mutex
		calls := 0
		load := runner.Load{Function: cfg.Function, Rate: cfg.Rate, Workers: cfg.Concurrency,
			Events: append(slices.Clone(events[next%len(events):]), events[:next%len(events)]...),
			Until:  burstEnd,
			OnResult: func(_ int, res *runner.Result, err error) {
				mu.Lock()
				calls++
				mu.Unlock()
				s.result(ctx, res, err)
			}}
		_, _ = r.Drive(ctx, load) // errors are recorded by s.result
		next += calls
		if ctx.Err() != nil || !time.Now().Add(cfg.Quiet).Before(deadline) {
			break
		}
		if err := sleep(ctx, cfg.Quiet); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// result records an invocation's outcome.
func (s *experiment) result(ctx context.Context, res *runner.Result, err error) {
	s.obsMu.Lock()
	defer s.obsMu.Unlock()
	switch {
	case errors.Is(err, runner.ErrThrottled):
		s.throttled++
	case err != nil && ctx.Err() == nil:
		s.invokeErrs++
		if s.firstErr == nil {
			s.firstErr = err
		}
	case err == nil && res != nil:
		s.invocations = append(s.invocations, analysis.Invocation{ColdStart: res.ColdStart, Failed: res.Failed(),
			Duration: res.Duration, Billed: res.BilledDuration})
	}
}

// deliverInline is what the environment does at the end of an invocation
// for the inline strategies: remote_write its series, push to the
// Pushgateway. It runs before the runner puts the environment back in the
// warm pool (runner.EnvInvoked), so the environment's next invocation
// waits for it, as it would on Lambda. Each delivery is timed: on Lambda
// that time is billed.
func (s *experiment) deliverInline(e *envState, res *runner.Result) {
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
		err := s.deliver(ctx, e, st)
		d := analysis.Delivery{Invocation: res.Duration, Took: time.Since(t0), Failed: err != nil}
		s.obsMu.Lock()
		s.deliveries[st] = append(s.deliveries[st], d)
		s.obsMu.Unlock()
		if err != nil {
			s.log.Warn("in-invocation delivery failed", "strategy", st, "environment", e.id, "err", err)
		}
	}
}

// deliver sends the environment's series for one inline strategy.
func (s *experiment) deliver(ctx context.Context, e *envState, st Strategy) error {
	switch st {
	case RemoteWrite:
		return e.rw.Flush(ctx)
	case Pushgateway:
		err := e.pg.Push(ctx, e.aggs[st])
		s.envMu.Lock()
		s.lastPusher = e.id
		s.envMu.Unlock()
		return err
	case PushgatewayInstance:
		return e.pgi.Push(ctx, e.aggs[st])
	}
	return fmt.Errorf("strategy %s does not deliver inline", st)
}

// envVars creates the environment's state before its process starts and
// points the function's DogStatsD client, whichever variables it reads, at
// the environment's own listener.
func (s *experiment) envVars(fn, id string) []string {
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
	env := clientEnv(e.dsd.Addr())
	if e.ext != nil {
		env = append(env, s.extensionEnv(e.ext.RemoteAddr().String())...)
	}
	return env
}

// clientEnv is listen.DogStatsDClientEnv as NAME=value pairs, sorted.
func clientEnv(addr netip.AddrPort) []string {
	env := listen.DogStatsDClientEnv(addr)
	var out []string
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

func (s *experiment) lifecycle(ev runner.EnvEvent) {
	s.envMu.Lock()
	e := s.envs[ev.Environment]
	s.envMu.Unlock()
	if e == nil {
		return
	}
	switch ev.Kind {
	case runner.EnvStarted:
		e.setStarted(ev.Time, ev.LogStream)
		s.targetsChanged()
	case runner.EnvThawed:
		e.setThawed()
	case runner.EnvFrozen:
		e.setFrozen()
	case runner.EnvInvoked:
		if ev.Result != nil {
			s.extensionAdded(ev.Result)
			s.deliverInline(e, ev.Result)
		}
	case runner.EnvEnded:
		e.setEnded(ev.Time, ev.Reason)
		s.targetsChanged()
	}
}

func (s *experiment) targetsChanged() {
	if err := s.writeTargets(); err != nil {
		s.log.Warn("updating scrape targets", "err", err)
	}
}

// writeTargets writes the file-SD file: the aggregate endpoint, the
// Pushgateway and every live environment's /metrics.
func (s *experiment) writeTargets() error {
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
func (s *experiment) datagram(id string, payload []byte, from netip.AddrPort) {
	s.dgMu.Lock()
	defer s.dgMu.Unlock()
	s.dgEnv = id
	s.dgFunc(payload, from) // the aggregate strategy labels by function too
	s.dgEnv = ""
}

// point is the pipeline's point handler (calls are serialized): it records
// the ground truth and the emission, and routes the point to the
// environment's aggregations.
func (s *experiment) point(pt *metric.Point) {
	if pt.Format == metric.FormatPlatform {
		return
	}
	if pt.Origin.Environment == "" && strings.HasPrefix(pt.Origin.Source, "udp://") {
		pt.Origin.Environment = s.dgEnv
		pt.Origin.Function = s.cfg.Function
	}
	s.truth.Add(pt)
	fam := metric.Translate(pt)
	units := countUnits(pt, fam.Type)
	s.emitMu.Lock()
	if fam.Type == metric.TypeGauge && len(pt.Values) > 0 {
		s.lastGauge[fam.Name] = pt.Values[len(pt.Values)-1] * fam.Scale
	}
	if units > 0 {
		s.emissions = append(s.emissions, analysis.Emission{T: time.Now(), Units: units})
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

// countUnits is what a point adds in count units: its counter increments
// or its observations, each times its sample weight.
func countUnits(pt *metric.Point, typ metric.Type) float64 {
	w := pt.Weight()
	if math.IsNaN(w) || math.IsInf(w, 0) || w < 1 {
		w = 1
	}
	units := 0.0
	switch typ {
	case metric.TypeCounter:
		for _, v := range pt.Values {
			if v >= 0 {
				units += v * w
			}
		}
	case metric.TypeHistogram, metric.TypeSummary:
		units = float64(len(pt.Values)) * math.Round(w)
	}
	return units
}

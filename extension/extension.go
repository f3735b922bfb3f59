package extension

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/lambdabridge/lambdabridge/listen"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/session"
)

// MetricOverhead is the family of the time each invocation lasted after
// the runtime's answer, as the platform measured it (platform.report's
// durationMs minus platform.runtimeDone's: Lambda's
// PostRuntimeExtensionsDuration), labelled by strategy: the time the
// extension adds to the invocation (or another extension, if it took
// longer). With the periodic strategy the extension does not take INVOKE
// events, and adds none of its own. Without the Telemetry API (the Runtime
// Interface Emulator) it is the extension's own measure: from the INVOKE
// event to its call to next.
const MetricOverhead = "lambdabridge_extension_overhead_seconds"

// MetricInit is the family of the extension's init time: from its
// process's start (its fork, as the kernel counts it) to its first call
// to next (its part of the init phase). Loading the program and the Go
// runtime's and packages' initialization are part of it.
const MetricInit = "lambdabridge_extension_init_seconds"

// processStart is when the process started.
var processStart = startTime(time.Now())

// reportWait bounds the wait, at SHUTDOWN, for the reports of the last
// invocations.
const reportWait = 300 * time.Millisecond

// teleTimeoutMs is the Telemetry API buffering asked for. The invocation
// strategy waits for runtimeDone: the smallest Lambda allows (25 ms). The
// periodic strategy waits for nothing: batches of up to a second (half
// the flush interval, if less) cost fewer requests per invocation, and
// the platform sends what it holds when the shutdown phase begins.
func teleTimeoutMs(cfg Config) int {
	if cfg.Flush != FlushPeriodic {
		return 25
	}
	return int(min(time.Second, max(25*time.Millisecond, cfg.FlushInterval/2)).Milliseconds())
}

// Option configures an Extension.
type Option func(*Extension)

// WithLogger sets the logger of the extension's own messages (default:
// text on standard output, which Lambda puts in the function's log).
func WithLogger(l *slog.Logger) Option { return func(x *Extension) { x.log = l } }

// WithRuntimeAPI sets the Extensions API address (default
// AWS_LAMBDA_RUNTIME_API, given to New by the binary).
func WithRuntimeAPI(addr string) Option { return func(x *Extension) { x.api = addr } }

// WithName sets Lambda-Extension-Name (the executable's file name).
func WithName(name string) Option { return func(x *Extension) { x.name = name } }

// WithVersion sets the version sent in remote_write's User-Agent.
func WithVersion(v string) Option { return func(x *Extension) { x.version = v } }

// Extension is one running extension: one per execution environment.
type Extension struct {
	cfg     Config
	cfgErr  error
	log     *slog.Logger
	api     string
	name    string
	version string
	out     io.Writer

	c    *client
	s    *session.Session
	recv *receiver
	// dmu serializes catchUp (drops, agentsDone, yielding).
	dmu sync.Mutex
	// drops is what catchUp last recorded of each agent listener's kernel
	// drops, by session.AgentStats.Name.
	drops map[string]*dropCount
	// agentsDone: the agent listeners were stopped and their final counts
	// recorded; catchUp, which a Telemetry batch may still call, records
	// nothing more.
	agentsDone bool
	// yielding: the threads are under SCHED_BATCH (Main); catchUp ends it
	// at the first datagram the kernel drops.
	yielding bool
	srv      *http.Server
	wg       sync.WaitGroup
	// noTelemetry: the subscription to the Telemetry API failed; no
	// runtimeDone or report will come.
	noTelemetry bool
}

// dropCount is what catchUp last recorded of one agent listener's kernel
// drops.
type dropCount struct {
	noted bool   // its counter was recorded once (from 0)
	last  uint64 // the kernel's count when last recorded
}

// dropFamilies are the families of the agent listeners' kernel drop
// counters, by session.AgentStats.Name.
var dropFamilies = map[string]string{"dogstatsd": listen.MetricDogStatsDDrops, "emf-agent": listen.MetricEMFAgentDrops}

// New returns an extension for cfg; cfgErr is Load's error: the extension
// then reports it in the function's log and stays out of the way.
func New(cfg Config, cfgErr error, opts ...Option) *Extension {
	x := &Extension{cfg: cfg, cfgErr: cfgErr, name: "lambdabridge-extension", version: "dev"}
	for _, o := range opts {
		o(x)
	}
	if x.log == nil {
		x.log = slog.New(slog.NewTextHandler(stdout{}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return x
}

// Run registers, starts the session and serves events until SHUTDOWN (or
// ctx ends). Only a failed registration or Extensions API is an error: a
// configuration or a sink that does not work is logged, and the extension
// calls next as usual.
func (x *Extension) Run(ctx context.Context) error {
	x.c = newClient(x.api, x.name)
	// The listeners are bound before registering: the runtime starts once
	// every extension registered, and its first datagram must find them.
	port, err := x.start(ctx)
	if err != nil {
		x.disable(err)
	}
	// Only the invocation strategy has work at each invocation: otherwise
	// the extension registers for SHUTDOWN alone, and Lambda never waits
	// for it while the function runs.
	events := []string{"SHUTDOWN"}
	if x.s != nil && x.cfg.Flush == FlushInvocation {
		events = []string{"INVOKE", "SHUTDOWN"}
	}
	if err := x.c.register(ctx, events); err != nil {
		x.abandon()
		return err
	}
	if x.s != nil {
		if err := x.c.subscribe(ctx, port, teleTimeoutMs(x.cfg)); err != nil {
			x.withoutTelemetry(err)
		}
		x.record(MetricInit, metric.Gauge, nil, time.Since(processStart))
	}
	for {
		ev, err := x.c.next(ctx)
		if err != nil {
			x.shutdown(context.Background(), "")
			return err
		}
		switch ev.EventType {
		case "INVOKE":
			x.invoke(ctx, &ev)
		case "SHUTDOWN":
			x.drain(ctx, &ev)
			return nil
		}
	}
}

// disable reports why the extension delivers nothing and stops what it
// started; it goes on calling next.
func (x *Extension) disable(err error) {
	x.log.Error("lambdabridge extension: metrics are not delivered; the function runs as usual", "err", err)
	x.abandon()
}

// withoutTelemetry goes on without the Telemetry API (the Runtime
// Interface Emulator has none): the agents are served and delivered, the
// function's log lines and the platform's events never reach the
// extension, and it says so in the function's log.
func (x *Extension) withoutTelemetry(err error) {
	x.log.Warn("lambdabridge extension: the Telemetry API is unavailable, so the metrics in the function's log lines "+
		"(EMF, MONITORING, Datadog JSON written to stdout) and the platform metrics (platform.report, platform.initReport) "+
		"are not collected; DogStatsD and the EMF agent endpoint are served and delivered", "err", err)
	x.noTelemetry = true
	_ = x.srv.Close()
}

// start builds the session, the agent listeners and the Telemetry API
// listener, and returns the latter's port.
func (x *Extension) start(ctx context.Context) (int, error) {
	if x.cfgErr != nil {
		return 0, fmt.Errorf("configuration: %w", x.cfgErr)
	}
	base := metric.Origin{Function: x.cfg.Function, Environment: x.cfg.Instance}
	s, err := session.New(x.cfg.sessionConfig(), session.WithLogger(x.log), session.WithVersion(x.version), session.WithFunction(x.cfg.Function),
		session.WithAgents(session.Agents{
			DogStatsD: x.cfg.DogStatsD, EMF: x.cfg.EMFAgent, DogStatsDFlag: EnvDogStatsDAddr, EMFFlag: EnvEMFAgentAddr,
			Origin: base, DogStatsDPoll: x.cfg.DogStatsDPoll, EMFPoll: x.cfg.EMFAgentPoll,
		}))
	if err != nil {
		return 0, err
	}
	x.s = s
	x.recv = newReceiver(s.Pipeline(), base, x.cfg.Architecture, x.log)
	x.recv.post = x.overhead
	x.recv.batched = x.catchUp
	x.recv.waits = x.cfg.Flush == FlushInvocation // it takes INVOKE events (Run)
	s.Start(ctx)
	x.catchUp() // the drop counters start at 0
	ln, err := listen.ListenTCP(net.JoinHostPort(telemetryHost(hostsFile), "0"))
	if err != nil {
		return 0, fmt.Errorf("telemetry listener: %w", err)
	}
	x.srv = &http.Server{Handler: x.recv, ReadHeaderTimeout: 5 * time.Second}
	x.wg.Go(func() { _ = x.srv.Serve(ln) })
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// catchUp does what the extension can do whenever it is awake anyway (at
// each Telemetry API batch, before each invocation's flush): it reads what
// the polled UDP sockets hold (DogStatsD's, read every DogStatsDPoll, and
// the EMF agent's, every EMFAgentPoll, not at each datagram), then records
// what the kernel dropped on the agents' sockets since the last call
// (noteDrops).
func (x *Extension) catchUp() {
	x.dmu.Lock()
	defer x.dmu.Unlock()
	if x.agentsDone {
		return
	}
	x.s.DrainAgents()
	x.noteDrops()
}

// noteDrops records what the kernel dropped on the agents' sockets since
// the last call (their receive buffers full: the extension read too
// slowly, or not at all while the environment was frozen) as the
// listeners' counters, delivered with the metrics. Reading a count costs
// well under a microsecond (SO_MEMINFO). The caller holds x.dmu.
func (x *Extension) noteDrops() {
	if x.drops == nil {
		x.drops = map[string]*dropCount{}
	}
	for _, st := range x.s.AgentStats() {
		c := x.drops[st.Name]
		if c == nil {
			c = &dropCount{}
			x.drops[st.Name] = c
		}
		n := st.KernelDropped
		if c.noted && n <= c.last {
			continue
		}
		x.count(dropFamilies[st.Name], n-c.last)
		c.noted, c.last = true, n
		if n > 0 && x.yielding {
			x.yielding = false
			if err := stopYielding(); err == nil {
				x.log.Warn("lambdabridge extension: the kernel dropped datagrams on an agent socket (its receive buffer was full); from now on the extension reads as soon as they come, even while the function runs on its CPU", "dropped", n)
			}
		}
	}
}

// stopAgents stops the agent listeners (after session.Settle, each reads
// what its socket holds) and records their final drop counts, before the
// session finishes its pipeline.
func (x *Extension) stopAgents() {
	x.s.StopAgents()
	x.dmu.Lock()
	defer x.dmu.Unlock()
	x.noteDrops()
	x.agentsDone = true
}

// invoke handles one INVOKE (the invocation strategy): it waits for the
// runtime's answer and delivers before returning (to next).
func (x *Extension) invoke(ctx context.Context, ev *event) {
	if x.s == nil {
		return
	}
	from := time.Now()
	dctx, cancel := deadline(ctx, ev.DeadlineMs, 50*time.Millisecond)
	defer cancel()
	if !x.noTelemetry {
		x.recv.invoked(ev.RequestID)
		x.recv.waitDone(dctx, ev.RequestID)
		x.recv.forget(ev.RequestID)
	}
	fctx, fcancel := context.WithTimeout(dctx, x.cfg.FlushTimeout)
	defer fcancel()
	x.catchUp()
	if err := x.s.Flush(fctx); err != nil {
		x.log.Warn("lambdabridge extension: flush", "err", err)
	}
	if x.noTelemetry { // no platform measure will come: the extension's own
		x.overhead(time.Since(from))
	}
}

// overhead records the time an invocation lasted after the runtime's
// answer, as the platform measured it.
func (x *Extension) overhead(d time.Duration) {
	x.record(MetricOverhead, metric.Histogram, []metric.Label{{Name: "strategy", Value: x.cfg.Flush}}, d)
}

// record hands the pipeline one point of the extension's own, in seconds.
func (x *Extension) record(name string, kind metric.Kind, labels []metric.Label, d time.Duration) {
	x.emit(selfPoint(x.cfg.Function, name, kind, labels), d.Seconds())
}

// count adds n to one of the extension's own counters.
func (x *Extension) count(name string, n uint64) {
	x.emit(selfPoint(x.cfg.Function, name, metric.Counter, nil), float64(n))
}

// emit hands the pipeline pt, of this environment, with value v now.
func (x *Extension) emit(pt metric.Point, v float64) {
	pt.Origin.Environment = x.cfg.Instance
	pt.Values, pt.TimeMs = []float64{v}, time.Now().UnixMilli()
	x.s.Pipeline().Platform(&pt)
}

// drain handles SHUTDOWN: it waits (within the deadline) for the telemetry
// still on its way and the reports of the invocations that have none yet,
// then delivers everything.
func (x *Extension) drain(ctx context.Context, ev *event) {
	if x.s == nil {
		return
	}
	if !x.noTelemetry {
		x.settle(ctx, ev)
	}
	sctx, cancel := deadline(ctx, ev.DeadlineMs, 100*time.Millisecond)
	defer cancel()
	x.shutdown(sctx, ev.ShutdownReason)
}

// settle waits, within SHUTDOWN's deadline and reportWait, for the
// telemetry still on its way.
func (x *Extension) settle(ctx context.Context, ev *event) {
	arrived := time.Now()
	wctx, cancel := deadline(ctx, ev.DeadlineMs, 400*time.Millisecond)
	defer cancel()
	wctx, cancel2 := context.WithTimeout(wctx, reportWait)
	defer cancel2()
	// Without INVOKE events only a batch sent after the shutdown phase
	// began tells that the telemetry is all in.
	var after time.Time
	if x.cfg.Flush != FlushInvocation {
		after = arrived
	}
	if left := x.recv.settle(wctx, after); left > 0 {
		x.log.Warn("lambdabridge extension: shutdown without the platform.report of some invocations", "invocations", left)
	}
}

// shutdown stops the listeners and the session and writes its summary in
// the function's log.
func (x *Extension) shutdown(ctx context.Context, reason string) {
	if x.s == nil {
		return
	}
	x.stopAgents()
	x.stopTelemetry()
	sum := x.s.ShutdownWithin(ctx)
	in := sum.Input
	msg := fmt.Sprintf("lambdabridge extension: shutdown (%s): %d lines, %d datagrams, %d points; ", reason, in.Lines, in.Datagrams, in.Points)
	var sent int64
	for _, st := range sum.Sinks {
		sent += st.Sent
	}
	msg += fmt.Sprintf("%d samples delivered, %d dropped", sent, sum.Dropped())
	for _, st := range sum.Sinks {
		if st.DroppedTotal() > 0 || st.LastError != "" {
			msg += fmt.Sprintf("; %s %s: dropped %v, last error %q", st.Kind, st.URL, st.Dropped, st.LastError)
		}
	}
	for _, l := range sum.InputLosses() {
		msg += "; " + l
	}
	fmt.Fprintln(x.stdout(), msg)
}

// stopTelemetry ends the Telemetry API listener.
func (x *Extension) stopTelemetry() {
	if x.srv != nil {
		_ = x.srv.Close() // what the platform sent was read; it sends no more
	}
	x.wg.Wait()
}

// abandon stops what start began: the extension goes on without metrics.
func (x *Extension) abandon() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	x.stopTelemetry()
	if x.s != nil {
		x.dmu.Lock()
		x.agentsDone = true
		x.dmu.Unlock()
		x.s.ShutdownWithin(ctx)
		x.s = nil
	}
}

func (x *Extension) stdout() io.Writer {
	if x.out != nil {
		return x.out
	}
	return stdout{}
}

// hostsFile is where telemetryHost looks the sandbox's name up.
const hostsFile = "/etc/hosts"

// telemetryHost is the host the Telemetry API listener binds:
// sandbox.localdomain where the hosts file names it (in Lambda's execution
// environment, where the platform delivers to that name), else 127.0.0.1.
// The name is never sent to a DNS resolver: off Lambda that would be a
// query beyond loopback.
func telemetryHost(hosts string) string {
	b, err := os.ReadFile(hosts)
	if err != nil {
		return "127.0.0.1"
	}
	for _, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.Fields(line)
		for _, f := range fields[min(1, len(fields)):] {
			if strings.EqualFold(f, "sandbox.localdomain") {
				return "sandbox.localdomain"
			}
		}
	}
	return "127.0.0.1"
}

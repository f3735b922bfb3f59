package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lambdabridge/lambdabridge/config"
	"github.com/lambdabridge/lambdabridge/events"
	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/runner"
	"github.com/lambdabridge/lambdabridge/session"
)

const runUsage = `--handler PATH | --template FILE  [--event FILE|- | --events FILE | --event-template NAME] [--invocations N] [flags]

Runs the function's events through execution environments managed the way
Lambda manages them (cold starts, warm reuse, freezing, --concurrency
environments at most, throttling beyond --reserved-concurrency), showing
progress (invocations done, errors, p50/p99 duration) and a summary table.

With events (--event, --events, --event-template or --invocations) and
without --serve, it exits when they are done: status 1 when any invocation
failed. With --serve, or without events, it serves Lambda's invoke API on
--api until interrupted:

  curl -d '{}' http://127.0.0.1:9001/2015-03-31/functions/NAME/invocations
  aws lambda invoke --endpoint-url http://127.0.0.1:9001 --function-name NAME out.json`

// runCommand holds the flags of run.
type runCommand struct {
	fn                                 funcFlags
	event                              eventFlags
	agents                             agentFlags
	sinks                              sinkFlags
	eventsFile, api, region, logs      string
	invocations, concurrency, reserved int
	rate                               float64
	idle, progress                     time.Duration
	noFreeze, serve                    bool
	// set records the runner flags given on the command line: they
	// override the configuration file's runner section.
	set struct{ concurrency, reserved, idle, noFreeze, api, region bool }
}

func registerRun(c *cli) {
	v := &runCommand{}
	cmd := c.command("run", "run a function's events locally with Lambda's concurrency, and serve the Lambda invoke API", runUsage, v.run)
	v.fn.register(cmd)
	v.event.register(cmd)
	eventsFileFlag(cmd, &v.eventsFile)
	cmd.Flag("invocations", "number of invocations (events are reused in turn; default one per event)").PlaceHolder("N").IntVar(&v.invocations)
	cmd.Flag("rate", "start this many invocations per second (default: back to back, --concurrency at a time)").PlaceHolder("PER_SECOND").Float64Var(&v.rate)
	cmd.Flag("concurrency", "execution environments that may run at once; more requests wait in a queue").Default("1").IsSetByUser(&v.set.concurrency).IntVar(&v.concurrency)
	cmd.Flag("reserved-concurrency", "reserved concurrency: requests beyond it are throttled (429); 0 means none").Default("0").IsSetByUser(&v.set.reserved).IntVar(&v.reserved)
	cmd.Flag("idle-timeout", "recycle an environment idle for this long").Default("5m").IsSetByUser(&v.set.idle).DurationVar(&v.idle)
	cmd.Flag("no-freeze", "do not freeze idle environments (SIGSTOP/SIGCONT)").IsSetByUser(&v.set.noFreeze).BoolVar(&v.noFreeze)
	cmd.Flag("serve", "serve the invoke API (after the events, if any) until interrupted").BoolVar(&v.serve)
	cmd.Flag("api", "loopback address of the invoke API").Default("127.0.0.1:9001").IsSetByUser(&v.set.api).StringVar(&v.api)
	regionFlag(cmd, "AWS_REGION given to the functions").IsSetByUser(&v.set.region).StringVar(&v.region)
	enum(cmd.Flag("logs", "function logs on standard error; auto: all when serving or for at most 20 invocations"), &v.logs, "auto", "all", "none", "auto")
	cmd.Flag("progress", "progress line interval (0: none)").Default("2s").DurationVar(&v.progress)
	v.agents.register(cmd)
	v.sinks.register(cmd)
}

func (v *runCommand) run(ctx context.Context, m *Main) error {
	if err := v.check(); err != nil {
		return err
	}
	cfg, err := v.sinks.load()
	if err != nil {
		return err
	}
	var defs []function.Definition
	var target string
	v.fn.region = v.region
	if v.fn.handler == "" && v.fn.template == "" && (len(cfg.Functions) > 0 || cfg.Template != "") {
		// The functions come from the configuration file.
		if defs, err = cfg.Definitions(); err != nil {
			return usageErrorf("%v", err)
		}
		target = v.fn.function
		if target == "" && len(defs) == 1 {
			target = defs[0].Name
		}
	} else if defs, target, err = v.fn.definitions(); err != nil {
		return err
	}
	warnDefinitions(m, defs)
	v.applyRunnerConfig(cfg.Runner)
	one, err := v.event.payload(m.Stdin)
	if err != nil {
		return err
	}
	var evs [][]byte
	if one != nil {
		evs = append(evs, one)
	}
	if v.eventsFile != "" {
		if one != nil {
			return usageErrorf("run: give --event/--event-template or --events, not both")
		}
		if evs, err = readEvents(m, v.eventsFile); err != nil {
			return err
		}
	}
	haveEvents := len(evs) > 0 || v.invocations > 0
	if haveEvents && target == "" {
		return usageErrorf("run: the template defines several functions, pick the one to send events to with --function")
	}
	if !v.serve && target != "" {
		// Only the target can be invoked: the others would still write
		// their platform series at zero, resetting the counters another
		// run of theirs left in a shared backend.
		defs = slices.DeleteFunc(defs, func(d function.Definition) bool { return d.Name != target })
	}
	total := v.invocations
	if total == 0 {
		total = len(evs)
	}
	var show atomic.Bool
	switch v.logs {
	case "all":
		show.Store(true)
	case "none":
	case "auto":
		show.Store(!haveEvents || total <= 20)
	default:
		return usageErrorf("run: --logs must be all, none or auto")
	}

	// Datagrams do not say which function sent them: they belong to the
	// target when it is the only function that runs.
	fn := target
	if len(defs) > 1 && (v.serve || !haveEvents) {
		fn = ""
	}
	opts, cat := v.sinks.options(m)
	copts, fd := console(m, show.Load)
	opts = append(append(opts, copts...), session.WithAgents(v.agents.session()), session.WithFunction(fn))
	s, err := newSession(m, "lambdabridge", cfg, opts...)
	if err != nil {
		return err
	}
	printWarnings(m.Stderr, defs)
	defs = s.Apply(defs)
	printExtensionNote(m.Stderr, s)
	r, err := runner.New(defs,
		runner.WithLogSink(s.Pipeline()), runner.WithPlatformSink(s.Pipeline()), runner.WithDebug(v.fn.debug), runner.WithLogger(warnLogger(m.Stderr)),
		runner.WithConcurrency(v.concurrency), runner.WithReservedConcurrency(v.reserved),
		runner.WithIdleTimeout(v.idle), runner.WithFreeze(!v.noFreeze && !v.fn.debug), runner.WithRegion(v.region),
		runner.WithLifecycle(s.Lifecycle), runner.WithEnvironmentVars(s.EnvironmentVars))
	if err != nil {
		s.Shutdown()
		return usageErrorf("run: %v", err)
	}
	s.AddSource(r)
	s.Start(ctx)
	defer s.Shutdown()
	cut, stopCut := secondSignal(ctx) // a second Ctrl-C cuts the shutdown short
	defer stopCut()
	// The first signal starts the shutdown while Drive or Serve still wait:
	// the drain deadline bounds the invocations in flight.
	defer s.ShutdownOn(ctx, cut)()

	var failed int64
	if haveEvents {
		stop := startProgress(m, r, target, total, v.progress)
		st, err := r.Drive(ctx, runner.Load{Function: target, Events: evs, Invocations: total, Rate: v.rate})
		stop()
		failed = st.Errors
		if err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(m.Stderr, "lambdabridge run:", err)
		}
	}
	if v.serve || !haveEvents {
		ln, err := runner.ListenLoopback(v.api)
		if err != nil {
			return usageErrorf("run: --api: %v", err)
		}
		show.Store(v.logs != "none")
		for _, n := range r.Functions() {
			fmt.Fprintf(m.Stderr, "lambdabridge: invoke API for %s on http://%s/2015-03-31/functions/%s/invocations\n", n, ln.Addr(), n)
		}
		fmt.Fprintln(m.Stderr, "lambdabridge: serving until interrupted (Ctrl-C)")
		if err := r.Serve(ctx, ln); err != nil {
			return err
		}
	}
	sum := s.ShutdownWithin(cut) // the runner, the listeners, then the sinks deliver what they hold
	if err := v.sinks.writeCatalog(cat); err != nil {
		return err
	}
	var all []runner.Stats
	for _, n := range r.Functions() {
		st, _ := r.Stats(n)
		all = append(all, st)
	}
	fmt.Fprintln(m.Stderr)
	runner.WriteSummary(m.Stderr, all)
	fd.write(m.Stderr)
	if n := sum.AggregateDropped(); n > 0 {
		fmt.Fprintf(m.Stderr, "aggregation: %d values dropped (%s)\n", n, sum.AggregateDropText)
	}
	if n := sum.KernelDropped; n > 0 {
		fmt.Fprintf(m.Stderr, "agents: %d datagrams dropped by the kernel (receive buffer full: read too slowly)\n", n)
	}
	writeSinks(m, sum)
	var negative []string
	if failed > 0 && !v.serve {
		negative = append(negative, fmt.Sprintf("%d invocations failed", failed))
	}
	if sum.Failed() {
		negative = append(negative, lost(sum))
	}
	if len(negative) > 0 {
		return &failure{msg: "run: " + strings.Join(negative, "; ")}
	}
	return nil
}

func readEvents(m *Main, name string) ([][]byte, error) {
	in := m.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, usageErrorf("--events: %v", err)
		}
		defer f.Close()
		in = f
	}
	var evs [][]byte
	err := events.ReadLines(in, func(_ int, ev []byte) error {
		evs = append(evs, ev)
		return nil
	}, func(line int, err error) {
		fmt.Fprintf(m.Stderr, "lambdabridge run: %s:%d: skipped: %v\n", name, line, err)
	})
	if err != nil {
		return nil, usageErrorf("--events %s: %v", name, err)
	}
	if len(evs) == 0 {
		return nil, usageErrorf("--events %s: no event", name)
	}
	return evs, nil
}

// startProgress prints a progress line every interval until stopped.
func startProgress(m *Main, r *runner.Runner, name string, total int, every time.Duration) (stop func()) {
	if every <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				st, _ := r.Stats(name)
				fmt.Fprintln(m.Stderr, "lambdabridge:", runner.Progress(st, total))
			}
		}
	}()
	return func() { close(done); <-finished }
}

// applyRunnerConfig takes the runner settings of the configuration file for
// the flags the user did not set.
func (v *runCommand) applyRunnerConfig(c config.Runner) {
	if !v.set.concurrency && c.Concurrency > 0 {
		v.concurrency = c.Concurrency
	}
	if !v.set.reserved && c.ReservedConcurrency > 0 {
		v.reserved = c.ReservedConcurrency
	}
	if !v.set.idle && c.IdleTimeout > 0 {
		v.idle = c.IdleTimeout
	}
	if !v.set.noFreeze && c.NoFreeze {
		v.noFreeze = true
	}
	if !v.set.api && c.API != "" {
		v.api = c.API
	}
	if !v.set.region && c.Region != "" {
		v.region = c.Region
	}
	if !v.agents.set.dogstatsd && c.DogStatsDAddr != "" {
		v.agents.dogstatsd = c.DogStatsDAddr
	}
	if !v.agents.set.emfAddr && c.EMFAgentAddr != "" {
		v.agents.emfAgent, v.agents.emfAddr = true, c.EMFAgentAddr
	}
}

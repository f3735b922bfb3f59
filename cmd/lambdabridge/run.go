package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/lambdabridge/lambdabridge/config"
	"github.com/lambdabridge/lambdabridge/function"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lambdabridge/lambdabridge/events"
	"github.com/lambdabridge/lambdabridge/runner"
)

func init() {
	register(command{
		name:    "run",
		summary: "run a function's events locally with Lambda's concurrency, and serve the Lambda invoke API",
		run:     runRun,
	})
}

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

func runRun(ctx context.Context, m *Main, args []string) error {
	fs := newFlagSet(m.Stderr, "run", runUsage)
	ff := addFuncFlags(fs)
	ef := addEventFlags(fs)
	eventsFile := fs.String("events", "", "`file` of events, JSON lines (one event per line), - for standard input")
	invocations := fs.Int("invocations", 0, "number of invocations (events are reused in turn; default one per event)")
	rate := fs.Float64("rate", 0, "start this many invocations per second (default: back to back, --concurrency at a time)")
	concurrency := fs.Int("concurrency", 1, "execution environments that may run at once; more requests wait in a queue")
	reserved := fs.Int("reserved-concurrency", 0, "reserved concurrency: requests beyond it are throttled (429); 0 means none")
	idle := fs.Duration("idle-timeout", 5*time.Minute, "recycle an environment idle for this long")
	noFreeze := fs.Bool("no-freeze", false, "do not freeze idle environments (SIGSTOP/SIGCONT)")
	serve := fs.Bool("serve", false, "serve the invoke API (after the events, if any) until interrupted")
	api := fs.String("api", "127.0.0.1:9001", "loopback `address` of the invoke API")
	region := fs.String("region", "us-east-1", "AWS_REGION given to the functions")
	logs := fs.String("logs", "auto", "function logs on standard error: all, none, or auto (all when serving or for at most 20 invocations)")
	progress := fs.Duration("progress", 2*time.Second, "progress line interval (0: none)")
	af := addAgentFlags(fs)
	var sf sinkFlags
	sf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("run: unexpected argument %q", fs.Arg(0))
	}
	if *concurrency < 1 || *reserved < 0 || *invocations < 0 || *rate < 0 {
		return usageErrorf("run: --concurrency must be at least 1; --reserved-concurrency, --invocations and --rate not negative")
	}
	cfg, err := sf.load(fs)
	if err != nil {
		return err
	}
	var defs []function.Definition
	var target string
	if ff.handler == "" && ff.template == "" && (len(cfg.Functions) > 0 || cfg.Template != "") {
		// The functions come from the configuration file.
		if defs, err = cfg.Definitions(); err != nil {
			return usageErrorf("%v", err)
		}
		target = ff.function
		if target == "" && len(defs) == 1 {
			target = defs[0].Name
		}
	} else if defs, target, err = ff.definitions(); err != nil {
		return err
	}
	applyRunnerConfig(fs, cfg.Runner, concurrency, reserved, idle, noFreeze, api, region, af)
	one, err := ef.payload(m.Stdin)
	if err != nil {
		return err
	}
	var evs [][]byte
	if one != nil {
		evs = append(evs, one)
	}
	if *eventsFile != "" {
		if one != nil {
			return usageErrorf("run: give --event/--event-template or --events, not both")
		}
		if evs, err = readEvents(m, *eventsFile); err != nil {
			return err
		}
	}
	haveEvents := len(evs) > 0 || *invocations > 0
	if haveEvents && target == "" {
		return usageErrorf("run: the template defines several functions, pick the one to send events to with --function")
	}
	total := *invocations
	if total == 0 {
		total = len(evs)
	}
	var show atomic.Bool
	switch *logs {
	case "all":
		show.Store(true)
	case "none":
	case "auto":
		show.Store(!haveEvents || total <= 20)
	default:
		return usageErrorf("run: --logs must be all, none or auto")
	}

	// The pipeline parses every line the functions write; sinks (scrape,
	// remote_write, Pushgateway) are added to it here, as pipeline options.
	built, cat, err := sf.build(m, fs, cfg)
	if err != nil {
		return err
	}
	p, fd, err := newSession(m, show.Load, built.Options...)
	if err != nil {
		built.Close()
		return err
	}
	if len(built.Sinks) > 0 {
		fmt.Fprintf(m.Stderr, "lambdabridge: delivering to %s\n", strings.Join(built.Sinks, ", "))
	}
	// Datagrams do not say which function sent them: they belong to the
	// target when it is the only function that runs.
	fn := target
	if len(defs) > 1 && (*serve || !haveEvents) {
		fn = ""
	}
	ag, err := af.start(ctx, p, fn)
	if err != nil {
		built.Close()
		return err
	}
	defer ag.close()
	ag.apply(defs)
	pctx, pcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer pcancel()
	perr := make(chan error, 1)
	go func() { perr <- p.Run(pctx) }()
	r, err := runner.New(defs,
		runner.WithLogSink(p), runner.WithPlatformSink(p),
		runner.WithConcurrency(*concurrency), runner.WithReservedConcurrency(*reserved),
		runner.WithIdleTimeout(*idle), runner.WithFreeze(!*noFreeze), runner.WithRegion(*region))
	if err != nil {
		return usageErrorf("run: %v", err)
	}
	defer r.Close()

	var failed int64
	if haveEvents {
		stop := startProgress(m, r, target, total, *progress)
		st, err := r.Drive(ctx, runner.Load{Function: target, Events: evs, Invocations: total, Rate: *rate})
		stop()
		failed = st.Errors
		if err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(m.Stderr, "lambdabridge run:", err)
		}
	}
	if *serve || !haveEvents {
		ln, err := runner.ListenLoopback(*api)
		if err != nil {
			return usageErrorf("run: --api: %v", err)
		}
		show.Store(*logs != "none")
		for _, n := range r.Functions() {
			fmt.Fprintf(m.Stderr, "lambdabridge: invoke API for %s on http://%s/2015-03-31/functions/%s/invocations\n", n, ln.Addr(), n)
		}
		fmt.Fprintln(m.Stderr, "lambdabridge: serving until interrupted (Ctrl-C)")
		if err := r.Serve(ctx, ln); err != nil {
			return err
		}
	}
	r.Close()
	ag.settle()
	ag.close()
	p.Finish()
	pcancel() // the sinks deliver what they hold
	if err := <-perr; err != nil {
		fmt.Fprintln(m.Stderr, "lambdabridge run:", err)
	}
	if err := sf.writeCatalog(cat); err != nil {
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
	if failed > 0 && !*serve {
		return &failure{msg: fmt.Sprintf("run: %d invocations failed", failed)}
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
func applyRunnerConfig(fs *flag.FlagSet, c config.Runner, concurrency, reserved *int, idle *time.Duration, noFreeze *bool, api, region *string, af *agentFlags) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["concurrency"] && c.Concurrency > 0 {
		*concurrency = c.Concurrency
	}
	if !set["reserved-concurrency"] && c.ReservedConcurrency > 0 {
		*reserved = c.ReservedConcurrency
	}
	if !set["idle-timeout"] && c.IdleTimeout > 0 {
		*idle = c.IdleTimeout
	}
	if !set["no-freeze"] && c.NoFreeze {
		*noFreeze = true
	}
	if !set["api"] && c.API != "" {
		*api = c.API
	}
	if !set["region"] && c.Region != "" {
		*region = c.Region
	}
	if !set["dogstatsd-addr"] && c.DogStatsDAddr != "" {
		af.dogstatsd = c.DogStatsDAddr
	}
	if !set["emf-agent-addr"] && c.EMFAgentAddr != "" {
		af.emfAgent, af.emfAddr = true, c.EMFAgentAddr
	}
}

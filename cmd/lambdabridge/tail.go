package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/lambdabridge/lambdabridge/logline"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/pipeline"
)

// tailCmd holds the flags of tail.
type tailCmd struct {
	sinks                sinkFlags
	follow, serve, quiet bool
	now                  string
	files                []string
}

func registerTail(c *cli) {
	v := &tailCmd{}
	cmd := c.command("tail", "read any log stream, find the metrics in it and deliver them to Prometheus", tailUsage, v.run)
	v.sinks.register(cmd)
	cmd.Flag("follow", "keep reading files as they grow (like tail -F) until interrupted").BoolVar(&v.follow)
	cmd.Flag("serve", "after the inputs end, keep serving /metrics until interrupted").BoolVar(&v.serve)
	nowFlag(cmd, &v.now)
	cmd.Flag("quiet", "do not print problems found in the input").BoolVar(&v.quiet)
	filesArg(cmd, "log files; - or none for standard input", &v.files)
}

const tailUsage = `[--follow] [--serve] [sink flags] [FILE...|-]

Reads log streams (files, or standard input for - or no FILE), finds the
metrics in them (CloudWatch EMF, Datadog MONITORING and JSON lines) and
delivers them to the configured sinks, e.g.

  aws logs tail /aws/lambda/fn --follow | lambdabridge tail - --remote-write http://127.0.0.1:9090/api/v1/write

Problems in the input are printed on standard error as they are found. Without
--follow it stops at the end of the inputs, delivers what it has, and exits;
--serve keeps /metrics up until interrupted.`

func (v *tailCmd) run(ctx context.Context, m *Main) error {
	cfg, err := v.sinks.load()
	if err != nil {
		return err
	}
	clock, err := clockFlag(v.now)
	if err != nil {
		return err
	}
	built, cat, err := v.sinks.build(m, cfg)
	if err != nil {
		return err
	}
	var diagMu sync.Mutex
	errs, warns := 0, 0
	opts := append(built.Options, pipeline.WithDiagnosticHandler(func(d *metric.Diagnostic) {
		diagMu.Lock()
		defer diagMu.Unlock()
		if d.Severity == metric.Error {
			errs++
		} else {
			warns++
		}
		if !v.quiet {
			fmt.Fprintln(m.Stderr, d.String())
		}
	}))
	if clock != nil {
		opts = append(opts, pipeline.WithParserOptions(logline.WithClock(clock)))
	}
	p, err := pipeline.New(opts...)
	if err != nil {
		built.Close()
		return err
	}
	if len(built.Sinks) > 0 {
		fmt.Fprintf(m.Stderr, "lambdabridge tail: delivering to %s\n", strings.Join(built.Sinks, ", "))
	}

	runCtx, stopSinks := context.WithCancel(ctx)
	defer stopSinks()
	sinksDone := make(chan error, 1)
	go func() { sinksDone <- p.Run(runCtx) }()

	readErr := m.readInputs(ctx, p, v.files, v.follow)
	p.Finish()
	if readErr == nil && v.serve && ctx.Err() == nil {
		fmt.Fprintln(m.Stderr, "lambdabridge tail: inputs ended; serving until interrupted")
		<-ctx.Done()
	}
	stopSinks()
	sinkErr := <-sinksDone
	if err := v.sinks.writeCatalog(cat); err != nil {
		return err
	}
	st := p.Aggregator().Stats()
	fmt.Fprintf(m.Stderr, "lambdabridge tail: %d series in %d families, %d values dropped; %d errors, %d warnings in the input\n",
		st.Series, len(st.Families), st.DroppedTotal, errs, warns)
	if readErr != nil {
		return readErr
	}
	if sinkErr != nil {
		return &failure{msg: sinkErr.Error()}
	}
	return nil
}

// readInputs feeds every input to the pipeline: standard input and plain
// files to their end, followed files until ctx ends.
func (m *Main) readInputs(ctx context.Context, p *pipeline.Pipeline, names []string, follow bool) error {
	if len(names) == 0 {
		names = []string{"-"}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, name := range names {
		var r io.ReadCloser
		switch {
		case name == "-":
			r = io.NopCloser(m.Stdin)
		case follow:
			f, err := logline.Follow(ctx, name, 0)
			if err != nil {
				return usageErrorf("%v", err)
			}
			r = f
		default:
			f, err := os.Open(name)
			if err != nil {
				return usageErrorf("%v", err)
			}
			r = f
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer r.Close()
			if err := p.ReadLog(ctx, name, r); err != nil && ctx.Err() == nil {
				errs[i] = fmt.Errorf("read %s: %w", name, err)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

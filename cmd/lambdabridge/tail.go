package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/lambdabridge/lambdabridge/logline"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/session"
)

// tailCmd holds the flags of tail.
type tailCmd struct {
	sinks                sinkFlags
	follow, serve, quiet bool
	now                  string
	input                inputFlags
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
	v.input.register(cmd)
	cmd.Flag("name", "the function whose log this is (as --function): its series get function_name=NAME, as with run (one tail per log group into one backend)").PlaceHolder("NAME").StringVar(&v.input.function)
	filesArg(cmd, "log files; - or none for standard input", &v.files)
}

const tailUsage = `[--follow] [--serve] [--name FUNCTION] [sink flags] [FILE...|-]

Reads log streams (files, or standard input for - or no FILE) in any form
AWS delivers them (aws logs tail output, filter-log-events documents,
subscription payloads, S3 exports, the JSON log format; --input-format forces
one), finds the metrics in them (CloudWatch EMF, Datadog MONITORING and JSON
lines) and the platform metrics of their START/REPORT lines, and delivers them
to the configured sinks, e.g.

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
	var diagMu sync.Mutex
	opts, cat := v.sinks.options(m)
	opts = append(opts, session.WithPipelineOptions(v.input.option()))
	opts = append(opts, session.WithDiagnosticHandler(func(d *metric.Diagnostic) {
		if !v.quiet {
			diagMu.Lock()
			defer diagMu.Unlock()
			fmt.Fprintln(m.Stderr, d.String())
		}
	}))
	if clock != nil {
		opts = append(opts, session.WithClock(clock))
	}
	s, err := newSession(m, "lambdabridge tail", cfg, opts...)
	if err != nil {
		return err
	}
	s.Start(ctx)
	defer s.Shutdown()
	cut, stopCut := secondSignal(ctx) // a second Ctrl-C cuts the shutdown short
	defer stopCut()

	readErr := m.readInputs(ctx, s, v.files, v.follow)
	if readErr == nil && v.serve && ctx.Err() == nil {
		fmt.Fprintln(m.Stderr, "lambdabridge tail: inputs ended; serving until interrupted")
		<-ctx.Done()
	}
	sum := s.ShutdownWithin(cut)
	if err := v.sinks.writeCatalog(cat); err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "lambdabridge tail: %s\n", sum)
	writeSinks(m, sum)
	if readErr != nil {
		return readErr
	}
	if sum.Failed() {
		return &failure{msg: "tail: " + lost(sum)}
	}
	return nil
}

// readInputs feeds every input to the pipeline: standard input and plain
// files to their end, followed files until ctx ends.
func (m *Main) readInputs(ctx context.Context, s *session.Session, names []string, follow bool) error {
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
			if err := s.ReadLog(ctx, name, r); err != nil && ctx.Err() == nil {
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

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/lambdabridge/lambdabridge/logline"
	"github.com/lambdabridge/lambdabridge/logsource"
	"github.com/lambdabridge/lambdabridge/pipeline"
)

// eachInput calls fn for every named file, or for standard input when
// names is empty or a name is "-". A file that cannot be opened is a usage
// error (exit 2).
func (m *Main) eachInput(names []string, fn func(name string, r io.Reader) error) error {
	if len(names) == 0 {
		names = []string{"-"}
	}
	for _, name := range names {
		if name == "-" {
			if err := fn("-", m.Stdin); err != nil {
				return err
			}
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			return usageErrorf("%v", err)
		}
		err = fn(name, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
	}
	return nil
}

// nowFlag binds --now.
func nowFlag(cmd *kingpin.CmdClause, target *string) {
	cmd.Flag("now", "check EMF timestamps against this time (RFC 3339) instead of the clock").PlaceHolder("TIME").StringVar(target)
}

// clockFlag parses --now, which pins the clock EMF timestamps are checked
// against (for reproducible output on old logs and in tests).
func clockFlag(s string) (func() time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, usageErrorf("--now: %v (want RFC 3339, like 2026-11-23T10:00:00Z)", err)
	}
	return func() time.Time { return t }, nil
}

// linePipeline returns the one log-line path (parse, check, aggregate,
// catalog) for validate, convert and dashboard, its clock pinned by --now.
func linePipeline(now string, opts ...pipeline.Option) (*pipeline.Pipeline, error) {
	clock, err := clockFlag(now)
	if err != nil {
		return nil, err
	}
	if clock != nil {
		opts = append(opts, pipeline.WithParserOptions(logline.WithClock(clock)))
	}
	return pipeline.New(opts...)
}

// inputFlags say how the log events of validate, convert, dashboard and
// tail arrive: their envelope (detected per line by default) and the
// function of events whose log group does not name one.
type inputFlags struct{ format, function string }

func (f *inputFlags) register(cmd *kingpin.CmdClause) {
	enum(cmd.Flag("input-format", "how the log events arrive (auto: detected per line)"), &f.format, "auto", logsource.Envelopes()...)
	cmd.Flag("function", "function of the log events whose log group is not /aws/lambda/NAME (a plain file, an export)").PlaceHolder("NAME").StringVar(&f.function)
}

// option passes the flags to the pipeline's log reader.
func (f *inputFlags) option() pipeline.Option {
	e, _ := logsource.ParseEnvelope(f.format)
	return pipeline.WithInput(logsource.WithEnvelope(e), logsource.WithFunction(f.function))
}

// readLogs reads every input (files, or standard input) through p, then
// runs the checks that need all of it.
func (m *Main) readLogs(ctx context.Context, p *pipeline.Pipeline, names []string) error {
	err := m.eachInput(names, func(name string, r io.Reader) error {
		return p.ReadLog(ctx, name, r)
	})
	if err != nil {
		return err
	}
	p.Finish()
	return nil
}

package main

import (
	"context"
	"fmt"

	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/validate"
)

func init() {
	register(command{
		name:    "validate",
		summary: "check metric lines (EMF, Datadog) against CloudWatch's and Datadog's rules",
		run:     runValidate,
	})
}

const validateUsage = `[--format text|json] [--strict] [FILE...]

Reads log lines (FILE, or standard input when none is given or FILE is -),
finds the metrics in them (CloudWatch EMF, Datadog MONITORING and JSON lines)
and reports every rule they break, like a compiler:

  FILE:LINE: error: [rule] message (what CloudWatch/Datadog does); hint: ...

Ordinary log lines are ignored. Exit status: 0 no error, 1 errors found (with
--strict, warnings too), 2 usage or I/O error.`

func runValidate(ctx context.Context, m *Main, args []string) error {
	fs := newFlagSet(m.Stderr, "validate", validateUsage)
	format := fs.String("format", "text", "output format: text or json")
	strict := fs.Bool("strict", false, "treat warnings as errors for the exit status")
	now := fs.String("now", "", "check EMF timestamps against this time (RFC 3339) instead of the clock")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return usageErrorf("validate: --format must be text or json, not %q", *format)
	}
	parser, err := lineParser(*now)
	if err != nil {
		return err
	}
	s := validate.NewSession(parser)
	var diags []validate.JSONDiagnostic
	s.OnDiag = func(d *metric.Diagnostic) {
		if *format == "json" {
			diags = append(diags, validate.ToJSON(d))
			return
		}
		fmt.Fprintln(m.Stdout, d.String())
	}
	if err := m.readSession(ctx, s, fs.Args()); err != nil {
		return err
	}
	sum := s.Summary()
	if *format == "json" {
		if err := validate.WriteJSON(m.Stdout, diags, sum); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(m.Stdout, sum.String())
	}
	if sum.Errors > 0 || *strict && sum.Warnings > 0 {
		return &failure{}
	}
	return nil
}

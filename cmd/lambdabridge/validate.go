package main

import (
	"context"
	"fmt"

	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/pipeline"
	"github.com/lambdabridge/lambdabridge/validate"
)

// validateCmd holds the flags of validate.
type validateCmd struct {
	format, now string
	strict      bool
	input       inputFlags
	files       []string
}

func registerValidate(c *cli) {
	v := &validateCmd{}
	cmd := c.command("validate", "check metric lines (EMF, Datadog) against CloudWatch's and Datadog's rules", validateUsage, v.run)
	enum(cmd.Flag("format", "output format"), &v.format, "text", "text", "json")
	cmd.Flag("strict", "treat warnings as errors for the exit status").BoolVar(&v.strict)
	nowFlag(cmd, &v.now)
	v.input.register(cmd)
	filesArg(cmd, "log files; - or none for standard input", &v.files)
}

const validateUsage = `[--format text|json] [--strict] [FILE...]

Reads log lines (FILE, or standard input when none is given or FILE is -),
finds the metrics in them (CloudWatch EMF, Datadog MONITORING and JSON lines)
and reports every rule they break, like a compiler:

  FILE:LINE: error: [rule] message (what CloudWatch/Datadog does); hint: ...

Ordinary log lines are ignored. Exit status: 0 no error, 1 errors found (with
--strict, warnings too), 2 usage or I/O error.`

func (v *validateCmd) run(ctx context.Context, m *Main) error {
	var diags []validate.JSONDiagnostic
	p, err := linePipeline(v.now, v.input.option(), pipeline.WithCatalog(catalog.New()), pipeline.WithCatalogLint(),
		pipeline.WithDiagnosticHandler(func(d *metric.Diagnostic) {
			if v.format == "json" {
				diags = append(diags, validate.ToJSON(d))
				return
			}
			fmt.Fprintln(m.Stdout, d.String())
		}))
	if err != nil {
		return err
	}
	if err := m.readLogs(ctx, p, v.files); err != nil {
		return err
	}
	sum := p.ValidationSummary()
	if v.format == "json" {
		if err := validate.WriteJSON(m.Stdout, diags, sum); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(m.Stdout, sum.String())
	}
	if sum.Errors > 0 || v.strict && sum.Warnings > 0 {
		return &failure{}
	}
	return nil
}

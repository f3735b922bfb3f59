package main

import (
	"context"
	"fmt"

	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/exposition"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/pipeline"
)

// convertCmd holds the flags of convert.
type convertCmd struct {
	format, now, catalog string
	quiet                bool
	input                inputFlags
	files                []string
}

func registerConvert(c *cli) {
	v := &convertCmd{}
	cmd := c.command("convert", "print the Prometheus metrics that log lines add up to", convertUsage, v.run)
	enum(cmd.Flag("format", "output format"), &v.format, "prometheus", "prometheus", "openmetrics", "json")
	nowFlag(cmd, &v.now)
	cmd.Flag("quiet", "do not print the input problems summary on standard error").BoolVar(&v.quiet)
	cmd.Flag("catalog", "also write the catalog of every metric family seen to this JSON file (input of 'lambdabridge dashboard')").PlaceHolder("FILE").StringVar(&v.catalog)
	v.input.register(cmd)
	filesArg(cmd, "log files; - or none for standard input", &v.files)
}

const convertUsage = `[--format prometheus|openmetrics|json] [FILE...]

Reads log lines (FILE, or standard input when none is given or FILE is -),
translates the metrics in them to Prometheus (see the README's translation
rules) and prints what they add up to: counters summed, histograms filled,
gauges at their last value. Problems in the input are summarised on standard
error (run 'lambdabridge validate' for the details); the lines after a broken
one are still read.`

func (v *convertCmd) run(ctx context.Context, m *Main) error {
	f, err := exposition.ParseFormat(v.format)
	if err != nil {
		return usageErrorf("convert: --format: %v", err)
	}
	firstErr := ""
	cat := catalog.New()
	p, err := linePipeline(v.now, v.input.option(), pipeline.WithCatalog(cat), pipeline.WithCatalogLint(),
		pipeline.WithDiagnosticHandler(func(d *metric.Diagnostic) {
			if d.Severity == metric.Error && firstErr == "" {
				firstErr = d.String()
			}
		}))
	if err != nil {
		return err
	}
	if err := m.readLogs(ctx, p, v.files); err != nil {
		return err
	}
	fams, err := p.Gatherer().Gather()
	if err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	if err := exposition.Write(m.Stdout, f, fams); err != nil {
		return err
	}
	if v.catalog != "" {
		sf := sinkFlags{catalog: v.catalog}
		if err := sf.writeCatalog(cat); err != nil {
			return err
		}
	}
	if sum := p.ValidationSummary(); !v.quiet && (sum.Errors > 0 || sum.Warnings > 0) {
		fmt.Fprintf(m.Stderr, "lambdabridge convert: %s\n", sum)
		if firstErr != "" {
			fmt.Fprintf(m.Stderr, "first error: %s\n", firstErr)
		}
	}
	// Every value is in the output or counted as dropped, and a drop
	// changes the exit status (aggregate.Lost says which reasons lose input).
	if st := p.Aggregator().Stats(); st.LostTotal() > 0 {
		fmt.Fprintf(m.Stderr, "lambdabridge convert: aggregation: %d values dropped (%s)\n", st.DroppedTotal, st.DropSummary())
		return &failure{msg: fmt.Sprintf("convert: %d values dropped by the aggregation", st.LostTotal())}
	}
	return nil
}

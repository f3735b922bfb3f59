package logline

import (
	"bytes"
	"fmt"
	"io"

	"github.com/lambdabridge/lambdabridge/metric"
)

// RuleLineTooLong is the rule id of a line longer than the scanner keeps.
const RuleLineTooLong = "log/line-too-long"

// Read scans r and parses every line with p. For each line it calls fn with
// a batch holding that line's points and diagnostics (reset before each
// line, so fn must copy what it keeps), the line, and the format found
// (metric.FormatUnknown for an ordinary log line). A line longer than max
// (<= 0: DefaultMaxLine) is reported with rule log/line-too-long and, when it
// looks like a metric, is not parsed; reading goes on with the next line.
// Call p.Finish after the last input for the diagnostics that need all of it.
func Read(r io.Reader, source string, max int, p *Parser, fn func(b *metric.Batch, l Line, f metric.Format) error) error {
	var b metric.Batch
	return Scan(r, max, func(l Line) error {
		b.Reset()
		o := metric.Origin{Source: source, Line: l.Num}
		if l.Truncated {
			b.AddDiag(metric.Diagnostic{
				Origin: o, Severity: metric.Warning, Rule: RuleLineTooLong,
				Message: fmt.Sprintf("line is %d bytes, more than the %d lambdabridge reads; the rest is skipped", l.Size, len(l.Bytes)),
				Effect:  metric.EffectNone,
				Hint:    "CloudWatch Logs splits events over 1 MiB (256 KiB per EMF event)",
			})
			if bytes.Contains(l.Bytes, []byte(`"_aws"`)) {
				b.Diags[0].Severity = metric.Error
				b.Diags[0].Format = metric.FormatEMF
				b.Diags[0].Effect = metric.EffectDropsEvent
				return fn(&b, l, metric.FormatEMF)
			}
		}
		return fn(&b, l, p.Parse(&b, l.Bytes, o))
	})
}

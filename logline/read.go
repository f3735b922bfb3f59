package logline

import (
	"bytes"
	"fmt"
	"io"

	"github.com/lambdabridge/lambdabridge/metric"
)

// RuleLineTooLong is the rule id of a line longer than the scanner keeps.
const RuleLineTooLong = "log/line-too-long"

var awsKey = []byte(`"_aws"`)

// ParseLine parses one line read by Scan into b, like Parse, and handles a
// line Scan had to cut: it is reported with rule log/line-too-long and, when
// it looks like EMF, it is not parsed (its points would be a guess from a
// cut document) and FormatEMF is returned. Every reader of log streams
// (validate, convert, dashboard, tail) goes through here, so one input gives
// one diagnosis everywhere. o.Line is set from l.
func (p *Parser) ParseLine(b *metric.Batch, l Line, o metric.Origin) metric.Format {
	o.Line = l.Num
	if !l.Truncated {
		return p.Parse(b, l.Bytes, o)
	}
	d := metric.Diagnostic{
		Origin: o, Severity: metric.Warning, Rule: RuleLineTooLong,
		Message: fmt.Sprintf("line is %d bytes, more than the %d lambdabridge reads; the rest is skipped", l.Size, len(l.Bytes)),
		Effect:  metric.EffectNone,
		Hint:    "CloudWatch Logs splits events over 1 MiB (256 KiB per EMF event)",
	}
	if bytes.Contains(l.Bytes, awsKey) {
		d.Severity, d.Format, d.Effect = metric.Error, metric.FormatEMF, metric.EffectDropsEvent
		b.AddDiag(d)
		return metric.FormatEMF
	}
	b.AddDiag(d)
	return p.Parse(b, l.Bytes, o)
}

// Read scans r and parses every line with p (ParseLine). For each line it
// calls fn with a batch holding that line's points and diagnostics (reset
// before each line, so fn must copy what it keeps), the line, and the format
// found (metric.FormatUnknown for an ordinary log line). max <= 0 means
// DefaultMaxLine. Call p.Finish after the last input for the diagnostics that
// need all of it.
func Read(r io.Reader, source string, max int, p *Parser, fn func(b *metric.Batch, l Line, f metric.Format) error) error {
	var b metric.Batch
	return Scan(r, max, func(l Line) error {
		b.Reset()
		return fn(&b, l, p.ParseLine(&b, l, metric.Origin{Source: source}))
	})
}

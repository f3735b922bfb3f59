package logsource

import (
	"github.com/lambdabridge/lambdabridge/logline"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/platform"
)

// Origin is where m comes from, for points and diagnostics of its text:
// its execution environment is its log stream (one per environment on
// Lambda) or the console's environment, so that per-environment series of
// a CloudWatch log split as those of `run` do.
func (m *Message) Origin(source string) metric.Origin {
	return metric.Origin{Source: source, Line: m.Line, Function: m.Function, Environment: m.Instance(), RequestID: m.RequestID}
}

// Instance names m's execution environment: its log stream (one per
// environment on Lambda), or the environment of lambdabridge's console.
func (m *Message) Instance() string {
	if m.Stream != "" {
		return m.Stream
	}
	return m.Environment
}

// Parsers is the parse step of the one log path for a decoded message:
// platform lines (START, REPORT, "Task timed out", platform.* events) give
// platform points, every other message goes to the metric parsers (EMF,
// Datadog). Both keep state across messages: use one Parsers per session.
type Parsers struct {
	Platform *platform.Parser // nil: platform lines are ordinary lines
	Metrics  *logline.Parser
}

// Parse appends the diagnostics of m's envelope, then the points and
// diagnostics of its text, to b, and returns the format found
// (metric.FormatPlatform for a platform line, metric.FormatUnknown for an
// ordinary line; for a message not parsed because of what the decoder
// found, an EMF document CloudWatch would not extract, the format of that
// diagnostic).
func (ps *Parsers) Parse(b *metric.Batch, m *Message, source string) metric.Format {
	b.Diags = append(b.Diags, m.Diags...)
	if m.Text == nil {
		for i := range m.Diags {
			if f := m.Diags[i].Format; f != metric.FormatUnknown {
				return f
			}
		}
		return metric.FormatUnknown
	}
	o := m.Origin(source)
	n := len(b.Points) + len(b.Diags)
	if ps.Platform != nil && ps.Platform.Line(b, m.Text, platform.Context{Origin: o, Stream: m.Instance(), TimeMs: m.TimeMs}) {
		if len(b.Points)+len(b.Diags) == n {
			return metric.FormatUnknown // END, INIT_START, a timeout line: state, no metric yet
		}
		return metric.FormatPlatform
	}
	return ps.Metrics.Parse(b, m.Text, o)
}

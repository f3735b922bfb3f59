package runner

import (
	"github.com/lambdabridge/lambdabridge/metric"
)

// Streams a log line can come from.
const (
	StreamStdout   = "stdout"
	StreamStderr   = "stderr"
	StreamPlatform = "platform" // START, END, REPORT and the runner's error lines
)

// LogSink receives every line an execution environment writes, and the
// platform lines (START, END, REPORT, timeouts, runtime errors) the runner
// writes for it, in order per environment.
//
// o.Source and o.Function are the function name, o.Environment the
// environment id, o.RequestID the invocation running when the line was
// written (the last one between invocations), o.Line a line number counted per
// environment. stream is StreamStdout, StreamStderr or StreamPlatform. line has
// no trailing newline, may hold invalid UTF-8 and is only valid during the
// call. A line longer than the runner's maximum (WithMaxLineSize) arrives in
// pieces of that size.
//
// The runner serializes all calls to its sinks (LogSink and PlatformSink
// together), so implementations need no locking of their own; they must not
// block for long, since every environment waits for them.
type LogSink interface {
	Line(o metric.Origin, stream string, line []byte)
}

// PlatformSink receives the runner's Lambda platform metrics as points of
// Format metric.FormatPlatform, Name already in Prometheus form, Labels
// [{function_name, <name>}]: counters (Kind Counter, Values are increments)
// lambda_invocations_total, lambda_errors_total, lambda_throttles_total,
// lambda_timeouts_total, lambda_cold_starts_total,
// lambda_billed_duration_seconds_total (Unit "Seconds"),
// lambda_estimated_cost_usd_total; histograms (Kind Histogram, Unit
// "Seconds", Values are observations) lambda_duration_seconds,
// lambda_init_duration_seconds; gauges (Kind Gauge) lambda_concurrent_executions
// and lambda_max_memory_used_bytes (Unit "Bytes").
//
// The point and its slices are only valid during the call (Clone to keep
// one). Calls are serialized with those of the LogSink.
type PlatformSink interface {
	Platform(p *metric.Point)
}

// LogSinkFunc adapts a function to a LogSink.
type LogSinkFunc func(o metric.Origin, stream string, line []byte)

// Line calls f.
func (f LogSinkFunc) Line(o metric.Origin, stream string, line []byte) { f(o, stream, line) }

// PlatformSinkFunc adapts a function to a PlatformSink.
type PlatformSinkFunc func(p *metric.Point)

// Platform calls f.
func (f PlatformSinkFunc) Platform(p *metric.Point) { f(p) }

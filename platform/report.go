// Package platform turns Lambda's platform log lines into the platform
// metrics `lambdabridge run` produces: the text lines (INIT_START,
// INIT_REPORT, START, END, REPORT, "Task timed out after N seconds") and the
// JSON log format's platform events (platform.initStart, platform.initReport,
// platform.start, platform.runtimeDone, platform.report, platform.restore*).
// It is a pure parser: bytes in, points and diagnostics out.
//
//	p := platform.NewParser(platform.WithArchitecture("arm64"))
//	var b metric.Batch
//	p.Line(&b, []byte("REPORT RequestId: 1\tDuration: 2.00 ms\t..."), platform.Context{Origin: o})
//
// One REPORT (or platform.report) is one invocation: Report.Points builds its
// points, and Report.Line writes the REPORT line as Lambda does, so a runner
// and a log reader produce the same families with the same values.
package platform

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lambdabridge/lambdabridge/metric"
)

// Lambda list prices, us-east-1, first tier, as published on the AWS Lambda
// pricing page (unchanged since arm64 functions launched on 2021-09-29;
// checked 2025-06): $0.20 per million requests; $0.0000166667 per GB-second
// on x86_64, $0.0000133334 on arm64.
const (
	PricePerRequest       = 0.20 / 1e6
	PricePerGBSecondX86   = 0.0000166667
	PricePerGBSecondArm64 = 0.0000133334
)

// Platform metric families, the names `lambdabridge run` exposes (a contract:
// PromQL is written against them).
const (
	MetricInvocations    = "lambda_invocations_total"
	MetricErrors         = "lambda_errors_total"
	MetricThrottles      = "lambda_throttles_total"
	MetricTimeouts       = "lambda_timeouts_total"
	MetricColdStarts     = "lambda_cold_starts_total"
	MetricDuration       = "lambda_duration_seconds"
	MetricInitDuration   = "lambda_init_duration_seconds"
	MetricBilledDuration = "lambda_billed_duration_seconds_total"
	MetricConcurrent     = "lambda_concurrent_executions"
	MetricMaxMemoryUsed  = "lambda_max_memory_used_bytes"
	MetricCost           = "lambda_estimated_cost_usd_total"
)

// Status values of a REPORT line's Status field and of platform.report's
// record.status (Telemetry API schema: success, failure, error, timeout).
const (
	StatusSuccess = "success"
	StatusError   = "error"
	StatusFailure = "failure"
	StatusTimeout = "timeout"
)

// Report is what Lambda's REPORT line (or the platform.report event) says
// about one invocation. Every field of the line is kept.
type Report struct {
	RequestID             string
	Duration              time.Duration
	BilledDuration        time.Duration
	MemorySizeMB          int
	MaxMemoryUsed         int64         // bytes; REPORT prints it in MB, rounded up
	InitDuration          time.Duration // cold starts only
	RestoreDuration       time.Duration // SnapStart restores only
	BilledRestoreDuration time.Duration
	// Status is empty (a plain success line), success, error, failure or
	// timeout; ErrorType goes with error and failure (Runtime.ExitError,
	// Runtime.OutOfMemory, ...).
	Status    string
	ErrorType string
	// X-Ray fields, present on traced invocations.
	TraceID   string
	SegmentID string
	Sampled   string
	// ColdStart is true on the first invocation of an environment: the line
	// has Init Duration or Restore Duration, or the environment's init was
	// logged before it (INIT_START, INIT_REPORT, platform.initStart).
	ColdStart bool
	// TimedOut is true when Status is timeout or the log said "Task timed
	// out after ..." for the request.
	TimedOut bool
}

// Failed reports whether the invocation is an error as lambda_errors_total
// counts it: a status other than success, or a timeout.
func (r *Report) Failed() bool {
	return r.TimedOut || r.Status != "" && r.Status != StatusSuccess
}

// MaxMemoryUsedMB is Max Memory Used as REPORT prints it (rounded up).
func (r *Report) MaxMemoryUsedMB() int { return CeilMB(r.MaxMemoryUsed) }

// CeilMB rounds a byte count up to whole MiB, as REPORT prints memory.
func CeilMB(b int64) int { return int((b + 1<<20 - 1) >> 20) }

// BilledDuration is Lambda's Billed Duration for an invoke phase of d after
// an init phase of init (0 when warm): both phases, billed for every
// runtime since 2025-08-01, rounded up to the millisecond (the granularity
// since 2020-12), at least 1 ms.
func BilledDuration(d, init time.Duration) time.Duration {
	ms := math.Ceil(float64(d+init) / float64(time.Millisecond))
	if ms < 1 {
		ms = 1
	}
	return time.Duration(ms) * time.Millisecond
}

// Cost estimates what one invocation costs: the request plus GB-seconds at
// the list price of arch ("arm64", anything else is x86_64).
func Cost(billed time.Duration, memoryMB int, arch string) float64 {
	price := PricePerGBSecondX86
	if arch == "arm64" {
		price = PricePerGBSecondArm64
	}
	return PricePerRequest + billed.Seconds()*float64(memoryMB)/1024*price
}

// ms2 prints d in milliseconds with two decimals, as REPORT does.
func ms2(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

// Line is the REPORT line Lambda writes for r: tab-separated fields, in
// Lambda's order (Duration, Billed Duration, Memory Size, Max Memory Used,
// Init Duration, Restore Duration, Billed Restore Duration, Status, Error
// Type, then the X-Ray fields). Verified against the AWS Lambda developer
// guide's REPORT examples (services-cloudwatchlogs, nodejs-logging,
// dotnet-logging "REPORT line data fields") and its execution environment
// lifecycle page for Status and Error Type.
func (r *Report) Line() string {
	var b strings.Builder
	b.WriteString("REPORT RequestId: " + r.RequestID)
	b.WriteString("\tDuration: " + ms2(r.Duration) + " ms")
	b.WriteString("\tBilled Duration: " + strconv.FormatInt(int64(r.BilledDuration/time.Millisecond), 10) + " ms")
	b.WriteString("\tMemory Size: " + strconv.Itoa(r.MemorySizeMB) + " MB")
	b.WriteString("\tMax Memory Used: " + strconv.Itoa(r.MaxMemoryUsedMB()) + " MB")
	if r.InitDuration > 0 {
		b.WriteString("\tInit Duration: " + ms2(r.InitDuration) + " ms")
	}
	if r.RestoreDuration > 0 {
		b.WriteString("\tRestore Duration: " + ms2(r.RestoreDuration) + " ms")
		b.WriteString("\tBilled Restore Duration: " + strconv.FormatInt(int64(r.BilledRestoreDuration/time.Millisecond), 10) + " ms")
	}
	if r.Status != "" && r.Status != StatusSuccess {
		b.WriteString("\tStatus: " + r.Status)
		if r.ErrorType != "" {
			b.WriteString("\tError Type: " + r.ErrorType)
		}
	}
	if r.TraceID != "" {
		b.WriteString("\tXRAY TraceId: " + r.TraceID)
		if r.SegmentID != "" {
			b.WriteString("\tSegmentId: " + r.SegmentID)
		}
		if r.Sampled != "" {
			b.WriteString("\tSampled: " + r.Sampled)
		}
	}
	return b.String()
}

// Emitter appends platform points of one function to a batch; labels are
// the function's (function_name, and lambda_environment when per
// environment). It is the one place where platform points are built, for
// `run` and for logs alike.
type Emitter struct {
	Labels []metric.Label
	// Arch selects the price of Cost: "arm64" or x86_64 (anything else).
	Arch string
}

func (e *Emitter) point(b *metric.Batch, o metric.Origin, timeMs int64, name string, kind metric.Kind, unit string, v float64) {
	p := metric.Point{
		Format: metric.FormatPlatform, Name: name, Kind: kind, Unit: unit,
		Values: b.Values([]float64{v}), TimeMs: timeMs, Origin: o,
	}
	if len(e.Labels) > 0 {
		p.Labels = b.Labels(e.Labels)
	}
	b.AddPoint(p)
}

// Zero appends the counters at 0 and the concurrency gauge at 0, so that
// rate() works from the first invocation on. Call it once per function.
func (e *Emitter) Zero(b *metric.Batch, o metric.Origin, timeMs int64) {
	for _, n := range [...]string{MetricInvocations, MetricErrors, MetricThrottles, MetricTimeouts, MetricColdStarts, MetricCost} {
		e.point(b, o, timeMs, n, metric.Counter, "", 0)
	}
	e.point(b, o, timeMs, MetricBilledDuration, metric.Counter, "Seconds", 0)
	e.Concurrent(b, o, timeMs, 0)
}

// Concurrent appends the number of invocations running now.
func (e *Emitter) Concurrent(b *metric.Batch, o metric.Origin, timeMs int64, n int) {
	e.point(b, o, timeMs, MetricConcurrent, metric.Gauge, "", float64(n))
}

// Throttle appends one throttled request (a log never shows one: Lambda
// rejects the request before an environment sees it).
func (e *Emitter) Throttle(b *metric.Batch, o metric.Origin, timeMs int64) {
	e.point(b, o, timeMs, MetricThrottles, metric.Counter, "", 1)
}

// roundMs2 rounds d to the REPORT line's precision (0.01 ms), so that the
// points of a run and of its log agree to the last digit.
func roundMs2(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }

// Points appends the platform points of one finished invocation: one
// invocation, an error and a timeout when it failed so, a cold start with
// its init duration, the duration, billed duration, max memory used (in
// whole MiB, as REPORT says it) and the estimated cost.
func (e *Emitter) Points(b *metric.Batch, o metric.Origin, timeMs int64, r *Report) {
	e.point(b, o, timeMs, MetricInvocations, metric.Counter, "", 1)
	if r.Failed() {
		e.point(b, o, timeMs, MetricErrors, metric.Counter, "", 1)
	}
	if r.TimedOut {
		e.point(b, o, timeMs, MetricTimeouts, metric.Counter, "", 1)
	}
	if r.ColdStart {
		e.point(b, o, timeMs, MetricColdStarts, metric.Counter, "", 1)
		if r.InitDuration > 0 {
			e.point(b, o, timeMs, MetricInitDuration, metric.Histogram, "Seconds", roundMs2(r.InitDuration).Seconds())
		}
	}
	e.point(b, o, timeMs, MetricDuration, metric.Histogram, "Seconds", roundMs2(r.Duration).Seconds())
	e.point(b, o, timeMs, MetricBilledDuration, metric.Counter, "Seconds", r.BilledDuration.Seconds())
	e.point(b, o, timeMs, MetricMaxMemoryUsed, metric.Gauge, "Bytes", float64(int64(r.MaxMemoryUsedMB())<<20))
	e.point(b, o, timeMs, MetricCost, metric.Counter, "", Cost(r.BilledDuration, r.MemorySizeMB, e.Arch))
}

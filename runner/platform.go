package runner

import (
	"fmt"
	"strconv"
	"time"

	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/platform"
)

// The runner builds its REPORT lines and its platform points through the
// platform package (platform.Report.Line, platform.Emitter), the same code
// that reads them back from logs: `run`'s numbers and a log's cannot drift.

// Platform metric names (platform's, under the runner's names).
const (
	MetricInvocations    = platform.MetricInvocations
	MetricErrors         = platform.MetricErrors
	MetricThrottles      = platform.MetricThrottles
	MetricTimeouts       = platform.MetricTimeouts
	MetricColdStarts     = platform.MetricColdStarts
	MetricDuration       = platform.MetricDuration
	MetricInitDuration   = platform.MetricInitDuration
	MetricBilledDuration = platform.MetricBilledDuration
	MetricConcurrent     = platform.MetricConcurrent
	MetricMaxMemoryUsed  = platform.MetricMaxMemoryUsed
	MetricCost           = platform.MetricCost
)

// billedDuration is Lambda's Billed Duration (platform.BilledDuration).
func billedDuration(d, init time.Duration) time.Duration { return platform.BilledDuration(d, init) }

// cost estimates what one invocation costs (platform.Cost).
func cost(billed time.Duration, memoryMB int, arch string) float64 {
	return platform.Cost(billed, memoryMB, arch)
}

func ceilMB(b int64) int { return platform.CeilMB(b) }

func ms2(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

// report is what REPORT says about res: Status timeout for a timeout,
// error with the Error Type for any other failure.
func (r *Result) report() *platform.Report {
	rep := &platform.Report{
		RequestID: r.RequestID, Duration: r.Duration, BilledDuration: r.BilledDuration,
		MemorySizeMB: r.MemorySizeMB, MaxMemoryUsed: r.MaxMemoryUsed,
		ColdStart: r.ColdStart, TimedOut: r.TimedOut,
	}
	if r.ColdStart {
		rep.InitDuration = r.InitDuration
	}
	switch {
	case r.TimedOut:
		rep.Status = platform.StatusTimeout
	case r.Failed():
		rep.Status, rep.ErrorType = platform.StatusError, r.ErrorType
	}
	return rep
}

// reportLine is Lambda's REPORT line for res.
func reportLine(res *Result) string { return res.report().Line() }

func timeoutMessage(d time.Duration) string {
	return fmt.Sprintf("Task timed out after %.2f seconds", d.Seconds())
}

// emitter builds the function's platform points.
func (f *fn) emitter() *platform.Emitter {
	return &platform.Emitter{Labels: f.labels, Arch: f.def.Architecture}
}

// emit builds points into a batch with add and hands them to the sink;
// called with r.sinkMu held.
func (f *fn) emit(add func(b *metric.Batch)) {
	b := &f.batch
	b.Reset()
	add(b)
	for i := range b.Points {
		f.r.cfg.platform.Platform(&b.Points[i])
	}
}

// emitThrottle hands the sink one throttled request.
func (f *fn) emitThrottle() {
	if f.r.cfg.platform == nil {
		return
	}
	f.r.sinkMu.Lock()
	defer f.r.sinkMu.Unlock()
	f.emit(func(b *metric.Batch) { f.emitter().Throttle(b, f.origin(nil, ""), time.Now().UnixMilli()) })
}

// emitConcurrent hands the sink the number of invocations running now. The
// count is read under sinkMu, so the gauge's points reach the sink in the
// order of their values and the last one is the current count (read before
// the lock, a point of an invocation that ended earlier could come last and
// leave the gauge above 0 for good).
func (f *fn) emitConcurrent() {
	if f.r.cfg.platform == nil {
		return
	}
	f.r.sinkMu.Lock()
	defer f.r.sinkMu.Unlock()
	f.mu.Lock()
	n := f.running
	f.mu.Unlock()
	f.emit(func(b *metric.Batch) { f.emitter().Concurrent(b, f.origin(nil, ""), time.Now().UnixMilli(), n) })
}

func (f *fn) origin(e *env, reqID string) metric.Origin {
	o := metric.Origin{Source: f.def.Name, Function: f.def.Name, RequestID: reqID}
	if e != nil {
		o.Environment = e.id
	}
	return o
}

// emitZero creates the counter series at 0, so that rate() works from the
// first invocation on.
func (f *fn) emitZero() {
	if f.r.cfg.platform == nil {
		return
	}
	f.r.sinkMu.Lock()
	defer f.r.sinkMu.Unlock()
	f.emit(func(b *metric.Batch) { f.emitter().Zero(b, f.origin(nil, ""), time.Now().UnixMilli()) })
}

// emitResult produces the platform metrics of one finished invocation.
func (f *fn) emitResult(res *Result) {
	if f.r.cfg.platform == nil {
		return
	}
	o := metric.Origin{Source: f.def.Name, Function: f.def.Name, Environment: res.Environment, RequestID: res.RequestID}
	f.r.sinkMu.Lock()
	defer f.r.sinkMu.Unlock()
	f.emit(func(b *metric.Batch) { f.emitter().Points(b, o, time.Now().UnixMilli(), res.report()) })
}

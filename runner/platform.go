package runner

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/lambdabridge/lambdabridge/metric"
)

// Lambda list prices, us-east-1, first tier, as published on the AWS Lambda
// pricing page (unchanged since arm64 functions launched on 2021-09-29;
// checked 2025-06): $0.20 per million requests; $0.0000166667 per GB-second
// on x86_64, $0.0000133334 on arm64.
const (
	pricePerRequest       = 0.20 / 1e6
	pricePerGBSecondX86   = 0.0000166667
	pricePerGBSecondArm64 = 0.0000133334
)

// Platform metric names.
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

// billedDuration is Lambda's Billed Duration: the invoke phase plus, on a
// cold start, the init phase (billed for every runtime since 2025-08-01),
// rounded up to the millisecond (the granularity since 2020-12).
func billedDuration(d, init time.Duration) time.Duration {
	ms := math.Ceil(float64(d+init) / float64(time.Millisecond))
	if ms < 1 {
		ms = 1
	}
	return time.Duration(ms) * time.Millisecond
}

// cost estimates what one invocation costs: the request plus GB-seconds.
func cost(billed time.Duration, memoryMB int, arch string) float64 {
	price := pricePerGBSecondX86
	if arch == "arm64" {
		price = pricePerGBSecondArm64
	}
	return pricePerRequest + billed.Seconds()*float64(memoryMB)/1024*price
}

func ceilMB(b int64) int {
	return int((b + 1<<20 - 1) >> 20)
}

func ms2(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

// reportLine is Lambda's REPORT line for res.
func reportLine(res *Result) string {
	s := "REPORT RequestId: " + res.RequestID +
		"\tDuration: " + ms2(res.Duration) + " ms" +
		"\tBilled Duration: " + strconv.FormatInt(int64(res.BilledDuration/time.Millisecond), 10) + " ms" +
		"\tMemory Size: " + strconv.Itoa(res.MemorySizeMB) + " MB" +
		"\tMax Memory Used: " + strconv.Itoa(res.MaxMemoryUsedMB()) + " MB"
	if res.ColdStart && res.InitDuration > 0 {
		s += "\tInit Duration: " + ms2(res.InitDuration) + " ms"
	}
	return s + reportStatus(res)
}

func timeoutMessage(d time.Duration) string {
	return fmt.Sprintf("Task timed out after %.2f seconds", d.Seconds())
}

// emitPoint hands one platform point to the sink.
func (f *fn) emitPoint(o metric.Origin, name string, kind metric.Kind, unit string, v float64) {
	if f.r.cfg.platform == nil {
		return
	}
	f.r.sinkMu.Lock()
	f.scratch[0] = v
	p := metric.Point{
		Format: metric.FormatPlatform, Name: name, Kind: kind, Unit: unit,
		Labels: f.labels, Values: f.scratch[:], TimeMs: time.Now().UnixMilli(), Origin: o,
	}
	f.r.cfg.platform.Platform(&p)
	f.r.sinkMu.Unlock()
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
	f.scratch[0] = float64(f.running)
	f.mu.Unlock()
	p := metric.Point{
		Format: metric.FormatPlatform, Name: MetricConcurrent, Kind: metric.Gauge,
		Labels: f.labels, Values: f.scratch[:], TimeMs: time.Now().UnixMilli(), Origin: f.origin(nil, ""),
	}
	f.r.cfg.platform.Platform(&p)
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
	o := f.origin(nil, "")
	for _, n := range []string{MetricInvocations, MetricErrors, MetricThrottles, MetricTimeouts, MetricColdStarts, MetricCost} {
		f.emitPoint(o, n, metric.Counter, "", 0)
	}
	f.emitPoint(o, MetricBilledDuration, metric.Counter, "Seconds", 0)
	f.emitPoint(o, MetricConcurrent, metric.Gauge, "", 0)
}

// emitResult produces the platform metrics of one finished invocation.
func (f *fn) emitResult(res *Result) {
	o := metric.Origin{Source: f.def.Name, Function: f.def.Name, Environment: res.Environment, RequestID: res.RequestID}
	f.emitPoint(o, MetricInvocations, metric.Counter, "", 1)
	if res.Failed() {
		f.emitPoint(o, MetricErrors, metric.Counter, "", 1)
	}
	if res.TimedOut {
		f.emitPoint(o, MetricTimeouts, metric.Counter, "", 1)
	}
	if res.ColdStart {
		f.emitPoint(o, MetricColdStarts, metric.Counter, "", 1)
		if res.InitDuration > 0 {
			f.emitPoint(o, MetricInitDuration, metric.Histogram, "Seconds", res.InitDuration.Seconds())
		}
	}
	f.emitPoint(o, MetricDuration, metric.Histogram, "Seconds", res.Duration.Seconds())
	f.emitPoint(o, MetricBilledDuration, metric.Counter, "Seconds", res.BilledDuration.Seconds())
	f.emitPoint(o, MetricMaxMemoryUsed, metric.Gauge, "Bytes", float64(res.MaxMemoryUsed))
	f.emitPoint(o, MetricCost, metric.Counter, "", cost(res.BilledDuration, res.MemorySizeMB, f.def.Architecture))
}

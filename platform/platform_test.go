package platform

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdabridge/lambdabridge/metric"
)

const (
	reqA = "6234bffe-149a-b642-81ff-2e8e376d8aff"
	reqB = "c793869b-ee49-115b-a5b6-4fd21e8dedac"
)

// zero is what a function's first platform line adds: the counters at 0.
var zero = []string{
	"lambda_invocations_total 0", "lambda_errors_total 0", "lambda_throttles_total 0", "lambda_timeouts_total 0",
	"lambda_cold_starts_total 0", "lambda_estimated_cost_usd_total 0", "lambda_billed_duration_seconds_total 0",
	"lambda_concurrent_executions 0",
}

func with(a []string, b ...string) []string { return append(append([]string(nil), a...), b...) }

func TestLines(t *testing.T) {
	// cost of 47 ms at 192 MB on x86_64
	tests := []struct {
		name  string
		lines []string
		want  []string
		diags []string
	}{
		{
			name: "documented REPORT line (services-cloudwatchlogs page)",
			lines: []string{
				"REPORT RequestId: " + reqA + "\tDuration: 46.84 ms\tBilled Duration: 47 ms \tMemory Size: 192 MB\tMax Memory Used: 72 MB\t\n",
			},
			want: with(zero, "lambda_invocations_total 1", "lambda_duration_seconds 0.04684", "lambda_billed_duration_seconds_total 0.047",
				"lambda_max_memory_used_bytes 75497472", "lambda_estimated_cost_usd_total 3.4687529e-07"),
		},
		{
			name: "cold start with X-Ray, fields separated by spaces",
			lines: []string{
				"START RequestId: " + reqA + " Version: $LATEST",
				"REPORT RequestId: " + reqA + " Duration: 201.67 ms Billed Duration: 202 ms Memory Size: 2048 MB Max Memory Used: 81 MB Init Duration: 480.25 ms XRAY TraceId: 1-61c86fa4-59b3c6d959653c527fd10966 SegmentId: 107ea78a5750a811 Sampled: true",
			},
			want: with(zero, "lambda_concurrent_executions 1", "lambda_invocations_total 1", "lambda_cold_starts_total 1", "lambda_init_duration_seconds 0.48025",
				"lambda_duration_seconds 0.20167", "lambda_billed_duration_seconds_total 0.202", "lambda_max_memory_used_bytes 84934656",
				"lambda_estimated_cost_usd_total 6.9333468e-06", "lambda_concurrent_executions 0"),
		},
		{
			name: "timeout line then REPORT with Status: timeout counts one timeout",
			lines: []string{
				"START RequestId: " + reqA + " Version: $LATEST",
				"2019-10-02T21:38:35.254Z " + reqA + " Task timed out after 3.00 seconds",
				"END RequestId: " + reqA,
				"REPORT RequestId: " + reqA + "\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\tStatus: timeout",
			},
			want: with(zero, "lambda_concurrent_executions 1", "lambda_invocations_total 1", "lambda_errors_total 1", "lambda_timeouts_total 1",
				"lambda_duration_seconds 3", "lambda_billed_duration_seconds_total 3", "lambda_max_memory_used_bytes 62914560",
				"lambda_estimated_cost_usd_total 6.4500125e-06", "lambda_concurrent_executions 0"),
		},
		{
			name: "timeout line of an older runtime, REPORT without Status",
			lines: []string{
				reqA + " Task timed out after 1.00 seconds",
				"REPORT RequestId: " + reqA + "\tDuration: 1000.00 ms\tBilled Duration: 1000 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB",
			},
			want: with(zero, "lambda_invocations_total 1", "lambda_errors_total 1", "lambda_timeouts_total 1",
				"lambda_duration_seconds 1", "lambda_billed_duration_seconds_total 1", "lambda_max_memory_used_bytes 62914560",
				"lambda_estimated_cost_usd_total 2.2833375e-06"),
		},
		{
			name: "crash: Status error with Error Type, after a suppressed init",
			lines: []string{
				"INIT_START Runtime Version: nodejs:20.v22\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:abc",
				"INIT_REPORT Init Duration: 120.50 ms\tPhase: init\tStatus: error\tError Type: Runtime.ExitError",
				"REPORT RequestId: " + reqB + "\tDuration: 5.00 ms\tBilled Duration: 126 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\tStatus: error\tError Type: Runtime.ExitError",
			},
			want: with(zero, "lambda_invocations_total 1", "lambda_errors_total 1", "lambda_cold_starts_total 1", "lambda_init_duration_seconds 0.1205",
				"lambda_duration_seconds 0.005", "lambda_billed_duration_seconds_total 0.126", "lambda_max_memory_used_bytes 20971520",
				"lambda_estimated_cost_usd_total 4.6250053e-07"),
		},
		{
			name: "SnapStart restore is a cold start",
			lines: []string{
				"REPORT RequestId: " + reqA + "\tDuration: 10.00 ms\tBilled Duration: 189 ms\tMemory Size: 1024 MB\tMax Memory Used: 100 MB\tRestore Duration: 474.16 ms\tBilled Restore Duration: 178 ms",
			},
			want: with(zero, "lambda_invocations_total 1", "lambda_cold_starts_total 1",
				"lambda_duration_seconds 0.01", "lambda_billed_duration_seconds_total 0.189", "lambda_max_memory_used_bytes 1.048576e+08",
				"lambda_estimated_cost_usd_total 3.3500063e-06"),
		},
		{
			name: "JSON log format events",
			lines: []string{
				`{"time":"2024-05-01T10:00:00.000Z","type":"platform.initStart","record":{"initializationType":"on-demand","phase":"init","runtimeVersion":"nodejs:20.v22","functionName":"fn","functionVersion":"$LATEST"}}`,
				`{"time":"2024-05-01T10:00:00.150Z","type":"platform.initReport","record":{"initializationType":"on-demand","phase":"init","status":"success","metrics":{"durationMs":150.12}}}`,
				`{"time":"2024-05-01T10:00:00.151Z","type":"platform.start","record":{"requestId":"` + reqA + `","version":"$LATEST"}}`,
				`{"time":"2024-05-01T10:00:03.151Z","type":"platform.runtimeDone","record":{"requestId":"` + reqA + `","status":"timeout","metrics":{"durationMs":3000.0}}}`,
				`{"time":"2024-05-01T10:00:03.200Z","type":"platform.report","record":{"requestId":"` + reqA + `","status":"timeout","metrics":{"durationMs":3000.0,"billedDurationMs":3000,"memorySizeMB":128,"maxMemoryUsedMB":60,"initDurationMs":150.12},"tracing":{"type":"X-Amzn-Trace-Id","value":"Root=1-5f35ae12-0c0fec141ab77a00bc047aa2;Parent=2be948a625588e32;Sampled=1"}}}`,
			},
			want: with(zero, "lambda_concurrent_executions 1", "lambda_invocations_total 1", "lambda_errors_total 1", "lambda_timeouts_total 1",
				"lambda_cold_starts_total 1", "lambda_init_duration_seconds 0.15012",
				"lambda_duration_seconds 3", "lambda_billed_duration_seconds_total 3", "lambda_max_memory_used_bytes 62914560",
				"lambda_estimated_cost_usd_total 6.4500125e-06", "lambda_concurrent_executions 0"),
		},
		{
			name: "platform.report with status error",
			lines: []string{
				`{"time":"2024-05-01T10:00:03.200Z","type":"platform.report","record":{"requestId":"` + reqA + `","status":"error","errorType":"Runtime.ExitError","metrics":{"durationMs":2.5,"billedDurationMs":3,"memorySizeMB":128,"maxMemoryUsedMB":60}}}`,
			},
			want: with(zero, "lambda_invocations_total 1", "lambda_errors_total 1",
				"lambda_duration_seconds 0.0025", "lambda_billed_duration_seconds_total 0.003", "lambda_max_memory_used_bytes 62914560",
				"lambda_estimated_cost_usd_total 2.0625001e-07"),
		},
		{
			name: "broken REPORT lines are reported and the next one counts",
			lines: []string{
				"REPORT RequestId: " + reqA + "\tDuration: fast\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 1 MB",
				"REPORT RequestId: " + reqA + "\tDuration: 1.00 ms\tMemory Size: 128 MB\tMax Memory Used: 1 MB",
				"REPORT RequestId: " + reqA + "\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: lots\tMax Memory Used: 1 MB",
				`{"time":"x","type":"platform.report","record":{"requestId":"` + reqA + `"}}`,
				`{"time":"x","type":"platform.report"}`,
				"REPORT RequestId: " + reqA + "\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 1 MB",
			},
			want: with(zero, "lambda_invocations_total 1", "lambda_duration_seconds 0.001", "lambda_billed_duration_seconds_total 0.001",
				"lambda_max_memory_used_bytes 1048576", "lambda_estimated_cost_usd_total 2.0208334e-07"),
			diags: []string{"1 platform/bad-report", "2 platform/bad-report", "3 platform/bad-report", "4 platform/bad-report", "5 platform/bad-event"},
		},
		{
			name: "platform.logsDropped is a warning",
			lines: []string{
				`{"time":"2024-05-01T10:00:03.200Z","type":"platform.logsDropped","record":{"reason":"Consumer seems to have fallen behind as it has not acknowledged receipt of logs.","droppedRecords":123,"droppedBytes":12345}}`,
			},
			diags: []string{"1 platform/logs-dropped"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewParser()
			var b metric.Batch
			var got, diags []string
			for i, l := range tt.lines {
				b.Reset()
				c := Context{Origin: metric.Origin{Source: "fn.log", Line: i + 1, Function: "fn"}, Stream: "s1"}
				if !p.Line(&b, []byte(l), c) {
					t.Fatalf("line %d not read as a platform line", i+1)
				}
				for i := range b.Points {
					pt := &b.Points[i]
					if v, _ := pt.Label("function_name"); v != "fn" || pt.Format != metric.FormatPlatform {
						t.Errorf("point %s: labels or format wrong", pt.String())
					}
					got = append(got, roundShort(pt))
				}
				for _, d := range b.Diags {
					diags = append(diags, itoa(d.Origin.Line)+" "+d.Rule)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("points (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.diags, diags); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

// roundShort renders name and value with 8 significant digits.
func roundShort(p *metric.Point) string {
	return p.Name + " " + strconvG(p.Values[0])
}

func TestNotPlatform(t *testing.T) {
	for _, l := range []string{"", "hello", "STARTING up", "retrying: upstream said Task timed out after 3.00 seconds",
		"a b Task timed out after 3.00 seconds, retrying", `{"_aws":{}}`, `{"type":"platform.start"`, "REPORTED RequestId: x", `{"time":"t","type":"app","record":{}}`} {
		var b metric.Batch
		if NewParser().Line(&b, []byte(l), Context{}) || len(b.Points)+len(b.Diags) > 0 {
			t.Errorf("%q read as a platform line", l)
		}
	}
}

// Report.Line writes what the parser reads back, field for field.
func TestReportLineRoundTrip(t *testing.T) {
	for _, r := range []Report{
		{RequestID: reqA, Duration: 12340 * time.Microsecond, BilledDuration: 13 * time.Millisecond, MemorySizeMB: 128, MaxMemoryUsed: 40 << 20},
		{RequestID: reqA, Duration: time.Second, BilledDuration: 1151 * time.Millisecond, MemorySizeMB: 512, MaxMemoryUsed: 300 << 20,
			InitDuration: 150210 * time.Microsecond, Status: StatusError, ErrorType: "Runtime.ExitError",
			TraceID: "1-5d9d007f-0a8c7fd02xmpl480aed55ef0", SegmentID: "3d752xmpl1bbe37e", Sampled: "true"},
		{RequestID: reqB, Duration: 3 * time.Second, BilledDuration: 3 * time.Second, MemorySizeMB: 128, MaxMemoryUsed: 60 << 20,
			RestoreDuration: 474160 * time.Microsecond, BilledRestoreDuration: 178 * time.Millisecond, Status: StatusTimeout},
	} {
		var got Report
		if msg := parseReport(&got, []byte(r.Line())); msg != "" {
			t.Fatalf("%q: %s", r.Line(), msg)
		}
		if diff := cmp.Diff(r, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", r.Line(), diff)
		}
	}
	// the runner's REPORT line for a warm invocation, byte for byte
	r := Report{RequestID: "1", Duration: 1234567 * time.Nanosecond, BilledDuration: 2 * time.Millisecond, MemorySizeMB: 128, MaxMemoryUsed: 40<<20 + 1}
	if want := "REPORT RequestId: 1\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 41 MB"; r.Line() != want {
		t.Errorf("Line() = %q, want %q", r.Line(), want)
	}
}

// The families are a contract (the runner builds its points through this
// package): a rename fails here.
func TestFamilyNames(t *testing.T) {
	for _, pair := range [][2]string{
		{MetricInvocations, "lambda_invocations_total"}, {MetricErrors, "lambda_errors_total"},
		{MetricThrottles, "lambda_throttles_total"}, {MetricTimeouts, "lambda_timeouts_total"},
		{MetricColdStarts, "lambda_cold_starts_total"}, {MetricDuration, "lambda_duration_seconds"},
		{MetricInitDuration, "lambda_init_duration_seconds"}, {MetricBilledDuration, "lambda_billed_duration_seconds_total"},
		{MetricConcurrent, "lambda_concurrent_executions"}, {MetricMaxMemoryUsed, "lambda_max_memory_used_bytes"},
		{MetricCost, "lambda_estimated_cost_usd_total"},
	} {
		if pair[0] != pair[1] {
			t.Errorf("family %s renamed from %s", pair[0], pair[1])
		}
	}
}

// A log that does not say its function gives points without a
// function_name label (not function_name="").
func TestNoFunction(t *testing.T) {
	var b metric.Batch
	NewParser(WithPerEnvironment(true)).Line(&b, []byte("START RequestId: 1 Version: $LATEST"), Context{})
	for _, pt := range b.Points {
		if len(pt.Labels) != 0 {
			t.Errorf("%s has labels", pt.String())
		}
	}
}

func TestPerEnvironmentAndArch(t *testing.T) {
	p := NewParser(WithPerEnvironment(true), WithArchitecture("arm64"))
	var b metric.Batch
	line := "REPORT RequestId: 1\tDuration: 1000.00 ms\tBilled Duration: 1000 ms\tMemory Size: 1024 MB\tMax Memory Used: 1 MB"
	p.Line(&b, []byte(line), Context{Origin: metric.Origin{Function: "fn"}, Stream: "2024/05/01/[$LATEST]abc"})
	last := b.Points[len(b.Points)-1]
	if env, _ := last.Label("lambda_environment"); env != "2024/05/01/[$LATEST]abc" {
		t.Errorf("lambda_environment = %q", env)
	}
	if want := PricePerRequest + PricePerGBSecondArm64; last.Name != MetricCost || last.Values[0] != want {
		t.Errorf("cost point %s, want %g", last.String(), want)
	}
}

func FuzzLine(f *testing.F) {
	f.Add("REPORT RequestId: " + reqA + "\tDuration: 46.84 ms\tBilled Duration: 47 ms \tMemory Size: 192 MB\tMax Memory Used: 72 MB\t")
	f.Add("INIT_REPORT Init Duration: 1.00 ms\tPhase: init\tStatus: timeout")
	f.Add(reqA + " Task timed out after 3.00 seconds")
	f.Add(`{"time":"2024-05-01T10:00:03.200Z","type":"platform.report","record":{"requestId":"a","metrics":{"durationMs":1,"billedDurationMs":1,"memorySizeMB":1,"maxMemoryUsedMB":1}}}`)
	f.Add(`{"time":"t","type":"platform.start","record":{"requestId":"a"}}`)
	f.Fuzz(func(t *testing.T, line string) {
		p := NewParser()
		var b metric.Batch
		for range 2 {
			p.Line(&b, []byte(line), Context{Origin: metric.Origin{Function: "fn"}})
		}
		for _, pt := range b.Points {
			if len(pt.Values) != 1 || pt.Values[0] < 0 || pt.Values[0] != pt.Values[0] {
				t.Fatalf("bad point %s from %q", pt.String(), line)
			}
		}
		for _, d := range b.Diags {
			if d.Rule == "" || d.Message == "" {
				t.Fatalf("incomplete diagnostic %+v", d)
			}
		}
	})
}

func itoa(i int) string { return strconv.Itoa(i) }

func strconvG(f float64) string { return strconv.FormatFloat(f, 'g', 8, 64) }

// Two environments of one function, interleaved: each stream's init makes
// its own next REPORT a cold start, and the concurrency gauge counts the
// invocations running across them.
func TestInterleavedStreams(t *testing.T) {
	report := func(id string) string {
		return "REPORT RequestId: " + id + "\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 10 MB"
	}
	lines := []struct{ stream, line string }{
		{"a", "INIT_START Runtime Version: go:1"},
		{"a", "START RequestId: 1 Version: $LATEST"},
		{"b", "INIT_START Runtime Version: go:1"},
		{"b", "START RequestId: 2 Version: $LATEST"},
		{"a", report("1")},
		{"a", "START RequestId: 3 Version: $LATEST"},
		{"b", report("2")},
		{"a", report("3")},
	}
	p := NewParser()
	var b metric.Batch
	var cold, concurrent []float64
	for i, l := range lines {
		b.Reset()
		p.Line(&b, []byte(l.line), Context{Origin: metric.Origin{Function: "fn", Line: i + 1}, Stream: l.stream})
		for _, pt := range b.Points {
			switch {
			case pt.Name == MetricColdStarts && pt.Values[0] > 0:
				cold = append(cold, float64(pt.Origin.Line))
			case pt.Name == MetricConcurrent:
				concurrent = append(concurrent, pt.Values[0])
			}
		}
	}
	if diff := cmp.Diff([]float64{5, 7}, cold); diff != "" {
		t.Errorf("cold starts at lines (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]float64{0, 1, 2, 1, 2, 1, 0}, concurrent); diff != "" {
		t.Errorf("concurrency (-want +got):\n%s", diff)
	}
}

package pipeline

import "github.com/lambdabridge/lambdabridge/metric"

// selfMetrics are the pipeline's own counts, guarded by Pipeline.mu. The
// builds that serve /metrics export them (self_prom.go):
// lambdabridge_log_lines_total{format},
// lambdabridge_dogstatsd_datagrams_total and
// lambdabridge_diagnostics_total{format,rule,severity}; the aggregator and
// each sink bring their own.
type selfMetrics struct {
	lines     map[metric.Format]uint64
	datagrams uint64
	diags     map[diagKey]uint64
}

type diagKey struct {
	format   metric.Format
	rule     string
	severity metric.Severity
}

func newSelfMetrics() selfMetrics {
	return selfMetrics{lines: map[metric.Format]uint64{}, diags: map[diagKey]uint64{}}
}

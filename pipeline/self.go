package pipeline

import "github.com/prometheus/client_golang/prometheus"

// selfMetrics are the pipeline's own counters; the aggregator and each sink
// bring their own collectors.
type selfMetrics struct {
	lines     *prometheus.CounterVec
	datagrams prometheus.Counter
	diags     *prometheus.CounterVec
}

func newSelfMetrics() *selfMetrics {
	return &selfMetrics{
		lines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambdabridge_log_lines_total",
			Help: "Log lines read from functions and log streams, by the metric format found in them (unknown: ordinary log lines).",
		}, []string{"format"}),
		datagrams: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lambdabridge_dogstatsd_datagrams_total",
			Help: "DogStatsD datagrams received.",
		}),
		diags: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambdabridge_diagnostics_total",
			Help: "Problems found in metric input, by format, rule and severity (error: the backend would drop it).",
		}, []string{"format", "rule", "severity"}),
	}
}

func (m *selfMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.lines.Describe(ch)
	m.datagrams.Describe(ch)
	m.diags.Describe(ch)
}

func (m *selfMetrics) Collect(ch chan<- prometheus.Metric) {
	m.lines.Collect(ch)
	m.datagrams.Collect(ch)
	m.diags.Collect(ch)
}

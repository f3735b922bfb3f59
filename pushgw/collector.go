//go:build !lambdabridge_extension

package pushgw

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The Lambda extension's build (tag lambdabridge_extension) leaves this
// file out: it serves no /metrics, and client_golang's prometheus package
// costs its cold start about 0.9 ms of CPU.

// Collector returns the sink's accounting as a prometheus.Collector, to be
// registered in lambdabridge's self registry. Its series carry a gateway
// label (scheme://host of the URL, no credentials, no path) and a group
// label (the grouping key as the Pushgateway's URL path writes it,
// job/<job>[/<label>/<value>...]), so sinks to several groups of one
// gateway register side by side.
func (s *Sink) Collector() prometheus.Collector {
	cl := prometheus.Labels{"gateway": s.stats.gateway, "group": s.stats.group}
	return collector{
		st:            s.stats,
		pushes:        prometheus.NewDesc("lambdabridge_pushgateway_pushes_total", "Successful pushes to the Pushgateway, by method.", []string{"method"}, cl),
		samplesPushed: prometheus.NewDesc("lambdabridge_pushgateway_samples_pushed_total", "Samples in successful pushes to the Pushgateway.", nil, cl),
		failures:      prometheus.NewDesc("lambdabridge_pushgateway_push_failures_total", "Failed pushes to the Pushgateway, by reason.", []string{"reason"}, cl),
		samplesFailed: prometheus.NewDesc("lambdabridge_pushgateway_samples_failed_total",
			"Samples in failed pushes to the Pushgateway, by reason (the next push carries them again).", []string{"reason"}, cl),
		deletes: prometheus.NewDesc("lambdabridge_pushgateway_deletes_total",
			"Deletes of the group on the Pushgateway, by result (ok or a failure reason).", []string{"result"}, cl),
		lastSuccess: prometheus.NewDesc("lambdabridge_pushgateway_last_success_timestamp_seconds",
			"When the last successful push ended, in Unix seconds.", nil, cl),
	}
}

type collector struct {
	st                                                                   *stats
	pushes, samplesPushed, failures, samplesFailed, deletes, lastSuccess *prometheus.Desc
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.pushes, c.samplesPushed, c.failures, c.samplesFailed, c.deletes, c.lastSuccess} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s, byMethod, last := c.st.snapshot()
	for m, n := range byMethod {
		ch <- prometheus.MustNewConstMetric(c.pushes, prometheus.CounterValue, float64(n), m)
	}
	ch <- prometheus.MustNewConstMetric(c.samplesPushed, prometheus.CounterValue, float64(s.SamplesPushed))
	for r, n := range s.Failures {
		ch <- prometheus.MustNewConstMetric(c.failures, prometheus.CounterValue, float64(n), r)
	}
	for r, n := range s.SamplesFailed {
		ch <- prometheus.MustNewConstMetric(c.samplesFailed, prometheus.CounterValue, float64(n), r)
	}
	for r, n := range s.Deletes {
		ch <- prometheus.MustNewConstMetric(c.deletes, prometheus.CounterValue, float64(n), r)
	}
	var ts float64
	if !last.IsZero() {
		ts = float64(last.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(c.lastSuccess, prometheus.GaugeValue, ts)
}

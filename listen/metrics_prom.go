//go:build !lambdabridge_extension

package listen

import "github.com/prometheus/client_golang/prometheus"

// The listeners' collectors are left out of the Lambda extension's build
// (tag lambdabridge_extension), which delivers the drop counters with its
// metrics instead and leaves client_golang's prometheus package out.

var (
	descDogStatsDDrops = prometheus.NewDesc(MetricDogStatsDDrops,
		"DogStatsD datagrams the kernel dropped because the socket's receive buffer was full (read too slowly); their metrics are lost. Linux only.", nil, nil)
	descEMFAgentDrops = prometheus.NewDesc(MetricEMFAgentDrops,
		"EMF agent UDP datagrams the kernel dropped because the socket's receive buffer was full (read too slowly); their metrics are lost. Linux only.", nil, nil)
)

// Describe and Collect make the listener a prometheus.Collector of its
// kernel drop counter: register it next to the pipeline's own metrics.
func (l *DogStatsD) Describe(ch chan<- *prometheus.Desc) { ch <- descDogStatsDDrops }

// Collect reads the kernel's drop counter now.
func (l *DogStatsD) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descDogStatsDDrops, prometheus.CounterValue, float64(l.sock.drops.read()))
}

// Describe and Collect make the endpoint a prometheus.Collector of its UDP
// socket's kernel drop counter.
func (a *EMFAgent) Describe(ch chan<- *prometheus.Desc) { ch <- descEMFAgentDrops }

// Collect reads the kernel's drop counter now.
func (a *EMFAgent) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descEMFAgentDrops, prometheus.CounterValue, float64(a.udp.drops.read()))
}

// DogStatsDDrops is lambdabridge_dogstatsd_kernel_dropped_datagrams_total
// read from a function: the collector of a program with several DogStatsD
// listeners (one per execution environment), which registers it instead of
// each listener.
type DogStatsDDrops func() uint64

// Describe and Collect make it a prometheus.Collector.
func (f DogStatsDDrops) Describe(ch chan<- *prometheus.Desc) { ch <- descDogStatsDDrops }

// Collect reads the count now.
func (f DogStatsDDrops) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descDogStatsDDrops, prometheus.CounterValue, float64(f()))
}

package pushgw

import (
	"maps"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Stats is a snapshot of what a sink has pushed.
type Stats struct {
	Pushes        uint64            // successful pushes
	SamplesPushed uint64            // samples in successful pushes
	Failures      map[string]uint64 // failed pushes by reason
	SamplesFailed map[string]uint64 // samples in failed pushes by reason
	Deletes       map[string]uint64 // deletes by result ("ok" or a reason)
}

type stats struct {
	mu sync.Mutex
	s  Stats

	pushes        *prometheus.CounterVec
	samplesPushed prometheus.Counter
	failures      *prometheus.CounterVec
	samplesFailed *prometheus.CounterVec
	deletes       *prometheus.CounterVec
	lastSuccess   prometheus.Gauge
}

func newStats(gateway, group string) *stats {
	cl := prometheus.Labels{"gateway": gateway, "group": group}
	st := &stats{
		s: Stats{Failures: map[string]uint64{}, SamplesFailed: map[string]uint64{}, Deletes: map[string]uint64{}},
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambdabridge_pushgateway_pushes_total", ConstLabels: cl,
			Help: "Successful pushes to the Pushgateway, by method.",
		}, []string{"method"}),
		samplesPushed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lambdabridge_pushgateway_samples_pushed_total", ConstLabels: cl,
			Help: "Samples in successful pushes to the Pushgateway.",
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambdabridge_pushgateway_push_failures_total", ConstLabels: cl,
			Help: "Failed pushes to the Pushgateway, by reason.",
		}, []string{"reason"}),
		samplesFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambdabridge_pushgateway_samples_failed_total", ConstLabels: cl,
			Help: "Samples in failed pushes to the Pushgateway, by reason (the next push carries them again).",
		}, []string{"reason"}),
		deletes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambdabridge_pushgateway_deletes_total", ConstLabels: cl,
			Help: "Deletes of the group on the Pushgateway, by result (ok or a failure reason).",
		}, []string{"result"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lambdabridge_pushgateway_last_success_timestamp_seconds", ConstLabels: cl,
			Help: "When the last successful push ended, in Unix seconds.",
		}),
	}
	return st
}

func (st *stats) pushed(method string, samples int) {
	st.mu.Lock()
	st.s.Pushes++
	st.s.SamplesPushed += uint64(samples)
	st.mu.Unlock()
	st.pushes.WithLabelValues(method).Inc()
	st.samplesPushed.Add(float64(samples))
	st.lastSuccess.SetToCurrentTime()
}

func (st *stats) failed(reason string, samples int) {
	st.mu.Lock()
	st.s.Failures[reason]++
	st.s.SamplesFailed[reason] += uint64(samples)
	st.mu.Unlock()
	st.failures.WithLabelValues(reason).Inc()
	st.samplesFailed.WithLabelValues(reason).Add(float64(samples))
}

func (st *stats) deleted(result string) {
	st.mu.Lock()
	st.s.Deletes[result]++
	st.mu.Unlock()
	st.deletes.WithLabelValues(result).Inc()
}

// Stats returns a snapshot of the sink's counts.
func (s *Sink) Stats() Stats {
	st := s.stats
	st.mu.Lock()
	defer st.mu.Unlock()
	out := st.s
	out.Failures = maps.Clone(st.s.Failures)
	out.SamplesFailed = maps.Clone(st.s.SamplesFailed)
	out.Deletes = maps.Clone(st.s.Deletes)
	return out
}

// Collector returns the sink's accounting as a prometheus.Collector, to be
// registered in lambdabridge's self registry. Its series carry a gateway
// label (scheme://host of the URL, no credentials, no path) and a group
// label (the grouping key as the Pushgateway's URL path writes it,
// job/<job>[/<label>/<value>...]), so sinks to several groups of one
// gateway register side by side.
func (s *Sink) Collector() prometheus.Collector { return collector{s.stats} }

type collector struct{ st *stats }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	c.st.pushes.Describe(ch)
	c.st.samplesPushed.Describe(ch)
	c.st.failures.Describe(ch)
	c.st.samplesFailed.Describe(ch)
	c.st.deletes.Describe(ch)
	c.st.lastSuccess.Describe(ch)
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	c.st.pushes.Collect(ch)
	c.st.samplesPushed.Collect(ch)
	c.st.failures.Collect(ch)
	c.st.samplesFailed.Collect(ch)
	c.st.deletes.Collect(ch)
	c.st.lastSuccess.Collect(ch)
}

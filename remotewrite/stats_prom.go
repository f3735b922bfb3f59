//go:build !lambdabridge_extension

package remotewrite

import "github.com/prometheus/client_golang/prometheus"

// The Lambda extension's build (tag lambdabridge_extension) leaves the
// writer's collector out, and with it client_golang's prometheus package:
// it serves no /metrics (stats_ext.go).

// Describe implements prometheus.Collector.
func (w *Writer) Describe(ch chan<- *prometheus.Desc) { w.coll.Describe(ch) }

// Collect implements prometheus.Collector.
func (w *Writer) Collect(ch chan<- prometheus.Metric) { w.coll.Collect(ch) }

// collector exports a writer's counters.
type collector struct {
	c        *counters
	q        *queue
	samples  *prometheus.Desc
	queue    *prometheus.Desc
	inFlight *prometheus.Desc
	cap      *prometheus.Desc
	shards   *prometheus.Desc
	meta     *prometheus.Desc
	qcap     int
}

func newCollector(c *counters, q *queue, remote func() string, qcap int) *collector {
	cl := prometheus.Labels{"remote": remote()}
	return &collector{
		c: c, q: q,
		samples: prometheus.NewDesc("lambdabridge_remote_write_samples_total",
			"Samples handled by a remote_write sink, by outcome (sent, coalesced: replaced while waiting by a newer sample of their series, retried, dropped) and reason.",
			[]string{"outcome", "reason"}, cl),
		queue: prometheus.NewDesc("lambdabridge_remote_write_queue_samples",
			"Samples waiting in a remote_write sink's queue (at most its capacity plus one per series; the batches being sent are in lambdabridge_remote_write_in_flight_samples).", nil, cl),
		meta: prometheus.NewDesc("lambdabridge_remote_write_metadata_total",
			"Metadata entries (type, help and unit of one family) a remote_write sink sent with Remote Write 1.0, by outcome (sent, failed).", []string{"outcome"}, cl),
		shards: prometheus.NewDesc("lambdabridge_remote_write_shards",
			"Shards (parallel senders) of a remote_write sink, between min_shards and max_shards.", nil, cl),
		inFlight: prometheus.NewDesc("lambdabridge_remote_write_in_flight_samples",
			"Samples a remote_write sink took from its queue and has not yet sent or dropped (the batch being sent or retried).", nil, cl),
		cap: prometheus.NewDesc("lambdabridge_remote_write_queue_capacity_samples",
			"Capacity of a remote_write sink's queue.", nil, cl),
		qcap: qcap,
	}
}

func (cl *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- cl.samples
	ch <- cl.queue
	ch <- cl.inFlight
	ch <- cl.cap
	ch <- cl.shards
	ch <- cl.meta
}

func (cl *collector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(cl.samples, prometheus.CounterValue, float64(cl.c.sent.Load()), "sent", "")
	ch <- prometheus.MustNewConstMetric(cl.samples, prometheus.CounterValue, float64(cl.c.coalesced.Load()), "coalesced", "")
	for r := reason(1); r < numReasons; r++ {
		if n := cl.c.dropped[r].Load(); n > 0 {
			ch <- prometheus.MustNewConstMetric(cl.samples, prometheus.CounterValue, float64(n), "dropped", r.String())
		}
		if n := cl.c.retried[r].Load(); n > 0 {
			ch <- prometheus.MustNewConstMetric(cl.samples, prometheus.CounterValue, float64(n), "retried", r.String())
		}
	}
	queued, inFlight := cl.q.depth()
	ch <- prometheus.MustNewConstMetric(cl.queue, prometheus.GaugeValue, float64(queued))
	ch <- prometheus.MustNewConstMetric(cl.inFlight, prometheus.GaugeValue, float64(inFlight))
	ch <- prometheus.MustNewConstMetric(cl.cap, prometheus.GaugeValue, float64(cl.qcap))
	ch <- prometheus.MustNewConstMetric(cl.shards, prometheus.GaugeValue, float64(cl.q.numShards()))
	ch <- prometheus.MustNewConstMetric(cl.meta, prometheus.CounterValue, float64(cl.c.metaSent.Load()), "sent")
	ch <- prometheus.MustNewConstMetric(cl.meta, prometheus.CounterValue, float64(cl.c.metaFailed.Load()), "failed")
}

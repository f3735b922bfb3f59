package validate

import (
	"strconv"
	"testing"

	"github.com/lambdabridge/lambdabridge/metric"
)

// BenchmarkCheckLabels checks one DogStatsD point with 10k, 40k and 100k
// tags, the last two keys clashing: ns/tag (reported) stays flat when the
// cost is linear in the number of tags.
func BenchmarkCheckLabels(b *testing.B) {
	for _, n := range []int{10_000, 40_000, 100_000} {
		b.Run("tags="+strconv.Itoa(n), func(b *testing.B) {
			labels := make([]metric.Label, n)
			size := 0
			for i := range n - 2 {
				labels[i] = metric.Label{Name: "tag" + strconv.Itoa(i), Value: "v"}
				size += len(labels[i].Name) + 3
			}
			labels[n-2], labels[n-1] = metric.Label{Name: "env.name", Value: "a"}, metric.Label{Name: "env_name", Value: "b"}
			var batch metric.Batch
			batch.AddPoint(metric.Point{Format: metric.FormatDogStatsD, Name: "wide", Kind: metric.Gauge, Labels: labels, Values: []float64{1}})
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				batch.Diags = batch.Diags[:0]
				New().Check(&batch)
			}
			if len(batch.Diags) != 1 {
				b.Fatalf("%d diagnostics, want the one clash", len(batch.Diags))
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/tag")
		})
	}
}

// BenchmarkCheck checks a batch of the points producers typically write
// (EMF with three dimensions, DogStatsD with four tags, a service check),
// the per-point cost every log line pays in validate, tail and run.
func BenchmarkCheck(b *testing.B) {
	emfLabels := []metric.Label{{Name: "service", Value: "orders"}, {Name: "environment", Value: "prod"}, {Name: "Region", Value: "eu-west-1"}}
	tags := []metric.Label{{Name: "service", Value: "producer"}, {Name: "env", Value: "prod"}, {Name: "team"}, {Name: "url", Value: "http://example.com:8080/a"}}
	var batch metric.Batch
	for _, p := range []metric.Point{
		{Format: metric.FormatEMF, Namespace: "Shop", Name: "Latency", Unit: "Milliseconds", Kind: metric.Histogram, Labels: emfLabels},
		{Format: metric.FormatEMF, Namespace: "Shop", Name: "Orders", Unit: "Count", Kind: metric.Counter, Labels: emfLabels},
		{Format: metric.FormatEMF, Namespace: "Shop", Name: "PayloadSize", Unit: "Bytes", Kind: metric.Gauge, Labels: emfLabels},
		{Format: metric.FormatDogStatsD, Name: "lb.orders.placed", Kind: metric.Counter, Labels: tags},
		{Format: metric.FormatDogStatsD, Name: "lb.request.latency", Kind: metric.Distribution, Labels: tags},
		{Format: metric.FormatDogStatsD, Name: "db.up", Kind: metric.ServiceCheck, Labels: tags[:1]},
	} {
		batch.AddPoint(p)
	}
	c := New()
	b.ReportAllocs()
	for b.Loop() {
		batch.Diags = batch.Diags[:0]
		c.Check(&batch)
	}
	if len(batch.Diags) != 0 {
		b.Fatal(batch.Diags)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(batch.Points)), "ns/point")
}

package aggregate

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lambdabridge/lambdabridge/internal/testenv"
	"github.com/lambdabridge/lambdabridge/metric"
)

func benchPoint(kind metric.Kind) metric.Point {
	return metric.Point{
		Format: metric.FormatDogStatsD, Name: "api.requests", Kind: kind,
		Labels: []metric.Label{{Name: "route", Value: "/checkout"}, {Name: "status", Value: "200"}, {Name: "env", Value: "prod"}},
		Values: []float64{0.25},
	}
}

// BenchmarkAdd measures Add for an existing series; counters and gauges must
// not allocate.
func BenchmarkAdd(b *testing.B) {
	for _, k := range []metric.Kind{metric.Counter, metric.Gauge, metric.Histogram, metric.Timer} {
		b.Run(k.String(), func(b *testing.B) {
			agg := New()
			p := benchPoint(k)
			agg.Add(&p)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				agg.Add(&p)
			}
		})
	}
	b.Run("emf-histogram", func(b *testing.B) {
		agg := New()
		p := emf("Shop", "Latency", "Milliseconds", []float64{100, 200}, "Service", "checkout")
		agg.Add(&p)
		b.ReportAllocs()
		for b.Loop() {
			agg.Add(&p)
		}
	})
	b.Run("parallel-counter", func(b *testing.B) {
		agg := New()
		p := benchPoint(metric.Counter)
		agg.Add(&p)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			p := benchPoint(metric.Counter)
			for pb.Next() {
				agg.Add(&p)
			}
		})
	})
	// baseline: client_golang's CounterVec with the same labels, already
	// translated (no name or label translation at all)
	b.Run("baseline-client_golang-countervec", func(b *testing.B) {
		cv := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "api_requests_total", Help: "h"}, []string{"env", "route", "status"})
		b.ReportAllocs()
		for b.Loop() {
			cv.WithLabelValues("prod", "/checkout", "200").Add(0.25)
		}
	})
}

// BenchmarkGather measures Gather over 10k counter series.
func BenchmarkGather(b *testing.B) {
	agg := New()
	fill(agg, metric.Counter, 10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := agg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}

func fill(agg *Aggregator, kind metric.Kind, n int) {
	var batch metric.Batch
	for i := range n {
		batch.Reset()
		id := strconv.Itoa(i)
		p := batch.AddPoint(metric.Point{
			Format: metric.FormatDogStatsD, Name: "api.requests", Kind: kind,
			Labels: batch.Labels([]metric.Label{{Name: "route", Value: "/r/" + id}, {Name: "status", Value: "200"}, {Name: "function_name", Value: "checkout-service"}}),
			Values: batch.Values([]float64{float64(i%100) / 100}),
		})
		agg.Add(p)
	}
}

// heapPerSeries returns the heap bytes per series that n series of kind take.
func heapPerSeries(kind metric.Kind, n int, opts ...Option) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	agg := New(append([]Option{WithMaxSeries(0), WithMaxSeriesPerFamily(0)}, opts...)...)
	fill(agg, kind, n)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(agg)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// TestMemoryPerSeries checks the budget: at most 1 KB per active
// series at 100k series (counters and gauges). Histograms are reported.
func TestMemoryPerSeries(t *testing.T) {
	if testing.Short() || testenv.RaceEnabled {
		t.Skip("allocates 100k series; heap figures are meaningless under -race")
	}
	const n = 100000
	for _, k := range []metric.Kind{metric.Counter, metric.Gauge, metric.Histogram} {
		got := heapPerSeries(k, n)
		t.Logf("%s: %.0f bytes/series at %d series", k, got, n)
		if k != metric.Histogram && got > 1024 {
			t.Errorf("%s: %.0f bytes per series, budget 1024", k, got)
		}
	}
}

// BenchmarkMemoryPerSeries reports bytes/series at 100k series.
func BenchmarkMemoryPerSeries(b *testing.B) {
	for _, k := range []metric.Kind{metric.Counter, metric.Gauge, metric.Histogram} {
		b.Run(k.String(), func(b *testing.B) {
			var v float64
			for b.Loop() {
				v = heapPerSeries(k, 100000)
			}
			b.ReportMetric(v, "bytes/series")
		})
	}
}

func TestAddDoesNotAllocate(t *testing.T) {
	if testenv.RaceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, k := range []metric.Kind{metric.Counter, metric.Gauge} {
		agg := New(WithConstLabels(metric.Label{Name: "function_name", Value: "fn"}))
		p := benchPoint(k)
		agg.Add(&p)
		if n := testing.AllocsPerRun(1000, func() { agg.Add(&p) }); n != 0 {
			t.Errorf("%s: %v allocations per Add of an existing series", k, n)
		}
	}
}

// BenchmarkMemory1MSeries reports the heap that one million counter and
// histogram series take: bytes/series and MB in all.
func BenchmarkMemory1MSeries(b *testing.B) {
	const n = 1_000_000
	for _, k := range []metric.Kind{metric.Counter, metric.Histogram} {
		b.Run(k.String(), func(b *testing.B) {
			var v float64
			for b.Loop() {
				v = heapPerSeries(k, n)
			}
			b.ReportMetric(v, "bytes/series")
			b.ReportMetric(v*n/1e6, "MB")
		})
	}
}

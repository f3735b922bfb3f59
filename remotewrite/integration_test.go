package remotewrite

import (
	"context"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/internal/testenv"
	"github.com/prometheus/client_golang/prometheus"
)

// TestRealReceivers sends a registry through a Writer to a real Prometheus
// (with native histograms) and a real VictoriaMetrics, and reads the values
// back with PromQL.
func TestRealReceivers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real Prometheus and VictoriaMetrics; skipped with -short")
	}
	type backend struct {
		q      testenv.Querier
		url    string
		native bool
	}
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) backend
	}{
		{"prometheus", func(t *testing.T) backend {
			p := testenv.StartPrometheus(t, testenv.WithPrometheusArgs("--enable-feature=native-histograms"))
			return backend{p, p.RemoteWriteURL(), true}
		}},
		{"victoria-metrics", func(t *testing.T) backend {
			v := testenv.StartVictoriaMetrics(t)
			return backend{v, v.RemoteWriteURL(), false}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.start(t)
			reg := prometheus.NewRegistry()
			calls := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "invocations_total", Help: "h"}, []string{"function"})
			mem := prometheus.NewGauge(prometheus.GaugeOpts{Name: "memory_bytes", Help: "h"})
			dur := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "duration_seconds", Help: "h",
				Buckets: []float64{0.1, 1, 10}, NativeHistogramBucketFactor: 1.1})
			rpc := prometheus.NewSummary(prometheus.SummaryOpts{Name: "rpc_seconds", Help: "h", Objectives: map[float64]float64{0.5: 0.05}})
			reg.MustRegister(calls, mem, dur, rpc)
			calls.WithLabelValues("a").Add(3)
			calls.WithLabelValues("b").Add(5)
			mem.Set(128)
			for _, v := range []float64{0.05, 0.5, 5} {
				dur.Observe(v)
				rpc.Observe(v)
			}
			cfg := DefaultConfig()
			cfg.URL = b.url
			cfg.SendNativeHistograms = b.native
			w, err := New(cfg, WithGatherer(reg), WithExternalLabels(map[string]string{"env": "it"}))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			const timeout = 15 * time.Second
			testenv.EventuallyValue(t, b.q, `invocations_total{function="a",env="it"}`, 3, timeout)
			testenv.EventuallyValue(t, b.q, `invocations_total{function="b"}`, 5, timeout)
			testenv.EventuallyValue(t, b.q, `memory_bytes`, 128, timeout)
			testenv.EventuallyValue(t, b.q, `rpc_seconds{quantile="0.5"}`, 0.5, timeout)
			testenv.EventuallyValue(t, b.q, `rpc_seconds_count`, 3, timeout)
			testenv.EventuallyValue(t, b.q, `rpc_seconds_sum`, 5.55, timeout)
			if b.native {
				testenv.EventuallyValue(t, b.q, `histogram_count(duration_seconds)`, 3, timeout)
				testenv.EventuallyValue(t, b.q, `histogram_sum(duration_seconds)`, 5.55, timeout)
			} else {
				testenv.EventuallyValue(t, b.q, `duration_seconds_bucket{le="1"}`, 2, timeout)
				testenv.EventuallyValue(t, b.q, `duration_seconds_bucket{le="+Inf"}`, 3, timeout)
				testenv.EventuallyValue(t, b.q, `duration_seconds_count`, 3, timeout)
			}

			// a later gather moves the counter on
			time.Sleep(10 * time.Millisecond)
			calls.WithLabelValues("a").Inc()
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			testenv.EventuallyValue(t, b.q, `invocations_total{function="a"}`, 4, timeout)

			s, err := w.Close(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if s.Emitted != s.Sent || s.Pending != 0 {
				t.Errorf("stats %s: want everything sent", s)
			}
			// Close ends no series: right after it, they hold their final values.
			testenv.EventuallyVector(t, b.q, `invocations_total`, testenv.Vector{
				`invocations_total{env="it", function="a"}`: 4,
				`invocations_total{env="it", function="b"}`: 5,
			}, timeout)
		})
	}
}

// BenchmarkRealPrometheusIngest measures delivered samples/s from one Writer
// into a real Prometheus: gathers of 10k series, each flushed (sent in batches
// of max_samples_per_send and acknowledged) before the next.
func BenchmarkRealPrometheusIngest(b *testing.B) {
	p := testenv.StartPrometheus(b)
	const n = 10_000
	fams := gauges(n, 1)
	cfg := DefaultConfig()
	cfg.URL = p.RemoteWriteURL()
	cfg.QueueConfig.Capacity = 2 * n
	w, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ts := time.Now()
	_ = w.Append(fams, ts) // create the series first
	if err := w.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		for _, m := range fams[0].Metric {
			*m.Gauge.Value = float64(i)
		}
		ts = ts.Add(time.Millisecond)
		_ = w.Append(fams, ts)
		if err := w.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	if s, err := w.Close(ctx); err != nil || s.Sent != s.Emitted {
		b.Fatalf("close: %v (%s)", err, s)
	}
}

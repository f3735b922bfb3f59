package remotewrite

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/golang/snappy"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/prompb"
	"google.golang.org/protobuf/proto"
)

const benchSamples = 2000

// benchLabels returns 2000 realistic label sets: a Lambda duration histogram
// with 20 buckets over 100 functions, plus external labels.
func benchLabels() [][]label {
	var out [][]label
	for fn := 0; len(out) < benchSamples; fn++ {
		for le := range 20 {
			out = append(out, []label{
				{"__name__", "lambda_function_duration_seconds_bucket"},
				{"env", "local"},
				{"function_name", fmt.Sprintf("orders-service-handler-%03d", fn)},
				{"instance", "lambdabridge:9464"},
				{"job", "lambdabridge"},
				{"le", fmt.Sprint(0.005 * float64(int(1)<<le))},
			})
		}
	}
	return out[:benchSamples]
}

func reportPerSample(b *testing.B) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / benchSamples
	b.ReportMetric(ns, "ns/sample")
	b.ReportMetric(1e9/ns, "samples/s")
}

func naiveEncode(sets [][]label, ts int64) []byte {
	req := &prompb.WriteRequest{}
	for i, set := range sets {
		ls := make([]prompb.Label, 0, len(set))
		for _, l := range set {
			ls = append(ls, prompb.Label{Name: l.name, Value: l.value})
		}
		req.Timeseries = append(req.Timeseries, prompb.TimeSeries{
			Labels:  ls,
			Samples: []prompb.Sample{{Value: float64(i) + 0.5, Timestamp: ts}},
		})
	}
	pb, err := req.Marshal()
	if err != nil {
		panic(err)
	}
	return snappy.Encode(nil, pb)
}

func benchBatch(sets [][]label, ts int64) []sample {
	batch := make([]sample, len(sets))
	for i, set := range sets {
		batch[i] = sample{s: &series{labels: string(encodeLabels(nil, set))}, t: ts, v: float64(i) + 0.5}
	}
	return batch
}

// BenchmarkEncodePaired alternates the naive encoding and the writer's in
// every iteration, so both see the same machine load (a shared machine makes
// separate runs incomparable), and reports the cost of each per sample in wall
// time and in process CPU time (GC included), and the ratios.
func BenchmarkEncodePaired(b *testing.B) {
	sets := benchLabels()
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	batch := benchBatch(sets, ts)
	var e encoder
	var naive, writer, naiveCPU, writerCPU time.Duration
	for b.Loop() {
		c0, t0 := cpuTime(), time.Now()
		naiveEncode(sets, ts)
		c1, t1 := cpuTime(), time.Now()
		e.encode(batch)
		writer += time.Since(t1)
		writerCPU += cpuTime() - c1
		naive += t1.Sub(t0)
		naiveCPU += c1 - c0
	}
	n := float64(b.N) * benchSamples
	b.ReportMetric(float64(naive.Nanoseconds())/n, "naive-ns/sample")
	b.ReportMetric(float64(writer.Nanoseconds())/n, "writer-ns/sample")
	b.ReportMetric(float64(writer)/float64(naive), "writer/naive")
	if naiveCPU > 0 {
		b.ReportMetric(float64(naiveCPU.Nanoseconds())/n, "naive-cpu-ns/sample")
		b.ReportMetric(float64(writerCPU.Nanoseconds())/n, "writer-cpu-ns/sample")
		b.ReportMetric(float64(writerCPU)/float64(naiveCPU), "writer/naive-cpu")
	}
}

// BenchmarkEncode compares the writer's encoder with the naive way, side by
// side: a fresh prompb.WriteRequest with new slices per sample, Marshal,
// snappy.Encode.
func BenchmarkEncode(b *testing.B) {
	sets := benchLabels()
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	b.Run("naive", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.SetBytes(int64(len(naiveEncode(sets, ts))))
		}
		reportPerSample(b)
	})
	b.Run("writer", func(b *testing.B) {
		batch := benchBatch(sets, ts)
		var e encoder
		b.ReportAllocs()
		for b.Loop() {
			out := e.encode(batch)
			b.SetBytes(int64(len(out)))
		}
		reportPerSample(b)
	})
	b.Run("writer-rw2", func(b *testing.B) {
		batch := benchBatch(sets, ts)
		meta := &familyMeta{name: "m", help: "Help.", typ: dto.MetricType_COUNTER}
		for i := range batch {
			batch[i].meta = meta
		}
		e := newEncoderV2()
		b.ReportAllocs()
		for b.Loop() {
			out, _, _ := e.encode(batch, true)
			b.SetBytes(int64(len(out)))
		}
		reportPerSample(b)
	})
}

// BenchmarkConvertEncode measures the whole path of one gather: dto families
// to series lookup, queue-ready samples, encoding and compression.
func BenchmarkConvertEncode(b *testing.B) {
	f := &dto.MetricFamily{Name: proto.String("lambda_function_duration_seconds"), Type: dto.MetricType_HISTOGRAM.Enum()}
	for fn := range benchSamples / 22 { // 20 buckets + +Inf + _sum + _count = 23 series per function
		h := &dto.Histogram{SampleCount: proto.Uint64(100), SampleSum: proto.Float64(12.5)}
		for le := range 20 {
			h.Bucket = append(h.Bucket, &dto.Bucket{UpperBound: proto.Float64(0.005 * float64(int(1)<<le)), CumulativeCount: proto.Uint64(uint64(le))})
		}
		f.Metric = append(f.Metric, &dto.Metric{Label: lp("function_name", fmt.Sprintf("orders-service-handler-%03d", fn)), Histogram: h})
	}
	fams := []*dto.MetricFamily{f}
	c := newConverter(map[string]string{"env": "local", "job": "lambdabridge", "instance": "lambdabridge:9464"}, false)
	var e encoder
	var buf []sample
	t := int64(1)
	drop := func(reason, int) { b.Fatal("drop") }
	buf = c.convert(buf[:0], fams, t, false, drop) // warm the series cache
	n := len(buf)
	b.ReportAllocs()
	for b.Loop() {
		t++
		buf = c.convert(buf[:0], fams, t, false, drop)
		e.encode(buf)
	}
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(n)
	b.ReportMetric(ns, "ns/sample")
	b.ReportMetric(1e9/ns, "samples/s")
}

// BenchmarkSeriesMemory reports the heap the writer keeps per active series
// (label set, encoded labels, last timestamp and value, map entry) for 100k
// gauges with four labels.
func BenchmarkSeriesMemory(b *testing.B) {
	const n = 100_000
	f := &dto.MetricFamily{Name: proto.String("lambda_function_invocations_total"), Type: dto.MetricType_COUNTER.Enum()}
	for i := range n {
		f.Metric = append(f.Metric, &dto.Metric{
			Label:   lp("function_name", fmt.Sprintf("orders-service-handler-%06d", i), "region", "eu-west-1", "runtime", "nodejs20.x"),
			Counter: &dto.Counter{Value: proto.Float64(float64(i))},
		})
	}
	fams := []*dto.MetricFamily{f}
	var perSeries float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c := newConverter(map[string]string{"env": "local"}, false)
		out := c.convert(nil, fams, 1, false, func(reason, int) {})
		_ = out
		runtime.GC()
		runtime.ReadMemStats(&after)
		perSeries = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(c)
		_ = out
	}
	b.ReportMetric(perSeries, "B/series")
}

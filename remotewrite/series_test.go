package remotewrite

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/prompb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func lp(kv ...string) []*dto.LabelPair {
	var out []*dto.LabelPair
	for i := 0; i < len(kv); i += 2 {
		out = append(out, &dto.LabelPair{Name: proto.String(kv[i]), Value: proto.String(kv[i+1])})
	}
	return out
}

func pl(kv ...string) []prompb.Label {
	var out []prompb.Label
	for i := 0; i < len(kv); i += 2 {
		out = append(out, prompb.Label{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

func fs(v float64, t int64) []prompb.Sample { return []prompb.Sample{{Value: v, Timestamp: t}} }

// roundTrip converts, encodes and decodes families, as a receiver sees them.
func roundTrip(t *testing.T, c *converter, fams []*dto.MetricFamily, ts int64) ([]prompb.TimeSeries, map[string]int) {
	t.Helper()
	drops := map[string]int{}
	samples := c.convert(nil, fams, ts, false, func(r reason, n int) { drops[r.String()] += n })
	var e encoder
	body := e.encode(samples)
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		t.Fatal(err)
	}
	var req prompb.WriteRequest
	if err := req.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	return req.Timeseries, drops
}

func TestConvert(t *testing.T) {
	const ts = 1000
	nativeH := &dto.Histogram{
		SampleCount: proto.Uint64(5), SampleSum: proto.Float64(12.5),
		Schema: proto.Int32(3), ZeroThreshold: proto.Float64(1e-128), ZeroCount: proto.Uint64(1),
		PositiveSpan:  []*dto.BucketSpan{{Offset: proto.Int32(0), Length: proto.Uint32(2)}},
		PositiveDelta: []int64{1, 2},
		Bucket:        []*dto.Bucket{{UpperBound: proto.Float64(1), CumulativeCount: proto.Uint64(2)}},
	}
	for _, tc := range []struct {
		name     string
		native   bool
		external map[string]string
		fams     []*dto.MetricFamily
		want     []prompb.TimeSeries
		drops    map[string]int
	}{
		{
			name: "counter, labels sorted, empty value absent",
			fams: []*dto.MetricFamily{{Name: proto.String("requests_total"), Type: dto.MetricType_COUNTER.Enum(), Metric: []*dto.Metric{
				{Label: lp("z", "1", "a", "2", "empty", ""), Counter: &dto.Counter{Value: proto.Float64(7)}},
			}}},
			want: []prompb.TimeSeries{{Labels: pl("__name__", "requests_total", "a", "2", "z", "1"), Samples: fs(7, ts)}},
		},
		{
			name: "gauge and untyped, zero value",
			fams: []*dto.MetricFamily{
				{Name: proto.String("g"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(0)}}}},
				{Name: proto.String("u"), Type: dto.MetricType_UNTYPED.Enum(), Metric: []*dto.Metric{{Untyped: &dto.Untyped{Value: proto.Float64(-1.5)}}}},
			},
			want: []prompb.TimeSeries{
				{Labels: pl("__name__", "g"), Samples: fs(0, ts)},
				{Labels: pl("__name__", "u"), Samples: fs(-1.5, ts)},
			},
		},
		{
			name: "summary",
			fams: []*dto.MetricFamily{{Name: proto.String("rpc_seconds"), Type: dto.MetricType_SUMMARY.Enum(), Metric: []*dto.Metric{{
				Label: lp("fn", "f"),
				Summary: &dto.Summary{SampleCount: proto.Uint64(3), SampleSum: proto.Float64(1.5), Quantile: []*dto.Quantile{
					{Quantile: proto.Float64(0.5), Value: proto.Float64(0.4)}, {Quantile: proto.Float64(0.99), Value: proto.Float64(0.9)},
				}},
			}}}},
			want: []prompb.TimeSeries{
				{Labels: pl("__name__", "rpc_seconds", "fn", "f", "quantile", "0.5"), Samples: fs(0.4, ts)},
				{Labels: pl("__name__", "rpc_seconds", "fn", "f", "quantile", "0.99"), Samples: fs(0.9, ts)},
				{Labels: pl("__name__", "rpc_seconds_sum", "fn", "f"), Samples: fs(1.5, ts)},
				{Labels: pl("__name__", "rpc_seconds_count", "fn", "f"), Samples: fs(3, ts)},
			},
		},
		{
			name: "classic histogram, +Inf added",
			fams: []*dto.MetricFamily{{Name: proto.String("d"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{
				Histogram: &dto.Histogram{SampleCount: proto.Uint64(4), SampleSum: proto.Float64(9), Bucket: []*dto.Bucket{
					{UpperBound: proto.Float64(0.25), CumulativeCount: proto.Uint64(1)}, {UpperBound: proto.Float64(1e6), CumulativeCount: proto.Uint64(3)},
				}},
			}}}},
			want: []prompb.TimeSeries{
				{Labels: pl("__name__", "d_bucket", "le", "0.25"), Samples: fs(1, ts)},
				{Labels: pl("__name__", "d_bucket", "le", "1e+06"), Samples: fs(3, ts)},
				{Labels: pl("__name__", "d_bucket", "le", "+Inf"), Samples: fs(4, ts)},
				{Labels: pl("__name__", "d_sum"), Samples: fs(9, ts)},
				{Labels: pl("__name__", "d_count"), Samples: fs(4, ts)},
			},
		},
		{
			name: "classic histogram with +Inf bucket",
			fams: []*dto.MetricFamily{{Name: proto.String("d"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{
				Histogram: &dto.Histogram{SampleCount: proto.Uint64(2), SampleSum: proto.Float64(3), Bucket: []*dto.Bucket{
					{UpperBound: proto.Float64(math.Inf(1)), CumulativeCount: proto.Uint64(2)},
				}},
			}}}},
			want: []prompb.TimeSeries{
				{Labels: pl("__name__", "d_bucket", "le", "+Inf"), Samples: fs(2, ts)},
				{Labels: pl("__name__", "d_sum"), Samples: fs(3, ts)},
				{Labels: pl("__name__", "d_count"), Samples: fs(2, ts)},
			},
		},
		{
			name: "native histogram sent as classic by default",
			fams: []*dto.MetricFamily{{Name: proto.String("n"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{Histogram: nativeH}}}},
			want: []prompb.TimeSeries{
				{Labels: pl("__name__", "n_bucket", "le", "1"), Samples: fs(2, ts)},
				{Labels: pl("__name__", "n_bucket", "le", "+Inf"), Samples: fs(5, ts)},
				{Labels: pl("__name__", "n_sum"), Samples: fs(12.5, ts)},
				{Labels: pl("__name__", "n_count"), Samples: fs(5, ts)},
			},
		},
		{
			name:   "native histogram when enabled",
			native: true,
			fams:   []*dto.MetricFamily{{Name: proto.String("n"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{Histogram: nativeH}}}},
			want: []prompb.TimeSeries{{Labels: pl("__name__", "n"), Histograms: []prompb.Histogram{{
				Count: &prompb.Histogram_CountInt{CountInt: 5}, Sum: 12.5, Schema: 3, ZeroThreshold: 1e-128,
				ZeroCount:     &prompb.Histogram_ZeroCountInt{ZeroCountInt: 1},
				PositiveSpans: []prompb.BucketSpan{{Offset: 0, Length: 2}}, PositiveDeltas: []int64{1, 2}, Timestamp: ts,
			}}}},
		},
		{
			name:     "external labels yield to the series' own",
			external: map[string]string{"env": "local", "fn": "default"},
			fams: []*dto.MetricFamily{{Name: proto.String("c"), Type: dto.MetricType_COUNTER.Enum(), Metric: []*dto.Metric{
				{Label: lp("fn", "f"), Counter: &dto.Counter{Value: proto.Float64(1)}},
			}}},
			want: []prompb.TimeSeries{{Labels: pl("__name__", "c", "env", "local", "fn", "f"), Samples: fs(1, ts)}},
		},
		{
			name: "created timestamp: a new counter starts from zero there",
			fams: []*dto.MetricFamily{{Name: proto.String("c_total"), Type: dto.MetricType_COUNTER.Enum(), Metric: []*dto.Metric{
				{Label: lp("a", "1"), Counter: &dto.Counter{Value: proto.Float64(7), CreatedTimestamp: timestamppb.New(time.UnixMilli(400))}},
				{Label: lp("a", "2"), Counter: &dto.Counter{Value: proto.Float64(2), CreatedTimestamp: timestamppb.New(time.UnixMilli(ts))}},
				{Label: lp("a", "3"), Counter: &dto.Counter{Value: proto.Float64(0), CreatedTimestamp: timestamppb.New(time.UnixMilli(400))}},
				{Label: lp("a", "4"), Counter: &dto.Counter{Value: proto.Float64(5)}},
			}}},
			want: []prompb.TimeSeries{
				{Labels: pl("__name__", "c_total", "a", "1"), Samples: fs(0, 400)},
				{Labels: pl("__name__", "c_total", "a", "1"), Samples: fs(7, ts)},
				{Labels: pl("__name__", "c_total", "a", "2"), Samples: fs(0, ts-1)}, // created with its first sample: 1 ms before
				{Labels: pl("__name__", "c_total", "a", "2"), Samples: fs(2, ts)},
				{Labels: pl("__name__", "c_total", "a", "3"), Samples: fs(0, 400)}, // zero: two samples, rate() is 0, not empty
				{Labels: pl("__name__", "c_total", "a", "3"), Samples: fs(0, ts)},
				{Labels: pl("__name__", "c_total", "a", "4"), Samples: fs(5, ts)}, // no created timestamp: as it is
			},
		},
		{
			name: "created timestamp: histogram buckets, sum and count start from zero, a summary does not",
			fams: []*dto.MetricFamily{
				{Name: proto.String("d"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{
					Histogram: &dto.Histogram{SampleCount: proto.Uint64(1), SampleSum: proto.Float64(2), CreatedTimestamp: timestamppb.New(time.UnixMilli(500)),
						Bucket: []*dto.Bucket{{UpperBound: proto.Float64(1), CumulativeCount: proto.Uint64(0)}}},
				}}},
				{Name: proto.String("s"), Type: dto.MetricType_SUMMARY.Enum(), Metric: []*dto.Metric{{
					Summary: &dto.Summary{SampleCount: proto.Uint64(1), SampleSum: proto.Float64(2), CreatedTimestamp: timestamppb.New(time.UnixMilli(500))},
				}}},
			},
			want: []prompb.TimeSeries{
				{Labels: pl("__name__", "d_bucket", "le", "1"), Samples: fs(0, 500)},
				{Labels: pl("__name__", "d_bucket", "le", "1"), Samples: fs(0, ts)},
				{Labels: pl("__name__", "d_bucket", "le", "+Inf"), Samples: fs(0, 500)},
				{Labels: pl("__name__", "d_bucket", "le", "+Inf"), Samples: fs(1, ts)},
				{Labels: pl("__name__", "d_sum"), Samples: fs(0, 500)},
				{Labels: pl("__name__", "d_sum"), Samples: fs(2, ts)},
				{Labels: pl("__name__", "d_count"), Samples: fs(0, 500)},
				{Labels: pl("__name__", "d_count"), Samples: fs(1, ts)},
				{Labels: pl("__name__", "s_sum"), Samples: fs(2, ts)},
				{Labels: pl("__name__", "s_count"), Samples: fs(1, ts)},
			},
		},
		{
			name: "invalid series dropped with a reason",
			fams: []*dto.MetricFamily{
				{Name: proto.String("bad-name"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(1)}}}},
				{Name: proto.String("1starts_with_digit"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(1)}}}},
				{Name: proto.String("ok"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{
					{Label: lp("bad.label", "x"), Gauge: &dto.Gauge{Value: proto.Float64(1)}},
					{Label: lp("colon:label", "x"), Gauge: &dto.Gauge{Value: proto.Float64(1)}},
					{Label: lp("a", "1", "a", "2"), Gauge: &dto.Gauge{Value: proto.Float64(1)}},
					{Label: lp("__name__", "other"), Gauge: &dto.Gauge{Value: proto.Float64(1)}},
					{Label: lp("a", "ok"), Gauge: &dto.Gauge{Value: proto.Float64(2)}},
				}},
				{Name: proto.String("h"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{
					{Label: lp("le", "x"), Histogram: &dto.Histogram{SampleCount: proto.Uint64(1), SampleSum: proto.Float64(1)}},
				}},
			},
			want: []prompb.TimeSeries{
				{Labels: pl("__name__", "ok", "a", "ok"), Samples: fs(2, ts)},
				{Labels: pl("__name__", "h_sum", "le", "x"), Samples: fs(1, ts)},
				{Labels: pl("__name__", "h_count", "le", "x"), Samples: fs(1, ts)},
			},
			drops: map[string]int{"invalid_metric_name": 2, "invalid_label_name": 2, "duplicate_label": 3},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newConverter(tc.external, tc.native)
			got, drops := roundTrip(t, c, tc.fams, ts)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("series (-want +got):\n%s", diff)
			}
			if tc.drops == nil {
				tc.drops = map[string]int{}
			}
			if diff := cmp.Diff(tc.drops, drops); diff != "" {
				t.Errorf("drops (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNativeHistogramStaleMarker(t *testing.T) {
	c := newConverter(nil, true)
	h := &dto.MetricFamily{Name: proto.String("n"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{Histogram: &dto.Histogram{
		SampleCount: proto.Uint64(1), SampleSum: proto.Float64(1), Schema: proto.Int32(0), ZeroThreshold: proto.Float64(0),
	}}}}
	roundTrip(t, c, []*dto.MetricFamily{h}, 1000)
	got, _ := roundTrip(t, c, nil, 2000)
	if len(got) != 1 || len(got[0].Histograms) != 1 || math.Float64bits(got[0].Histograms[0].Sum) != 0x7ff0000000000002 || got[0].Histograms[0].Timestamp != 2000 {
		t.Errorf("stale marker = %+v, want a histogram with a StaleNaN sum at 2000", got)
	}
}

// TestEncodeMatchesPrompb checks the hand-written encoding byte for byte
// against prompb's generated Marshal.
func TestEncodeMatchesPrompb(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		var batch []sample
		var req prompb.WriteRequest
		for i := range rng.IntN(300) {
			n := rng.IntN(6)
			l := []label{{"__name__", fmt.Sprintf("metric_%d", rng.IntN(5))}}
			for j := range n {
				l = append(l, label{fmt.Sprintf("l%d", j), string(bytes.Repeat([]byte{'v'}, rng.IntN(200)+1))})
			}
			s := &series{labels: string(encodeLabels(nil, l))}
			var pls []prompb.Label
			for _, x := range l {
				pls = append(pls, prompb.Label{Name: x.name, Value: x.value})
			}
			ts := prompb.TimeSeries{Labels: pls}
			v := []float64{0, math.Copysign(0, -1), 1, rng.NormFloat64() * 1e9, math.Inf(1), staleNaN}[rng.IntN(6)]
			tm := []int64{0, 1, -5, rng.Int64(), 1700000000000 + int64(i)}[rng.IntN(5)]
			if round%2 == 0 && i%4 == 0 {
				h := randomHistogram(rng, tm)
				batch = append(batch, sample{s: s, t: tm, h: h})
				ts.Histograms = []prompb.Histogram{histogramV1(h)}
			} else {
				batch = append(batch, sample{s: s, t: tm, v: v})
				ts.Samples = fs(v, tm)
			}
			req.Timeseries = append(req.Timeseries, ts)
		}
		want, err := req.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var e encoder
		for range 2 { // twice: reused buffers give the same bytes
			body := e.encode(batch)
			got, err := snappy.Decode(nil, body)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("round %d: encoding differs from prompb.Marshal (%d vs %d bytes)", round, len(got), len(want))
			}
		}
	}
}

// FuzzConvert builds families from arbitrary bytes (names and labels from an
// alphabet with invalid characters) and checks that whatever is encoded obeys
// the remote_write 1.0 label rules, that every sample is either encoded or
// dropped, and that timestamps per series increase across gathers.
func FuzzConvert(f *testing.F) {
	f.Add([]byte("counter\x00a\x01b\x02"), int64(1000))
	f.Add([]byte("\x03h\x00le\x01x\x04\x05"), int64(0))
	f.Add([]byte("bad-name\x00__name__\x01x\x02a\x01\x01"), int64(-5))
	f.Fuzz(func(t *testing.T, data []byte, ts int64) {
		fams := familiesFromBytes(data)
		c := newConverter(map[string]string{"env": "e", "le": "x"}, len(data)%2 == 0)
		last := map[string]int64{}
		for round := range 3 {
			var drops int
			samples := c.convert(nil, fams, ts+int64(round/2), round == 2, func(_ reason, n int) { drops += n })
			var e encoder
			body := e.encode(samples)
			raw, err := snappy.Decode(nil, body)
			if err != nil {
				t.Fatal(err)
			}
			var req prompb.WriteRequest
			if err := req.Unmarshal(raw); err != nil {
				t.Fatal(err)
			}
			if len(req.Timeseries) != len(samples) {
				t.Fatalf("%d series for %d samples", len(req.Timeseries), len(samples))
			}
			for _, s := range req.Timeseries {
				if err := checkSeries(s); err != nil {
					t.Fatal(err)
				}
				k := seriesKey(s.Labels)
				var tm int64
				for _, x := range s.Samples {
					tm = x.Timestamp
				}
				for _, h := range s.Histograms {
					tm = h.Timestamp
				}
				if l, ok := last[k]; ok && tm <= l {
					t.Fatalf("series %s: timestamp %d after %d", k, tm, l)
				}
				last[k] = tm
			}
			if round == 0 && len(fams) == 0 && drops+len(samples) != 0 {
				t.Fatalf("samples from nothing")
			}
		}
	})
}

// familiesFromBytes decodes a tiny language: each byte < 8 is an opcode
// (0 new label name, 1 label value, 2 new metric, 3 new family of type
// next byte%5, 4 value, 5 bucket, 6 quantile, 7 native spans); other bytes are
// characters of the current string.
func familiesFromBytes(data []byte) []*dto.MetricFamily {
	var fams []*dto.MetricFamily
	var fam *dto.MetricFamily
	var m *dto.Metric
	var cur []byte
	var lname string
	newMetric := func() {
		if fam == nil {
			fam = &dto.MetricFamily{Name: proto.String("m"), Type: dto.MetricType_GAUGE.Enum()}
			fams = append(fams, fam)
		}
		m = &dto.Metric{
			Counter: &dto.Counter{Value: proto.Float64(1)}, Gauge: &dto.Gauge{Value: proto.Float64(1)},
			Untyped: &dto.Untyped{Value: proto.Float64(1)}, Summary: &dto.Summary{SampleCount: proto.Uint64(1)},
			Histogram: &dto.Histogram{SampleCount: proto.Uint64(1)},
		}
		fam.Metric = append(fam.Metric, m)
	}
	for i := 0; i < len(data); i++ {
		b := data[i]
		if b >= 8 {
			cur = append(cur, b)
			continue
		}
		s := string(cur)
		cur = cur[:0]
		switch b {
		case 0:
			lname = s
		case 1:
			if m == nil {
				newMetric()
			}
			m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(lname), Value: proto.String(s)})
		case 2:
			newMetric()
		case 3:
			typ := dto.MetricType(0)
			if i+1 < len(data) {
				i++
				typ = dto.MetricType(data[i] % 5)
			}
			fam = &dto.MetricFamily{Name: proto.String(s), Type: typ.Enum()}
			fams = append(fams, fam)
			m = nil
		case 4, 5, 6, 7:
			if m == nil {
				newMetric()
			}
			v := float64(len(s))
			switch b {
			case 4:
				m.Gauge.Value = proto.Float64(v)
			case 5:
				m.Histogram.Bucket = append(m.Histogram.Bucket, &dto.Bucket{UpperBound: proto.Float64(v), CumulativeCount: proto.Uint64(1)})
			case 6:
				m.Summary.Quantile = append(m.Summary.Quantile, &dto.Quantile{Quantile: proto.Float64(v / 10), Value: proto.Float64(v)})
			case 7:
				m.Histogram.Schema = proto.Int32(int32(len(s) % 9))
				m.Histogram.PositiveSpan = []*dto.BucketSpan{{Offset: proto.Int32(0), Length: proto.Uint32(1)}}
				m.Histogram.PositiveDelta = []int64{1}
			}
		}
	}
	return fams
}

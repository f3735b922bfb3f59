package remotewrite

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/golang/snappy"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

// randomHistogram returns a native histogram with each field zero or not,
// integer or float counts, or neither (a stale marker's).
func randomHistogram(rng *rand.Rand, t int64) *histogram {
	pick := func(vs ...float64) float64 { return vs[rng.IntN(len(vs))] }
	h := &histogram{
		counts:        countKind(rng.IntN(3)),
		sum:           pick(0, 12.5, -3, staleNaN, math.Inf(1), rng.NormFloat64()*1e6),
		schema:        int32(rng.IntN(13) - 4),
		zeroThreshold: pick(0, 1e-128, 0.001),
		timestamp:     t,
	}
	spans := func() []bucketSpan {
		var out []bucketSpan
		for range rng.IntN(4) {
			out = append(out, bucketSpan{offset: int32(rng.IntN(2001) - 1000), length: uint32(rng.IntN(3) * rng.IntN(200))})
		}
		return out
	}
	h.posSpans, h.negSpans = spans(), spans()
	switch h.counts {
	case countInt:
		h.countInt, h.zeroInt = uint64(rng.IntN(3))*rng.Uint64N(1<<40), uint64(rng.IntN(2))*rng.Uint64N(1000)
		for range rng.IntN(20) {
			h.posDeltas = append(h.posDeltas, rng.Int64N(1<<33)-1<<32)
		}
		for range rng.IntN(5) {
			h.negDeltas = append(h.negDeltas, rng.Int64N(200)-100)
		}
	case countFloat:
		h.countFloat, h.zeroFloat = pick(0, 3.5, 1e9), pick(0, 0.25)
		for range rng.IntN(20) {
			h.posCounts = append(h.posCounts, pick(0, 1, rng.Float64()*100))
		}
		for range rng.IntN(5) {
			h.negCounts = append(h.negCounts, pick(0, 2))
		}
	}
	return h
}

// histogramV1 is h as prompb's generated type.
func histogramV1(h *histogram) prompb.Histogram {
	p := prompb.Histogram{
		Sum: h.sum, Schema: h.schema, ZeroThreshold: h.zeroThreshold, Timestamp: h.timestamp,
		NegativeDeltas: h.negDeltas, NegativeCounts: h.negCounts, PositiveDeltas: h.posDeltas, PositiveCounts: h.posCounts,
	}
	switch h.counts {
	case countInt:
		p.Count, p.ZeroCount = &prompb.Histogram_CountInt{CountInt: h.countInt}, &prompb.Histogram_ZeroCountInt{ZeroCountInt: h.zeroInt}
	case countFloat:
		p.Count, p.ZeroCount = &prompb.Histogram_CountFloat{CountFloat: h.countFloat}, &prompb.Histogram_ZeroCountFloat{ZeroCountFloat: h.zeroFloat}
	}
	for _, s := range h.negSpans {
		p.NegativeSpans = append(p.NegativeSpans, prompb.BucketSpan{Offset: s.offset, Length: s.length})
	}
	for _, s := range h.posSpans {
		p.PositiveSpans = append(p.PositiveSpans, prompb.BucketSpan{Offset: s.offset, Length: s.length})
	}
	return p
}

// histogramV2 is h as Remote Write 2.0's generated type.
func histogramV2(h *histogram, st int64) writev2.Histogram {
	p := writev2.Histogram{
		Sum: h.sum, Schema: h.schema, ZeroThreshold: h.zeroThreshold, Timestamp: h.timestamp, StartTimestamp: st,
		NegativeDeltas: h.negDeltas, NegativeCounts: h.negCounts, PositiveDeltas: h.posDeltas, PositiveCounts: h.posCounts,
	}
	switch h.counts {
	case countInt:
		p.Count, p.ZeroCount = &writev2.Histogram_CountInt{CountInt: h.countInt}, &writev2.Histogram_ZeroCountInt{ZeroCountInt: h.zeroInt}
	case countFloat:
		p.Count, p.ZeroCount = &writev2.Histogram_CountFloat{CountFloat: h.countFloat}, &writev2.Histogram_ZeroCountFloat{ZeroCountFloat: h.zeroFloat}
	}
	for _, s := range h.negSpans {
		p.NegativeSpans = append(p.NegativeSpans, writev2.BucketSpan{Offset: s.offset, Length: s.length})
	}
	for _, s := range h.posSpans {
		p.PositiveSpans = append(p.PositiveSpans, writev2.BucketSpan{Offset: s.offset, Length: s.length})
	}
	return p
}

// TestEncodeV2MatchesPrompb checks the hand-written Remote Write 2.0
// encoding byte for byte against the generated code's (the symbols table
// as writev2.SymbolsTable builds it, the request as OptimizedMarshal and
// Marshal write it), for float samples and native histograms, with and
// without metadata and start timestamps.
func TestEncodeV2MatchesPrompb(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	types := []dto.MetricType{dto.MetricType_COUNTER, dto.MetricType_GAUGE, dto.MetricType_HISTOGRAM,
		dto.MetricType_GAUGE_HISTOGRAM, dto.MetricType_SUMMARY, dto.MetricType_UNTYPED}
	e := newEncoderV2()
	for round := range 60 {
		sendMeta := round%3 != 0
		var batch []sample
		symbols := writev2.NewSymbolTable()
		var req writev2.Request
		for i := range rng.IntN(300) {
			l := []label{{"__name__", fmt.Sprintf("metric_%d", rng.IntN(5))}}
			for j := range rng.IntN(6) {
				l = append(l, label{fmt.Sprintf("l%d", j), string(bytes.Repeat([]byte{'v'}, rng.IntN(200)))})
			}
			s := &series{labels: string(encodeLabels(nil, l))}
			var meta *familyMeta
			if rng.IntN(4) > 0 {
				meta = &familyMeta{name: l[0].value, help: []string{"", "Help.", fmt.Sprint("h", rng.IntN(3))}[rng.IntN(3)],
					unit: []string{"", "seconds"}[rng.IntN(2)], typ: types[rng.IntN(len(types))]}
			}
			tm := []int64{0, 1, -5, rng.Int64(), 1700000000000 + int64(i)}[rng.IntN(5)]
			st := []int64{0, 1699999999000, rng.Int64()}[rng.IntN(3)]
			ts := writev2.TimeSeries{}
			for _, x := range l {
				ts.LabelsRefs = append(ts.LabelsRefs, symbols.Symbolize(x.name), symbols.Symbolize(x.value))
			}
			if sendMeta && meta != nil {
				ts.Metadata = writev2.Metadata{Type: writev2.Metadata_MetricType(metadataType(meta.typ)),
					HelpRef: symbols.Symbolize(meta.help), UnitRef: symbols.Symbolize(meta.unit)}
			}
			if rng.IntN(5) == 0 {
				h := randomHistogram(rng, tm)
				batch = append(batch, sample{s: s, t: tm, h: h, st: st, meta: meta})
				ts.Histograms = []writev2.Histogram{histogramV2(h, st)}
			} else {
				v := []float64{0, math.Copysign(0, -1), 1, rng.NormFloat64() * 1e9, math.Inf(-1), staleNaN}[rng.IntN(6)]
				batch = append(batch, sample{s: s, t: tm, v: v, st: st, meta: meta})
				ts.Samples = []writev2.Sample{{Value: v, Timestamp: tm, StartTimestamp: st}}
			}
			req.Timeseries = append(req.Timeseries, ts)
		}
		req.Symbols = symbols.Symbols()
		want, err := req.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if opt, err := req.OptimizedMarshal(nil); err != nil || !bytes.Equal(opt, want) {
			t.Fatalf("round %d: the generated Marshal and OptimizedMarshal differ (%v)", round, err)
		}
		body, floats, hists := e.encode(batch, sendMeta)
		got, err := snappy.Decode(nil, body)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			var back writev2.Request
			err := back.Unmarshal(got)
			t.Fatalf("round %d: encoding differs from writev2.Request.Marshal (%d vs %d bytes; decoding ours: %v)", round, len(got), len(want), err)
		}
		var wantH int
		for _, ts := range req.Timeseries {
			wantH += len(ts.Histograms)
		}
		if floats+hists != len(batch) || hists != wantH {
			t.Errorf("round %d: %d floats and %d histograms counted, want %d and %d", round, floats, hists, len(batch)-wantH, wantH)
		}
	}
}

// TestEncodeMetadataMatchesPrompb checks the 1.0 metadata request against
// prompb's Marshal, byte for byte.
func TestEncodeMetadataMatchesPrompb(t *testing.T) {
	types := map[dto.MetricType]prompb.MetricMetadata_MetricType{
		dto.MetricType_COUNTER: prompb.MetricMetadata_COUNTER, dto.MetricType_GAUGE: prompb.MetricMetadata_GAUGE,
		dto.MetricType_HISTOGRAM: prompb.MetricMetadata_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM: prompb.MetricMetadata_GAUGEHISTOGRAM,
		dto.MetricType_SUMMARY: prompb.MetricMetadata_SUMMARY, dto.MetricType_UNTYPED: prompb.MetricMetadata_UNKNOWN,
	}
	var metas []*familyMeta
	var req prompb.WriteRequest
	for typ, want := range types {
		for _, m := range []*familyMeta{
			{name: "lambda_duration_seconds", help: "Duration.", unit: "seconds", typ: typ},
			{name: "n", typ: typ},
			{help: "only help", typ: typ},
		} {
			metas = append(metas, m)
			req.Metadata = append(req.Metadata, prompb.MetricMetadata{Type: want, MetricFamilyName: m.name, Help: m.help, Unit: m.unit})
		}
	}
	want, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := snappy.Decode(nil, encodeMetadataV1(metas))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("encoding differs from prompb.Marshal:\n got %x\nwant %x", got, want)
	}
}

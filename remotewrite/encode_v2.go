package remotewrite

import (
	"encoding/binary"
	"fmt"

	"github.com/lambdabridge/lambdabridge/internal/snappy"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

// encoderV2 builds snappy-compressed Remote Write 2.0 requests
// (io.prometheus.write.v2.Request): one symbols table per request, one
// TimeSeries per sample with its labels as references, its family's
// metadata (type, help, unit) when sendMeta, and its start (created)
// timestamp. Not safe for concurrent use.
type encoderV2 struct {
	symbols writev2.SymbolsTable
	req     writev2.Request
	refs    []uint32
	samples []writev2.Sample // backing array of the series' one sample
	pb      []byte
	out     []byte
}

func newEncoderV2() *encoderV2 { return &encoderV2{symbols: writev2.NewSymbolTable()} }

// encode returns the compressed request of batch and how many float samples
// and histograms it holds. The result is valid until the next call.
func (e *encoderV2) encode(batch []sample, sendMeta bool) (body []byte, floats, hists int, err error) {
	e.symbols.Reset()
	ts := e.req.Timeseries[:0]
	refs := e.refs[:0]
	if cap(e.samples) < len(batch) {
		e.samples = make([]writev2.Sample, 0, len(batch))
	}
	samples := e.samples[:0]
	for i := range batch {
		s := &batch[i]
		start := len(refs)
		refs = appendLabelRefs(refs, s.s.labels, &e.symbols)
		t := writev2.TimeSeries{LabelsRefs: refs[start:len(refs):len(refs)]}
		if sendMeta && s.meta != nil {
			t.Metadata = writev2.Metadata{
				Type:    metadataTypeV2(s.meta.typ),
				HelpRef: e.symbols.Symbolize(s.meta.help),
				UnitRef: e.symbols.Symbolize(s.meta.unit),
			}
		}
		if s.h != nil {
			t.Histograms = []writev2.Histogram{histogramV2(s.h, s.st)}
			hists++
		} else {
			samples = append(samples, writev2.Sample{Value: s.v, Timestamp: s.t, StartTimestamp: s.st})
			t.Samples = samples[len(samples)-1 : len(samples) : len(samples)]
			floats++
		}
		ts = append(ts, t)
	}
	e.refs = refs
	e.req.Timeseries = ts
	e.req.Symbols = e.symbols.Symbols()
	pb, err := e.req.OptimizedMarshal(e.pb[:0])
	clear(e.req.Timeseries) // drop references to the batch
	if err != nil {
		return nil, 0, 0, fmt.Errorf("encode remote write 2.0 request: %w", err)
	}
	e.pb = pb
	if n := snappy.MaxEncodedLen(len(pb)); cap(e.out) < n {
		e.out = make([]byte, n)
	}
	e.out = snappy.Encode(e.out[:cap(e.out)], pb)
	return e.out, floats, hists, nil
}

// appendLabelRefs reads the series' encoded 1.0 labels (repeated Label
// messages, sorted) and appends their symbol references.
func appendLabelRefs(refs []uint32, enc string, st *writev2.SymbolsTable) []uint32 {
	for len(enc) > 0 {
		enc = enc[1:] // tagTimeSeriesLabels
		n, k := binary.Uvarint([]byte(enc[:min(len(enc), binary.MaxVarintLen64)]))
		enc = enc[k:]
		lbl := enc[:n]
		enc = enc[n:]
		name, rest := readField(lbl)
		value, _ := readField(rest)
		refs = append(refs, st.Symbolize(name), st.Symbolize(value))
	}
	return refs
}

// readField reads one length-delimited field (tag, length, bytes).
func readField(b string) (field, rest string) {
	if len(b) == 0 {
		return "", ""
	}
	b = b[1:]
	n, k := binary.Uvarint([]byte(b[:min(len(b), binary.MaxVarintLen64)]))
	return b[k : k+int(n)], b[k+int(n):]
}

func metadataTypeV2(t dto.MetricType) writev2.Metadata_MetricType {
	switch t {
	case dto.MetricType_COUNTER:
		return writev2.Metadata_METRIC_TYPE_COUNTER
	case dto.MetricType_GAUGE:
		return writev2.Metadata_METRIC_TYPE_GAUGE
	case dto.MetricType_HISTOGRAM:
		return writev2.Metadata_METRIC_TYPE_HISTOGRAM
	case dto.MetricType_GAUGE_HISTOGRAM:
		return writev2.Metadata_METRIC_TYPE_GAUGEHISTOGRAM
	case dto.MetricType_SUMMARY:
		return writev2.Metadata_METRIC_TYPE_SUMMARY
	}
	return writev2.Metadata_METRIC_TYPE_UNSPECIFIED
}

// metadataTypeV1 maps a family type to prompb's (Remote Write 1.0).
func metadataTypeV1(t dto.MetricType) prompb.MetricMetadata_MetricType {
	return prompb.MetricMetadata_MetricType(metadataTypeV2(t)) // same numbers, UNKNOWN = UNSPECIFIED = 0
}

// histogramV2 converts a 1.0 native histogram (the same fields) to 2.0.
func histogramV2(h *prompb.Histogram, st int64) writev2.Histogram {
	out := writev2.Histogram{
		Sum:            h.Sum,
		Schema:         h.Schema,
		ZeroThreshold:  h.ZeroThreshold,
		NegativeSpans:  spansV2(h.NegativeSpans),
		NegativeDeltas: h.NegativeDeltas,
		NegativeCounts: h.NegativeCounts,
		PositiveSpans:  spansV2(h.PositiveSpans),
		PositiveDeltas: h.PositiveDeltas,
		PositiveCounts: h.PositiveCounts,
		ResetHint:      writev2.Histogram_ResetHint(h.ResetHint),
		Timestamp:      h.Timestamp,
		StartTimestamp: st,
	}
	switch c := h.Count.(type) {
	case *prompb.Histogram_CountInt:
		out.Count = &writev2.Histogram_CountInt{CountInt: c.CountInt}
	case *prompb.Histogram_CountFloat:
		out.Count = &writev2.Histogram_CountFloat{CountFloat: c.CountFloat}
	}
	switch z := h.ZeroCount.(type) {
	case *prompb.Histogram_ZeroCountInt:
		out.ZeroCount = &writev2.Histogram_ZeroCountInt{ZeroCountInt: z.ZeroCountInt}
	case *prompb.Histogram_ZeroCountFloat:
		out.ZeroCount = &writev2.Histogram_ZeroCountFloat{ZeroCountFloat: z.ZeroCountFloat}
	}
	return out
}

func spansV2(in []prompb.BucketSpan) []writev2.BucketSpan {
	if len(in) == 0 {
		return nil
	}
	out := make([]writev2.BucketSpan, len(in))
	for i, s := range in {
		out[i] = writev2.BucketSpan{Offset: s.Offset, Length: s.Length}
	}
	return out
}

// encodeMetadataV1 returns a compressed 1.0 WriteRequest holding only
// metadata, as Prometheus sends it.
func encodeMetadataV1(metas []*familyMeta) ([]byte, error) {
	req := prompb.WriteRequest{Metadata: make([]prompb.MetricMetadata, len(metas))}
	for i, m := range metas {
		req.Metadata[i] = prompb.MetricMetadata{
			Type: metadataTypeV1(m.typ), MetricFamilyName: m.name, Help: m.help, Unit: m.unit,
		}
	}
	pb, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	return snappy.Encode(nil, pb), nil
}

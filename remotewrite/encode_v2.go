package remotewrite

import (
	"encoding/binary"

	"github.com/lambdabridge/lambdabridge/internal/snappy"
)

// encoderV2 builds snappy-compressed Remote Write 2.0 requests
// (io.prometheus.write.v2.Request): one symbols table per request, one
// TimeSeries per sample with its labels as references, its family's
// metadata (type, help, unit) when sendMeta, and its start (created)
// timestamp. Not safe for concurrent use.
type encoderV2 struct {
	symbols *symbols
	refs    []uint32
	series  []byte // the request's TimeSeries fields, written after its symbols
	ts      []byte // one TimeSeries' body
	hist    []byte
	pb      []byte
	out     []byte
}

func newEncoderV2() *encoderV2 { return &encoderV2{symbols: newSymbols()} }

// encode returns the compressed request of batch and how many float samples
// and histograms it holds. The result is valid until the next call.
func (e *encoderV2) encode(batch []sample, sendMeta bool) (body []byte, floats, hists int) {
	e.symbols.reset()
	series := e.series[:0]
	for i := range batch {
		s := &batch[i]
		e.refs = appendLabelRefs(e.refs[:0], s.s.labels, e.symbols)
		var typ uint64
		var help, unit uint32
		if sendMeta && s.meta != nil {
			typ, help, unit = metadataType(s.meta.typ), e.symbols.ref(s.meta.help), e.symbols.ref(s.meta.unit)
		}
		ts := appendPacked(e.ts[:0], 1, e.refs, asUint64) // TimeSeries.labels_refs
		if s.h != nil {
			e.hist = appendHistogram(e.hist[:0], s.h, s.st)
			ts = appendBytes(ts, 3, e.hist) // TimeSeries.histograms
			hists++
		} else {
			ts = appendSampleV2(ts, s.v, s.t, s.st)
			floats++
		}
		ts = appendMetadataV2(ts, typ, help, unit)
		e.ts = ts
		series = appendBytes(series, 5, ts) // Request.timeseries
	}
	e.series = series
	pb := e.pb[:0]
	for _, sym := range e.symbols.strings {
		pb = appendBytes(pb, 4, sym) // Request.symbols
	}
	pb = append(pb, series...)
	e.pb = pb
	if n := snappy.MaxEncodedLen(len(pb)); cap(e.out) < n {
		e.out = make([]byte, n)
	}
	e.out = snappy.Encode(e.out[:cap(e.out)], pb)
	return e.out, floats, hists
}

// appendSampleV2 appends TimeSeries.samples holding one Sample (value,
// timestamp, start timestamp), zero fields omitted.
func appendSampleV2(b []byte, v float64, t, st int64) []byte {
	b, at := beginShort(b, 2)
	if v != 0 {
		b = appendDouble(b, 1, v)
	}
	if t != 0 {
		b = appendVarint(b, 2, uint64(t))
	}
	if st != 0 {
		b = appendVarint(b, 3, uint64(st))
	}
	return endShort(b, at)
}

// appendMetadataV2 appends TimeSeries.metadata, which is always written
// (empty when there is none to send), zero fields omitted.
func appendMetadataV2(b []byte, typ uint64, help, unit uint32) []byte {
	b, at := beginShort(b, 5)
	if typ != 0 {
		b = appendVarint(b, 1, typ)
	}
	if help != 0 {
		b = appendVarint(b, 3, uint64(help))
	}
	if unit != 0 {
		b = appendVarint(b, 4, uint64(unit))
	}
	return endShort(b, at)
}

// appendLabelRefs reads the series' encoded 1.0 labels (repeated Label
// messages, sorted) and appends their symbol references.
func appendLabelRefs(refs []uint32, enc string, st *symbols) []uint32 {
	for len(enc) > 0 {
		enc = enc[1:] // tagTimeSeriesLabels
		n, k := binary.Uvarint([]byte(enc[:min(len(enc), binary.MaxVarintLen64)]))
		enc = enc[k:]
		lbl := enc[:n]
		enc = enc[n:]
		name, rest := readField(lbl)
		value, _ := readField(rest)
		refs = append(refs, st.ref(name), st.ref(value))
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

// encodeMetadataV1 returns a compressed 1.0 WriteRequest holding only
// metadata, as Prometheus sends it.
func encodeMetadataV1(metas []*familyMeta) []byte {
	var pb, md []byte
	for _, m := range metas {
		md = md[:0]
		if t := metadataType(m.typ); t != 0 {
			md = appendVarint(md, 1, t)
		}
		for _, f := range []struct {
			num int
			v   string
		}{{2, m.name}, {4, m.help}, {5, m.unit}} {
			if f.v != "" {
				md = appendBytes(md, f.num, f.v)
			}
		}
		pb = appendBytes(pb, 3, md) // WriteRequest.metadata
	}
	return snappy.Encode(nil, pb)
}

package remotewrite

import (
	"encoding/binary"
	"math"

	dto "github.com/prometheus/client_model/go"
)

// The protobuf messages remote_write sends are written by hand, field by
// field, in the order and with the zero-value rules of the generated
// gogo-protobuf code of github.com/prometheus/prometheus/prompb (whose
// Marshal the tests compare with, byte for byte): that code's package
// initialization and registration cost the extension's cold start about
// 0.7 ms of CPU.

// histogram is a native histogram as remote_write sends it: the fields of
// prompb.Histogram that lambdabridge sets, which Remote Write 2.0's
// Histogram shares (it adds a start timestamp). Its reset hint is always
// UNKNOWN and it has no custom values (no NHCB), so neither is written.
type histogram struct {
	counts        countKind
	countInt      uint64
	countFloat    float64
	zeroInt       uint64
	zeroFloat     float64
	sum           float64
	schema        int32
	zeroThreshold float64
	negSpans      []bucketSpan
	negDeltas     []int64
	negCounts     []float64
	posSpans      []bucketSpan
	posDeltas     []int64
	posCounts     []float64
	timestamp     int64
}

// countKind says which of the oneofs count and zero_count a histogram sets.
type countKind uint8

const (
	countNone  countKind = iota // a stale marker: neither oneof set
	countInt                    // count_int and zero_count_int
	countFloat                  // count_float and zero_count_float
)

type bucketSpan struct {
	offset int32
	length uint32
}

// Wire types.
const (
	wireVarint = 0
	wireI64    = 1
	wireLen    = 2
)

func appendTag(b []byte, field, wire int) []byte {
	return binary.AppendUvarint(b, uint64(field)<<3|uint64(wire))
}

func appendDouble(b []byte, field int, v float64) []byte {
	b = appendTag(b, field, wireI64)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

func appendVarint(b []byte, field int, v uint64) []byte {
	return binary.AppendUvarint(appendTag(b, field, wireVarint), v)
}

func appendBytes[V string | []byte](b []byte, field int, v V) []byte {
	b = binary.AppendUvarint(appendTag(b, field, wireLen), uint64(len(v)))
	return append(b, v...)
}

func zigzag32(v int32) uint64 { return uint64(uint32(v<<1) ^ uint32(v>>31)) }
func zigzag64(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

// appendHistogram appends the body of a Histogram message (1.0 or 2.0: the
// same field numbers; st, the 2.0 start timestamp, is written when not 0).
func appendHistogram(b []byte, h *histogram, st int64) []byte {
	switch h.counts {
	case countInt:
		b = appendVarint(b, 1, h.countInt)
	case countFloat:
		b = appendDouble(b, 2, h.countFloat)
	}
	if h.sum != 0 {
		b = appendDouble(b, 3, h.sum)
	}
	if h.schema != 0 {
		b = appendVarint(b, 4, zigzag32(h.schema))
	}
	if h.zeroThreshold != 0 {
		b = appendDouble(b, 5, h.zeroThreshold)
	}
	switch h.counts {
	case countInt:
		b = appendVarint(b, 6, h.zeroInt)
	case countFloat:
		b = appendDouble(b, 7, h.zeroFloat)
	}
	b = appendSpans(b, 8, h.negSpans)
	b = appendPacked(b, 9, h.negDeltas, zigzag64)
	b = appendCounts(b, 10, h.negCounts)
	b = appendSpans(b, 11, h.posSpans)
	b = appendPacked(b, 12, h.posDeltas, zigzag64)
	b = appendCounts(b, 13, h.posCounts)
	if h.timestamp != 0 {
		b = appendVarint(b, 15, uint64(h.timestamp))
	}
	if st != 0 {
		b = appendVarint(b, 17, uint64(st))
	}
	return b
}

// beginShort starts field as a message shorter than 128 bytes (its length
// is one byte): it appends the tag and a length to be set, and returns
// where the body starts, for endShort.
func beginShort(b []byte, field int) ([]byte, int) {
	b = append(appendTag(b, field, wireLen), 0)
	return b, len(b)
}

// endShort sets the length of the message beginShort started at at.
func endShort(b []byte, at int) []byte {
	b[at-1] = byte(len(b) - at)
	return b
}

// appendSpans appends repeated BucketSpan messages (each at most 12 bytes).
func appendSpans(b []byte, field int, spans []bucketSpan) []byte {
	for _, s := range spans {
		var at int
		b, at = beginShort(b, field)
		if s.offset != 0 {
			b = appendVarint(b, 1, zigzag32(s.offset))
		}
		if s.length != 0 {
			b = appendVarint(b, 2, uint64(s.length))
		}
		b = endShort(b, at)
	}
	return b
}

// appendPacked appends vs as a packed repeated varint field, each value
// encoded by varint (sint64s zigzag, uint32s as they are).
func appendPacked[T int64 | uint32](b []byte, field int, vs []T, varint func(T) uint64) []byte {
	if len(vs) == 0 {
		return b
	}
	n := 0
	for _, v := range vs {
		n += uvarintSize(varint(v))
	}
	b = binary.AppendUvarint(appendTag(b, field, wireLen), uint64(n))
	for _, v := range vs {
		b = binary.AppendUvarint(b, varint(v))
	}
	return b
}

func asUint64(v uint32) uint64 { return uint64(v) }

// appendCounts appends packed doubles.
func appendCounts(b []byte, field int, cs []float64) []byte {
	if len(cs) == 0 {
		return b
	}
	b = binary.AppendUvarint(appendTag(b, field, wireLen), uint64(8*len(cs)))
	for _, c := range cs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(c))
	}
	return b
}

// Metric types of remote_write's metadata: 1.0's MetricMetadata.MetricType
// and 2.0's Metadata.MetricType have the same numbers (UNKNOWN and
// UNSPECIFIED are 0).
const (
	metricTypeUnknown        = 0
	metricTypeCounter        = 1
	metricTypeGauge          = 2
	metricTypeHistogram      = 3
	metricTypeGaugeHistogram = 4
	metricTypeSummary        = 5
)

func metadataType(t dto.MetricType) uint64 {
	switch t {
	case dto.MetricType_COUNTER:
		return metricTypeCounter
	case dto.MetricType_GAUGE:
		return metricTypeGauge
	case dto.MetricType_HISTOGRAM:
		return metricTypeHistogram
	case dto.MetricType_GAUGE_HISTOGRAM:
		return metricTypeGaugeHistogram
	case dto.MetricType_SUMMARY:
		return metricTypeSummary
	}
	return metricTypeUnknown
}

// symbols is a Remote Write 2.0 request's symbols table: the empty string
// first, as the protocol requires, then each string once, in order of use.
type symbols struct {
	refs    map[string]uint32
	strings []string
}

func newSymbols() *symbols {
	return &symbols{refs: map[string]uint32{"": 0}, strings: []string{""}}
}

func (t *symbols) ref(s string) uint32 {
	if r, ok := t.refs[s]; ok {
		return r
	}
	r := uint32(len(t.strings))
	t.strings = append(t.strings, s)
	t.refs[s] = r
	return r
}

// reset empties the table for the next request, keeping the empty string.
func (t *symbols) reset() {
	clear(t.strings[1:])
	t.strings = t.strings[:1]
	clear(t.refs)
	t.refs[""] = 0
}

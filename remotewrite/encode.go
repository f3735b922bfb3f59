package remotewrite

import (
	"encoding/binary"
	"math"
	"math/bits"

	"github.com/lambdabridge/lambdabridge/internal/snappy"
)

// Protobuf wire tags of prometheus.WriteRequest and the messages inside it.
const (
	tagWriteRequestTimeseries = 1<<3 | 2 // WriteRequest.timeseries
	tagTimeSeriesLabels       = 1<<3 | 2 // TimeSeries.labels
	tagTimeSeriesSamples      = 2<<3 | 2 // TimeSeries.samples
	tagTimeSeriesHistograms   = 4<<3 | 2 // TimeSeries.histograms
	tagLabelName              = 1<<3 | 2
	tagLabelValue             = 2<<3 | 2
	tagSampleValue            = 1<<3 | 1 // fixed64
	tagSampleTimestamp        = 2 << 3   // varint (wire type 0)
)

// encoder builds snappy-compressed WriteRequests. It writes the protobuf by
// hand from each series' pre-encoded labels, one TimeSeries per sample (as
// Prometheus does), into buffers it keeps between calls; the output is
// byte-for-byte what prompb's Marshal produces. Not safe for concurrent use.
type encoder struct {
	pb   []byte
	out  []byte
	hist []byte
}

// encode returns the compressed WriteRequest of batch. The result is valid
// until the next call.
func (e *encoder) encode(batch []sample) []byte {
	pb := e.pb[:0]
	for i := range batch {
		s := &batch[i]
		var inner int
		if s.h != nil {
			e.hist = appendHistogram(e.hist[:0], s.h, 0)
			inner = len(s.s.labels) + 1 + uvarintSize(uint64(len(e.hist))) + len(e.hist)
		} else {
			inner = len(s.s.labels) + 1 + 1 + sampleSize(s.v, s.t)
		}
		pb = append(pb, tagWriteRequestTimeseries)
		pb = binary.AppendUvarint(pb, uint64(inner))
		pb = append(pb, s.s.labels...)
		if s.h != nil {
			pb = append(pb, tagTimeSeriesHistograms)
			pb = binary.AppendUvarint(pb, uint64(len(e.hist)))
			pb = append(pb, e.hist...)
			continue
		}
		pb = append(pb, tagTimeSeriesSamples, byte(sampleSize(s.v, s.t)))
		if s.v != 0 {
			pb = append(pb, tagSampleValue)
			pb = binary.LittleEndian.AppendUint64(pb, math.Float64bits(s.v))
		}
		if s.t != 0 {
			pb = append(pb, tagSampleTimestamp)
			pb = binary.AppendUvarint(pb, uint64(s.t))
		}
	}
	e.pb = pb
	if n := snappy.MaxEncodedLen(len(pb)); cap(e.out) < n {
		e.out = make([]byte, n)
	}
	e.out = snappy.Encode(e.out[:cap(e.out)], pb)
	return e.out
}

// sampleSize is the encoded size of a Sample message (zero fields omitted, as
// gogo-protobuf does). It is at most 9+11 bytes, so its length fits one byte.
func sampleSize(v float64, t int64) int {
	n := 0
	if v != 0 {
		n += 9
	}
	if t != 0 {
		n += 1 + uvarintSize(uint64(t))
	}
	return n
}

func uvarintSize(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

// encodeLabels appends the repeated TimeSeries.labels fields of l.
func encodeLabels(b []byte, l []label) []byte {
	for _, x := range l {
		b = appendLabel(b, x.name, x.value)
	}
	return b
}

// appendLabel appends one TimeSeries.labels field.
func appendLabel[V string | []byte](b []byte, name string, value V) []byte {
	inner := 1 + uvarintSize(uint64(len(name))) + len(name) + 1 + uvarintSize(uint64(len(value))) + len(value)
	b = append(b, tagTimeSeriesLabels)
	b = binary.AppendUvarint(b, uint64(inner))
	b = append(b, tagLabelName)
	b = binary.AppendUvarint(b, uint64(len(name)))
	b = append(b, name...)
	b = append(b, tagLabelValue)
	b = binary.AppendUvarint(b, uint64(len(value)))
	return append(b, value...)
}

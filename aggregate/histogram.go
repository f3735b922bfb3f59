package aggregate

import (
	"math"
	"slices"
	"sort"

	dto "github.com/prometheus/client_model/go"
)

// histogram is one histogram series: classic buckets (non-cumulative counts,
// bounds in the family) and native buckets (sparse, sorted by key).
type histogram struct {
	count     uint64
	sum       float64
	classic   []uint64 // len(family.buckets) once observed
	schema    int32
	zeroCount uint64
	pos, neg  sparse
}

// sparse is a sorted list of populated native buckets.
type sparse struct {
	keys   []int32
	counts []uint64
}

func (s *sparse) add(key int32, w uint64) {
	i, found := slices.BinarySearch(s.keys, key)
	if found {
		s.counts[i] += w
		return
	}
	s.keys = append(s.keys, 0)
	s.counts = append(s.counts, 0)
	copy(s.keys[i+1:], s.keys[i:])
	copy(s.counts[i+1:], s.counts[i:])
	s.keys[i] = key
	s.counts[i] = w
}

// halve merges bucket pairs: key i at schema s is key ceil(i/2) at s-1.
func (s *sparse) halve() {
	w := -1
	for i, k := range s.keys {
		nk := (k + 1) >> 1
		if w >= 0 && s.keys[w] == nk {
			s.counts[w] += s.counts[i]
			continue
		}
		w++
		s.keys[w] = nk
		s.counts[w] = s.counts[i]
	}
	s.keys = s.keys[:w+1]
	s.counts = s.counts[:w+1]
}

func (h *histogram) observe(f *family, v float64, w uint64) {
	h.count += w
	h.sum += v * float64(w)
	if len(f.buckets) > 0 {
		if h.classic == nil {
			h.classic = make([]uint64, len(f.buckets))
		}
		if i := sort.SearchFloat64s(f.buckets, v); i < len(f.buckets) {
			h.classic[i] += w
		}
	}
	if !f.native {
		return
	}
	switch {
	case v > DefaultZeroThreshold:
		h.pos.add(nativeKey(v, h.schema), w)
	case v < -DefaultZeroThreshold:
		h.neg.add(nativeKey(v, h.schema), w)
	default:
		h.zeroCount += w
	}
	for len(h.pos.keys)+len(h.neg.keys) > f.maxBuckets && h.schema > -4 {
		h.pos.halve()
		h.neg.halve()
		h.schema--
	}
}

// nativeKey is the index of the native bucket holding v at schema: bucket i
// covers (2^((i-1)/2^schema), 2^(i/2^schema)] in absolute value.
func nativeKey(v float64, schema int32) int32 {
	frac, exp := math.Frexp(math.Abs(v))
	if schema > 0 {
		bounds := nativeBounds[schema]
		return int32(sort.SearchFloat64s(bounds, frac) + (exp-1)*len(bounds))
	}
	key := exp
	if frac == 0.5 {
		key--
	}
	offset := (1 << -schema) - 1
	return int32((key + offset) >> -schema)
}

// nativeBounds[s] are the bucket boundaries within one power of two at
// schema s, as fractions in [0.5, 1) as math.Frexp returns them.
var nativeBounds = func() [9][]float64 {
	var b [9][]float64
	for s := 1; s <= 8; s++ {
		n := 1 << s
		b[s] = make([]float64, n)
		for i := range n {
			b[s][i] = math.Exp2(float64(i)/float64(n)) / 2
		}
	}
	return b
}()

// pickSchema returns the largest schema in [-4, 8] whose bucket growth
// factor 2^(2^-schema) is at most factor (factor > 1).
func pickSchema(factor float64) int32 {
	floor := math.Floor(math.Log2(math.Log2(factor)))
	switch {
	case floor <= -8:
		return 8
	case floor >= 4:
		return -4
	}
	return -int32(floor)
}

// write fills m's histogram.
func (h *histogram) write(f *family, m *dto.Metric) {
	d := &dto.Histogram{SampleCount: new(h.count), SampleSum: new(h.sum)}
	if len(f.buckets) > 0 {
		d.Bucket = make([]*dto.Bucket, len(f.buckets))
		var cum uint64
		for i, b := range f.buckets {
			if h.classic != nil {
				cum += h.classic[i]
			}
			d.Bucket[i] = &dto.Bucket{UpperBound: new(b), CumulativeCount: new(cum)}
		}
	}
	if f.native {
		d.Schema = new(h.schema)
		d.ZeroThreshold = new(float64(DefaultZeroThreshold))
		d.ZeroCount = new(h.zeroCount)
		d.PositiveSpan, d.PositiveDelta = h.pos.spans()
		d.NegativeSpan, d.NegativeDelta = h.neg.spans()
		if len(d.PositiveSpan) == 0 && len(d.NegativeSpan) == 0 && h.zeroCount == 0 {
			// an empty native histogram must still look native
			d.PositiveSpan = []*dto.BucketSpan{{Offset: new(int32(0)), Length: new(uint32(0))}}
		}
	}
	m.Histogram = d
}

// spans encodes the buckets as spans and count deltas; gaps of up to two
// empty buckets are filled rather than starting a new span.
func (s *sparse) spans() ([]*dto.BucketSpan, []int64) {
	if len(s.keys) == 0 {
		return nil, nil
	}
	var (
		spans  []*dto.BucketSpan
		deltas = make([]int64, 0, len(s.keys))
		prev   int64
		next   int32
	)
	for n, k := range s.keys {
		gap := k - next
		if n == 0 || gap > 2 {
			spans = append(spans, &dto.BucketSpan{Offset: new(gap), Length: new(uint32(0))})
		} else {
			for range gap {
				*spans[len(spans)-1].Length++
				deltas = append(deltas, -prev)
				prev = 0
			}
		}
		c := int64(s.counts[n])
		*spans[len(spans)-1].Length++
		deltas = append(deltas, c-prev)
		prev = c
		next = k + 1
	}
	return spans, deltas
}

package remotewrite

import (
	"hash/maphash"
	"math"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// shardSeed seeds the series hashes that pick their shard.
var shardSeed = maphash.MakeSeed()

// staleNaN is Prometheus' stale marker (value.StaleNaN).
var staleNaN = math.Float64frombits(0x7ff0000000000002)

// series is the state kept per active series: its validated, sorted label set
// encoded once as protobuf Label fields, and the last timestamp sent, so that
// per-series timestamps only increase.
type series struct {
	labels  string // encoded repeated Label fields (field 1 of TimeSeries); also the map key
	invalid reason // non-zero: the series is never sent; every sample is dropped with it
	native  bool   // last sample was a native histogram
	seen    uint64 // generation of the last gather that held the series
	lastT   int64
	lastV   uint64 // float bits of the last value (0 for histograms)
	hasLast bool
	hash    uint64      // of labels: the series' shard
	meta    *familyMeta // read and written by the converter only
	waiting *entry      // the latest of its samples waiting in the queue (guarded by queue.mu)
}

func isStaleNaN(v float64) bool { return math.Float64bits(v) == math.Float64bits(staleNaN) }

// sample is one queued sample: a float value or a native histogram.
type sample struct {
	s     *series
	t     int64
	v     float64
	h     *histogram
	first bool  // the series' first sample: never coalesced
	st    int64 // start (created) timestamp, Unix ms; 0: unknown
	meta  *familyMeta
}

// familyMeta is what Prometheus sends as metadata: a family's type, help and
// unit.
type familyMeta struct {
	name, help, unit string
	typ              dto.MetricType
}

type label struct{ name, value string }

// converter turns gathered families into samples. Not safe for concurrent use.
type converter struct {
	external []label
	native   bool
	gen      uint64
	clock    bool  // timestamps come from the writer's clock (see convert)
	created  int64 // created timestamp (Unix ms) of the metric being converted; 0: none
	series   map[string]*series
	metas    map[string]*familyMeta // by family name
	metaGen  uint64                 // grows when a family's metadata changes
	fam      *familyMeta            // of the family being converted

	// scratch, reused across calls
	lbls []label
	key  []byte
	num  []byte
}

func newConverter(external map[string]string, native bool) *converter {
	c := &converter{native: native, series: map[string]*series{}, metas: map[string]*familyMeta{}}
	for k, v := range external {
		c.external = append(c.external, label{k, v})
	}
	slices.SortFunc(c.external, func(a, b label) int { return strings.Compare(a.name, b.name) })
	return c
}

// convert appends to out one sample per series of families at t (Unix ms), then
// stale markers for the series that vanished since the previous call. A new
// series of a counter or a classic histogram (_bucket, _sum, _count) whose
// metric has a created timestamp starts with a zero sample at that time (or 1
// ms before its first sample, whichever is earlier), as Prometheus'
// created-timestamp zero ingestion does, so increase() sees its first count. Samples
// that must not be sent (invalid series, a timestamp not after the last one)
// are reported to drop; a repeat of a series' last sample is skipped. With
// clock (t is the writer's own clock, not the caller's) a changed sample at or
// before the series' last timestamp goes 1 ms after it instead of being dropped.
func (c *converter) convert(out []sample, families []*dto.MetricFamily, t int64, clock bool, drop func(reason, int)) []sample {
	c.gen++
	c.clock = clock
	for _, f := range families {
		name := f.GetName()
		c.fam = c.metaOf(f)
		var bucket, sum, count string
		switch f.GetType() {
		case dto.MetricType_SUMMARY, dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			bucket, sum, count = name+"_bucket", name+"_sum", name+"_count"
		}
		for _, m := range f.GetMetric() {
			c.created = createdMs(f.GetType(), m)
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out = c.float(out, name, "", nil, m, t, m.GetCounter().GetValue(), drop)
			case dto.MetricType_GAUGE:
				out = c.float(out, name, "", nil, m, t, m.GetGauge().GetValue(), drop)
			case dto.MetricType_UNTYPED:
				out = c.float(out, name, "", nil, m, t, m.GetUntyped().GetValue(), drop)
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				for _, q := range s.GetQuantile() {
					c.num = appendFloat(c.num[:0], q.GetQuantile())
					out = c.float(out, name, "quantile", c.num, m, t, q.GetValue(), drop)
				}
				out = c.float(out, sum, "", nil, m, t, s.GetSampleSum(), drop)
				out = c.float(out, count, "", nil, m, t, float64(s.GetSampleCount()), drop)
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				h := m.GetHistogram()
				if c.native && isNative(h) {
					out = c.histogram(out, name, m, t, h, drop)
					continue
				}
				n := float64(h.GetSampleCount())
				if h.SampleCountFloat != nil {
					n = h.GetSampleCountFloat()
				}
				inf := false
				for _, b := range h.GetBucket() {
					v := float64(b.GetCumulativeCount())
					if b.CumulativeCountFloat != nil {
						v = b.GetCumulativeCountFloat()
					}
					ub := b.GetUpperBound()
					inf = inf || math.IsInf(ub, 1)
					c.num = appendFloat(c.num[:0], ub)
					out = c.float(out, bucket, "le", c.num, m, t, v, drop)
				}
				if !inf {
					out = c.float(out, bucket, "le", plusInf, m, t, n, drop)
				}
				out = c.float(out, sum, "", nil, m, t, h.GetSampleSum(), drop)
				out = c.float(out, count, "", nil, m, t, n, drop)
			}
		}
	}
	c.created = 0
	return c.stale(out, t)
}

// createdMs is the created timestamp (Unix ms) of a counter or a histogram,
// 0 when it has none (or for other types: a summary's quantiles, a gauge
// and an untyped value do not start from zero).
func createdMs(typ dto.MetricType, m *dto.Metric) int64 {
	switch {
	case typ == dto.MetricType_COUNTER && m.GetCounter().GetCreatedTimestamp() != nil:
		return m.GetCounter().GetCreatedTimestamp().AsTime().UnixMilli()
	case typ == dto.MetricType_HISTOGRAM && m.GetHistogram().GetCreatedTimestamp() != nil:
		return m.GetHistogram().GetCreatedTimestamp().AsTime().UnixMilli()
	}
	return 0
}

var plusInf = []byte("+Inf")

// metaOf returns the metadata of f, recording a change.
func (c *converter) metaOf(f *dto.MetricFamily) *familyMeta {
	m := c.metas[f.GetName()]
	if m != nil && m.typ == f.GetType() && m.help == f.GetHelp() && m.unit == f.GetUnit() {
		return m
	}
	m = &familyMeta{name: f.GetName(), help: f.GetHelp(), unit: f.GetUnit(), typ: f.GetType()}
	c.metas[m.name] = m
	c.metaGen++
	return m
}

// metadata returns the metadata of every family seen, sorted by name.
func (c *converter) metadata() []*familyMeta {
	out := make([]*familyMeta, 0, len(c.metas))
	for _, m := range c.metas {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *familyMeta) int { return strings.Compare(a.name, b.name) })
	return out
}

// stale appends a stale marker for every series not seen in the current
// generation and forgets those series.
func (c *converter) stale(out []sample, t int64) []sample {
	for k, s := range c.series {
		if s.seen == c.gen {
			continue
		}
		delete(c.series, k)
		if s.invalid != 0 || !s.hasLast {
			continue
		}
		ts := max(t, s.lastT+1)
		if s.native {
			out = append(out, sample{s: s, t: ts, h: &histogram{sum: staleNaN, timestamp: ts}, meta: s.meta})
		} else {
			out = append(out, sample{s: s, t: ts, v: staleNaN, meta: s.meta})
		}
	}
	return out
}

func (c *converter) float(out []sample, name, extraName string, extraValue []byte, m *dto.Metric, t int64, v float64, drop func(reason, int)) []sample {
	s := c.lookup(name, extraName, extraValue, m.GetLabel())
	if s.invalid != 0 {
		drop(s.invalid, 1)
		return out
	}
	bits := math.Float64bits(v)
	if !s.hasLast && c.created > 0 {
		// a new series: the zero it started from, just before its first sample
		zt := min(c.created, t-1)
		s.lastT, s.lastV, s.hasLast = zt, 0, true
		out = append(out, sample{s: s, t: zt, v: 0, first: true, st: c.created, meta: c.fam})
	}
	if s.hasLast && t <= s.lastT {
		switch {
		case bits == s.lastV && (t == s.lastT || c.clock):
			return out // the same sample again: not a new sample
		case c.clock:
			t = s.lastT + 1
		default:
			drop(reasonOutOfOrder, 1)
			return out
		}
	}
	first := !s.hasLast
	s.lastT, s.lastV, s.hasLast, s.native = t, bits, true, false
	return append(out, sample{s: s, t: t, v: v, first: first, st: c.created, meta: c.fam})
}

func (c *converter) histogram(out []sample, name string, m *dto.Metric, t int64, h *dto.Histogram, drop func(reason, int)) []sample {
	s := c.lookup(name, "", nil, m.GetLabel())
	if s.invalid != 0 {
		drop(s.invalid, 1)
		return out
	}
	if s.hasLast && t <= s.lastT {
		switch {
		case c.clock:
			t = s.lastT + 1 // histograms are not compared: send again
		case t == s.lastT:
			return out // histograms are not compared: the first one stands
		default:
			drop(reasonOutOfOrder, 1)
			return out
		}
	}
	first := !s.hasLast
	s.lastT, s.lastV, s.hasLast, s.native = t, 0, true, true
	return append(out, sample{s: s, t: t, h: nativeHistogram(h, t), first: first, st: c.created, meta: c.fam})
}

// lookup finds or creates the series of name plus m's labels plus the extra
// label plus the external labels (which yield to the series' own labels).
// Labels with empty values are absent, as in Prometheus. The extra label's
// value is only turned into a string for a new series.
func (c *converter) lookup(name, extraName string, extraValue []byte, pairs []*dto.LabelPair) *series {
	l := c.lbls[:0]
	l = append(l, label{"__name__", name})
	for _, p := range pairs {
		if p.GetValue() != "" {
			l = append(l, label{p.GetName(), p.GetValue()})
		}
	}
	if extraName != "" {
		l = append(l, label{name: extraName}) // value in extraValue
	}
	n := len(l)
	for _, e := range c.external {
		if !hasLabel(l[:n], e.name) {
			l = append(l, e)
		}
	}
	// insertion sort: label sets are small and usually sorted already
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && l[j].name < l[j-1].name; j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
	c.lbls = l
	k := c.key[:0]
	// The key is the label set encoded as protobuf: it is canonical once
	// sorted, and the series keeps it as its encoded labels.
	for _, x := range l {
		if extraName != "" && x.name == extraName && x.value == "" {
			k = appendLabel(k, x.name, extraValue)
		} else {
			k = appendLabel(k, x.name, x.value)
		}
	}
	c.key = k
	if s, ok := c.series[string(k)]; ok {
		s.seen = c.gen
		s.meta = c.fam
		return s
	}
	for i := range l {
		if extraName != "" && l[i].name == extraName && l[i].value == "" {
			l[i].value = string(extraValue)
		}
	}
	s := &series{seen: c.gen, invalid: validate(l), labels: string(k), hash: maphash.Bytes(shardSeed, k), meta: c.fam}
	c.series[s.labels] = s
	return s
}

func hasLabel(l []label, name string) bool {
	for _, x := range l {
		if x.name == name {
			return true
		}
	}
	return false
}

// validate checks a sorted label set against the remote_write 1.0 rules.
func validate(l []label) reason {
	for i, x := range l {
		if x.name == "__name__" {
			if !validMetricName(x.value) {
				return reasonInvalidMetricName
			}
		} else if !validLabelName(x.name) {
			return reasonInvalidLabelName
		}
		if i > 0 && l[i-1].name == x.name {
			return reasonDuplicateLabel
		}
	}
	return 0
}

func validMetricName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b == '_' || b == ':' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || i > 0 && b >= '0' && b <= '9') {
			return false
		}
	}
	return true
}

func validLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || i > 0 && b >= '0' && b <= '9') {
			return false
		}
	}
	return true
}

// appendFloat formats le and quantile values as client_golang's text
// exposition does, so series match what a scrape of the same registry yields.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

func isNative(h *dto.Histogram) bool {
	return h.Schema != nil || h.ZeroThreshold != nil || len(h.PositiveSpan) > 0 || len(h.NegativeSpan) > 0
}

func nativeHistogram(h *dto.Histogram, t int64) *histogram {
	p := &histogram{
		sum:           h.GetSampleSum(),
		schema:        h.GetSchema(),
		zeroThreshold: h.GetZeroThreshold(),
		timestamp:     t,
		posSpans:      spans(h.PositiveSpan),
		negSpans:      spans(h.NegativeSpan),
	}
	if h.SampleCountFloat != nil {
		p.counts, p.countFloat, p.zeroFloat = countFloat, h.GetSampleCountFloat(), h.GetZeroCountFloat()
		p.posCounts = slices.Clone(h.PositiveCount)
		p.negCounts = slices.Clone(h.NegativeCount)
	} else {
		p.counts, p.countInt, p.zeroInt = countInt, h.GetSampleCount(), h.GetZeroCount()
		p.posDeltas = slices.Clone(h.PositiveDelta)
		p.negDeltas = slices.Clone(h.NegativeDelta)
	}
	return p
}

func spans(in []*dto.BucketSpan) []bucketSpan {
	if len(in) == 0 {
		return nil
	}
	out := make([]bucketSpan, len(in))
	for i, s := range in {
		out[i] = bucketSpan{offset: s.GetOffset(), length: s.GetLength()}
	}
	return out
}

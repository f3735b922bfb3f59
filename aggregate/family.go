package aggregate

import (
	"hash/maphash"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lambdabridge/lambdabridge/metric"
)

// DefaultBuckets returns the classic histogram buckets used when a Family
// gives none: metric.DefaultBuckets (one definition for the aggregator and
// the catalog lint).
func DefaultBuckets(unit string) []float64 { return metric.DefaultBuckets(unit) }

// DefaultObjectives are the summary quantiles used when a Family gives none
// (statsd_exporter's defaults): metric.DefaultQuantiles with their allowed
// errors.
var DefaultObjectives = objectives(metric.DefaultQuantiles)

// objectives gives each quantile statsd_exporter's allowed error: 5% of the
// distance to the nearer end (0.5: 0.05, 0.9: 0.01, 0.99: 0.001).
func objectives(qs []float64) map[float64]float64 {
	m := make(map[float64]float64, len(qs))
	for _, q := range qs {
		m[q] = math.Round(min(q, 1-q)*0.1*1e6) / 1e6
	}
	return m
}

// family is the state of one metric family.
type family struct {
	name  string
	typ   metric.Type
	help  string
	unit  string
	scale float64
	ttl   time.Duration

	buckets    []float64
	native     bool
	schema     int32
	maxBuckets int
	sumOpts    summaryOpts

	exposed []string // names occupied in Aggregator.occupied

	points atomic.Uint64
	values atomic.Uint64

	mu         sync.Mutex
	dead       bool // removed from the aggregator; Add must look again
	labelNames []string
	series     map[string]*series
	order      []*series // all series; sorted by key unless dirty
	dirty      bool
	limited    uint64 // values dropped by the cardinality guard
	exploded   string // label with the most distinct values when limited
	explodedN  int
}

func newFamily(a *Aggregator, fam *Family) *family {
	f := &family{
		name:   fam.Name,
		typ:    fam.Type,
		help:   fam.Help,
		unit:   fam.Unit,
		scale:  fam.Scale,
		ttl:    fam.TTL,
		series: map[string]*series{},
	}
	if f.scale == 0 {
		f.scale = 1
	}
	if f.help == "" {
		f.help = "Metric " + f.name + " aggregated by lambdabridge."
	}
	f.help = strings.ToValidUTF8(f.help, "\uFFFD") // protobuf strings must be UTF-8
	if f.ttl == 0 {
		f.ttl = a.ttl
	}
	switch f.typ {
	case metric.TypeHistogram:
		f.buckets = fam.Buckets
		if f.buckets == nil {
			f.buckets = DefaultBuckets(fam.Unit)
		}
		f.buckets = slices.Clone(f.buckets)
		slices.Sort(f.buckets)
		f.buckets = slices.Compact(f.buckets)
		for len(f.buckets) > 0 && math.IsInf(f.buckets[len(f.buckets)-1], +1) {
			f.buckets = f.buckets[:len(f.buckets)-1]
		}
		factor := fam.NativeBucketFactor
		if factor == 0 {
			factor = DefaultNativeBucketFactor
		}
		if factor > 1 {
			f.native = true
			f.schema = pickSchema(factor)
			f.maxBuckets = fam.NativeMaxBuckets
			if f.maxBuckets <= 0 {
				f.maxBuckets = DefaultNativeMaxBuckets
			}
		}
	case metric.TypeSummary:
		f.sumOpts = newSummaryOpts(fam)
	}
	return f
}

// series is the state of one series. Counters and gauges use value (and
// timeMs); histograms, sets and summaries their own state.
type series struct {
	key      string
	value    float64
	timeMs   int64 // producer timestamp of the gauge value applied
	lastSeen int64 // unix nanoseconds of the last point; only with a TTL
	created  int64 // unix nanoseconds of the series' first point: its created timestamp
	hist     *histogram
	set      *memberSet
	summary  *summary
}

// addTo aggregates p into f. It returns false when f was removed from the
// aggregator meanwhile (the caller looks the family up again).
func (a *Aggregator) addTo(f *family, s *scratch, ls []metric.Label, p *metric.Point, n int) bool {
	var now int64
	if f.ttl > 0 {
		now = a.now().UnixNano()
	}
	f.mu.Lock()
	if f.dead {
		f.mu.Unlock()
		return false
	}
	sr := f.series[string(s.key)]
	if sr == nil {
		// a new series, or labels that need repair: checked only here, off
		// the hot path of existing series (a series found has valid labels,
		// and, unless mixed label sets are allowed, the family's names)
		if fixed, changed := repairLabels(ls); changed {
			ls = fixed
			s.key = appendKey(s.key[:0], ls)
			sr = f.series[string(s.key)]
		}
		if sr == nil && !a.mixedLabels && !f.sameLabelNames(ls) {
			f.mu.Unlock()
			a.drop(ReasonTypeConflict, f.name, n)
			return true
		}
	}
	created := sr == nil
	if created {
		if reason := a.admit(f); reason != "" {
			f.limited += uint64(n)
			if f.exploded == "" {
				f.exploded, f.explodedN = f.explodedLabel()
			}
			f.mu.Unlock()
			a.drop(reason, f.name, n)
			return true
		}
		sr = &series{key: string(s.key), created: now}
		if now == 0 {
			sr.created = a.now().UnixNano()
		}
		f.series[sr.key] = sr
		f.order = append(f.order, sr)
		f.dirty = true
		if f.labelNames == nil {
			f.labelNames = make([]string, 0, len(ls))
			for _, l := range decodeKey(nil, sr.key) {
				f.labelNames = append(f.labelNames, l.Name)
			}
		}
	}
	accepted := a.apply(f, sr, p)
	switch {
	case accepted > 0 && f.ttl > 0:
		sr.lastSeen = now
	case accepted == 0 && created:
		// nothing usable (all values non-finite, negative, out of order):
		// do not show a series that was never set
		delete(f.series, sr.key)
		f.order = f.order[:len(f.order)-1]
		a.nseries.Add(-1)
		if len(f.series) == 0 {
			f.labelNames = nil
		}
	}
	if accepted > 0 { // under f.mu, so a family is never retired between apply and count
		f.points.Add(1)
		f.values.Add(uint64(accepted))
	}
	f.mu.Unlock()
	return true
}

// sameLabelNames reports whether ls has the family's label names; the first
// series of a family defines them.
func (f *family) sameLabelNames(ls []metric.Label) bool {
	if f.labelNames == nil {
		return true
	}
	if len(ls) != len(f.labelNames) {
		return false
	}
	for i := range ls {
		if ls[i].Name != f.labelNames[i] {
			return false
		}
	}
	return true
}

// admit applies the cardinality guard to a new series of f (f.mu held).
func (a *Aggregator) admit(f *family) string {
	if a.maxPerFamily > 0 && len(f.series) >= a.maxPerFamily {
		return ReasonCardinalityLimit
	}
	if n := a.nseries.Add(1); a.maxSeries > 0 && n > a.maxSeries {
		a.nseries.Add(-1)
		return ReasonCardinalityLimit
	}
	return ""
}

// explodedLabel returns the label with the most distinct values among f's
// series (f.mu held).
func (f *family) explodedLabel() (string, int) {
	distinct := map[string]map[string]struct{}{}
	var buf []metric.Label
	for _, sr := range f.series {
		buf = decodeKey(buf[:0], sr.key)
		for _, l := range buf {
			m := distinct[l.Name]
			if m == nil {
				m = map[string]struct{}{}
				distinct[l.Name] = m
			}
			m[l.Value] = struct{}{}
		}
	}
	best, bestN := "", 0
	for name, m := range distinct {
		if len(m) > bestN || len(m) == bestN && name < best {
			best, bestN = name, len(m)
		}
	}
	return best, bestN
}

// apply folds p's values into sr (f.mu held), counts the values it drops
// and returns the number it accepted.
func (a *Aggregator) apply(f *family, sr *series, p *metric.Point) (accepted int) {
	var nonFinite int
	if p.Kind == metric.Set {
		if f.typ != metric.TypeGauge {
			a.drop(ReasonUnsupportedKind, f.name, valueCount(p))
			return 0
		}
		if sr.set == nil {
			sr.set = &memberSet{m: map[uint64]struct{}{}}
		}
		full := 0
		if len(p.Members) == 0 { // a set written with numeric values
			for _, v := range p.Values {
				if sr.set.add(math.Float64bits(v), a.maxSetMembers) {
					accepted++
				} else {
					full++
				}
			}
		} else {
			for _, m := range p.Members {
				if sr.set.add(maphash.String(a.seed, m), a.maxSetMembers) {
					accepted++
				} else {
					full++
				}
			}
		}
		sr.value = float64(len(sr.set.m))
		a.drop(ReasonSetLimit, f.name, full)
		return accepted
	}
	scale := f.scale
	switch f.typ {
	case metric.TypeCounter:
		w := weight(p)
		negative := 0
		for _, v := range p.Values {
			v *= scale * w
			switch {
			case !finite(v):
				nonFinite++
			case v < 0:
				negative++
			default:
				sr.value += v
				accepted++
			}
		}
		a.drop(ReasonNegativeCounter, f.name, negative)
	case metric.TypeHistogram:
		w := intWeight(weight(p))
		if sr.hist == nil {
			sr.hist = &histogram{schema: f.schema}
		}
		for _, v := range p.Values {
			v *= scale
			if !finite(v) {
				nonFinite++
				continue
			}
			sr.hist.observe(f, v, w)
			accepted++
		}
	case metric.TypeSummary:
		w := intWeight(weight(p))
		if sr.summary == nil {
			sr.summary = newSummary(&f.sumOpts, a.now)
		}
		for _, v := range p.Values {
			v *= scale
			if !finite(v) {
				nonFinite++
				continue
			}
			for range min(w, maxSummaryWeight) {
				sr.summary.observe(v)
			}
			accepted++
		}
	default: // gauges, service checks, untyped
		if p.TimeMs != 0 && p.TimeMs < sr.timeMs {
			a.drop(ReasonOutOfOrder, f.name, len(p.Values))
			return 0
		}
		for _, v := range p.Values {
			v *= scale
			if !finite(v) {
				nonFinite++
				continue
			}
			sr.value = v
			accepted++
		}
		if accepted > 0 && p.TimeMs != 0 {
			sr.timeMs = p.TimeMs
		}
	}
	a.drop(ReasonNonFinite, f.name, nonFinite)
	return accepted
}

// maxSummaryWeight bounds the observations one summary value stands for
// (the summary's quantile streams take no weight, so a value is observed
// weight times): a sample rate below 1/10000 counts as 1/10000.
const maxSummaryWeight = 10000

// memberSet holds the hashes of a set's distinct members.
type memberSet struct {
	m map[uint64]struct{}
}

// add records h; false when the set is full and h is new.
func (s *memberSet) add(h uint64, max int) bool {
	if _, ok := s.m[h]; ok {
		return true
	}
	if max > 0 && len(s.m) >= max {
		return false
	}
	s.m[h] = struct{}{}
	return true
}

package aggregate

import (
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lambdabridge/lambdabridge/metric"
)

// Gather implements prometheus.Gatherer. It first expires idle series (see
// WithTTL), then returns every live series: families sorted by name, series
// sorted by labels, labels sorted by name, no timestamps. The families are
// freshly built; the caller may keep or change them.
func (a *Aggregator) Gather() ([]*dto.MetricFamily, error) {
	a.Expire()
	fams := a.sortedFamilies()
	out := make([]*dto.MetricFamily, 0, len(fams))
	var buf []metric.Label
	for _, f := range fams {
		f.mu.Lock()
		if f.dirty {
			slices.SortFunc(f.order, func(x, y *series) int { return strings.Compare(x.key, y.key) })
			f.dirty = false
		}
		if len(f.order) == 0 {
			f.mu.Unlock()
			continue
		}
		mf := f.newMetricFamily(len(f.order))
		ar := newArena(len(f.order), len(f.labelNames))
		for _, sr := range f.order {
			buf = decodeKey(buf[:0], sr.key)
			mf.Metric = append(mf.Metric, f.metricOf(sr, buf, ar))
		}
		f.mu.Unlock()
		out = append(out, mf)
	}
	return out, nil
}

// sortedFamilies returns the families sorted by name.
func (a *Aggregator) sortedFamilies() []*family {
	a.mu.RLock()
	s := a.sorted
	a.mu.RUnlock()
	if s != nil {
		return s
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sorted == nil {
		s := make([]*family, 0, len(a.families))
		for _, f := range a.families {
			s = append(s, f)
		}
		slices.SortFunc(s, func(x, y *family) int { return strings.Compare(x.name, y.name) })
		a.sorted = s
	}
	return a.sorted
}

// sortedFamiliesLocked is sortedFamilies for a caller holding a.mu (read).
func (a *Aggregator) sortedFamiliesLocked() []*family {
	if a.sorted != nil {
		return a.sorted
	}
	s := make([]*family, 0, len(a.families))
	for _, f := range a.families {
		s = append(s, f)
	}
	slices.SortFunc(s, func(x, y *family) int { return strings.Compare(x.name, y.name) })
	return s
}

var dtoTypes = [...]dto.MetricType{
	metric.TypeUntyped:   dto.MetricType_UNTYPED,
	metric.TypeCounter:   dto.MetricType_COUNTER,
	metric.TypeGauge:     dto.MetricType_GAUGE,
	metric.TypeHistogram: dto.MetricType_HISTOGRAM,
	metric.TypeSummary:   dto.MetricType_SUMMARY,
}

func (f *family) newMetricFamily(n int) *dto.MetricFamily {
	mf := &dto.MetricFamily{
		Name:   new(f.name),
		Help:   new(f.help),
		Type:   new(dtoTypes[f.typ]),
		Metric: make([]*dto.Metric, 0, n),
	}
	// OpenMetrics wants the unit as the name's suffix; only declare it then.
	if f.unit != "" && (strings.HasSuffix(f.name, "_"+f.unit) || strings.HasSuffix(f.name, "_"+f.unit+"_total")) {
		mf.Unit = new(f.unit)
	}
	return mf
}

// metricOf builds the dto metric of sr (f.mu held).
// ar (may be nil) provides the memory in bulk.
func (f *family) metricOf(sr *series, ls []metric.Label, ar *arena) *dto.Metric {
	m := ar.metric()
	m.Label = ar.labelPairs(len(ls))
	for i, l := range ls {
		m.Label[i].Name, m.Label[i].Value = ar.str(l.Name), ar.str(l.Value)
	}
	switch f.typ {
	case metric.TypeCounter:
		m.Counter = ar.counter()
		m.Counter.Value = ar.float(sr.value)
		m.Counter.CreatedTimestamp = ar.created(sr.created)
	case metric.TypeHistogram:
		h := sr.hist
		if h == nil {
			h = &histogram{schema: f.schema}
		}
		h.write(f, m)
		m.Histogram.CreatedTimestamp = ar.created(sr.created)
	case metric.TypeSummary:
		if sr.summary != nil {
			m.Summary = sr.summary.write()
		} else {
			m.Summary = &dto.Summary{SampleCount: new(uint64(0)), SampleSum: new(0.0)}
		}
		m.Summary.CreatedTimestamp = ar.created(sr.created)
	case metric.TypeUntyped:
		m.Untyped = &dto.Untyped{Value: new(sr.value)}
	default:
		m.Gauge = ar.gauge()
		m.Gauge.Value = ar.float(sr.value)
	}
	return m
}

// arena hands out the dto values of one family from a few large
// allocations instead of one allocation each (Gather builds every series
// anew). A nil arena allocates one by one.
type arena struct {
	metrics  []dto.Metric
	lps      []dto.LabelPair
	ptrs     []*dto.LabelPair
	strs     []string
	floats   []float64
	counters []dto.Counter
	gauges   []dto.Gauge
	stamps   []timestamppb.Timestamp
}

func newArena(series, labels int) *arena {
	return &arena{
		metrics: make([]dto.Metric, series),
		lps:     make([]dto.LabelPair, series*labels),
		ptrs:    make([]*dto.LabelPair, series*labels),
		strs:    make([]string, 2*series*labels),
		floats:  make([]float64, series),
	}
}

func (a *arena) metric() *dto.Metric {
	if a == nil || len(a.metrics) == 0 {
		return &dto.Metric{}
	}
	m := &a.metrics[0]
	a.metrics = a.metrics[1:]
	return m
}

// labelPairs returns n label pairs (their Name and Value to be set).
func (a *arena) labelPairs(n int) []*dto.LabelPair {
	if a == nil || len(a.lps) < n {
		ps := make([]*dto.LabelPair, n)
		for i := range ps {
			ps[i] = &dto.LabelPair{}
		}
		return ps
	}
	ps := a.ptrs[:n:n]
	for i := range ps {
		ps[i] = &a.lps[i]
	}
	a.ptrs, a.lps = a.ptrs[n:], a.lps[n:]
	return ps
}

func (a *arena) str(s string) *string {
	if a == nil || len(a.strs) == 0 {
		return new(s) // not &s: that would move s to the heap on every call
	}
	p := &a.strs[0]
	*p = s
	a.strs = a.strs[1:]
	return p
}

func (a *arena) float(v float64) *float64 {
	if a == nil || len(a.floats) == 0 {
		return new(v)
	}
	p := &a.floats[0]
	*p = v
	a.floats = a.floats[1:]
	return p
}

// created returns the created timestamp of a series created at unixNano.
func (a *arena) created(unixNano int64) *timestamppb.Timestamp {
	t := timestamppb.Timestamp{Seconds: unixNano / 1e9, Nanos: int32(unixNano % 1e9)}
	if a == nil {
		return &t
	}
	if len(a.stamps) == 0 {
		a.stamps = make([]timestamppb.Timestamp, cap(a.metrics)+1)
	}
	p := &a.stamps[0]
	p.Seconds, p.Nanos = t.Seconds, t.Nanos
	a.stamps = a.stamps[1:]
	return p
}

func (a *arena) counter() *dto.Counter {
	if a == nil {
		return &dto.Counter{}
	}
	if len(a.counters) == 0 {
		a.counters = make([]dto.Counter, cap(a.metrics)+1)
	}
	c := &a.counters[0]
	a.counters = a.counters[1:]
	return c
}

func (a *arena) gauge() *dto.Gauge {
	if a == nil {
		return &dto.Gauge{}
	}
	if len(a.gauges) == 0 {
		a.gauges = make([]dto.Gauge, cap(a.metrics)+1)
	}
	g := &a.gauges[0]
	a.gauges = a.gauges[1:]
	return g
}

// Expire removes the series whose family TTL has passed since their last
// point, hands them to the WithOnExpire functions and returns how many
// ended. Gather calls it; call it yourself to expire between gathers.
func (a *Aggregator) Expire() int {
	if !a.anyTTL.Load() {
		return 0
	}
	now := a.now()
	return a.remove(func(f *family) bool { return f.ttl > 0 }, func(f *family, sr *series) bool {
		return sr.lastSeen < now.Add(-f.ttl).UnixNano()
	})
}

// EndEnvironment removes the series of the execution environment env of
// function (the values of EnvironmentLabel and, with WithFunctionLabel, of
// the function label; environment ids repeat across functions) and hands
// them to the WithOnExpire functions, so that a remote_write sink ends them
// with stale markers while the other environments' series go on. Call it
// when an environment is recycled during a run (idle, timeout, crash), not
// when the run ends: a finite run leaves its series as they are, queryable
// after it. It returns how many series ended; without WithPerEnvironment
// none do.
func (a *Aggregator) EndEnvironment(function, env string) int {
	if !a.perEnv || env == "" {
		return 0
	}
	var buf []metric.Label
	return a.remove(func(*family) bool { return true }, func(_ *family, sr *series) bool {
		buf = decodeKey(buf[:0], sr.key)
		envOK, fnOK := false, a.fnLabel == "" || function == ""
		for _, l := range buf {
			switch l.Name {
			case EnvironmentLabel:
				envOK = l.Value == env
			case a.fnLabel:
				fnOK = fnOK || l.Value == function
			}
		}
		return envOK && fnOK
	})
}

// remove removes the series of the families in scope for which ended returns
// true (called with the family's lock held), hands them to the WithOnExpire
// functions and returns how many ended.
func (a *Aggregator) remove(scope func(f *family) bool, ended func(f *family, sr *series) bool) int {
	var gone []*dto.MetricFamily
	var empty []*family
	n := 0
	var buf []metric.Label
	for _, f := range a.sortedFamilies() {
		if !scope(f) {
			continue
		}
		f.mu.Lock()
		var mf *dto.MetricFamily
		w := 0
		for _, sr := range f.order {
			if !ended(f, sr) {
				f.order[w] = sr
				w++
				continue
			}
			delete(f.series, sr.key)
			n++
			if len(a.onExpire) > 0 {
				if mf == nil {
					mf = f.newMetricFamily(0)
				}
				buf = decodeKey(buf[:0], sr.key)
				mf.Metric = append(mf.Metric, f.metricOf(sr, buf, nil))
			}
		}
		removed := len(f.order) - w
		clear(f.order[w:])
		f.order = f.order[:w]
		if len(f.series) == 0 {
			f.labelNames = nil
			empty = append(empty, f)
		}
		f.mu.Unlock()
		if removed > 0 {
			a.nseries.Add(-int64(removed))
		}
		if mf != nil {
			slices.SortFunc(mf.Metric, func(x, y *dto.Metric) int { return compareLabels(x.Label, y.Label) })
			gone = append(gone, mf)
		}
	}
	if len(empty) > 0 {
		a.removeEmpty(empty)
	}
	a.expired.Add(uint64(n))
	if len(gone) > 0 {
		for _, fn := range a.onExpire {
			fn(gone)
		}
	}
	return n
}

// removeEmpty forgets families that lost all their series, so their names
// are free again.
func (a *Aggregator) removeEmpty(fams []*family) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, f := range fams {
		f.mu.Lock()
		if len(f.series) == 0 && !f.dead {
			f.dead = true
			a.retiredPoints.Add(f.points.Load())
			a.retiredValues.Add(f.values.Load())
			delete(a.families, f.name)
			for _, n := range f.exposed {
				if a.occupied[n] == f.name {
					delete(a.occupied, n)
				}
			}
			a.publish()
		}
		f.mu.Unlock()
	}
}

func compareLabels(x, y []*dto.LabelPair) int {
	for i := 0; i < len(x) && i < len(y); i++ {
		if c := strings.Compare(x[i].GetName(), y[i].GetName()); c != 0 {
			return c
		}
		if c := strings.Compare(x[i].GetValue(), y[i].GetValue()); c != 0 {
			return c
		}
	}
	return len(x) - len(y)
}

package aggregate

import (
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"

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
		for _, sr := range f.order {
			buf = decodeKey(buf[:0], sr.key)
			mf.Metric = append(mf.Metric, f.metricOf(sr, buf))
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
func (f *family) metricOf(sr *series, ls []metric.Label) *dto.Metric {
	m := &dto.Metric{Label: make([]*dto.LabelPair, len(ls))}
	for i, l := range ls {
		m.Label[i] = &dto.LabelPair{Name: new(l.Name), Value: new(l.Value)}
	}
	switch f.typ {
	case metric.TypeCounter:
		m.Counter = &dto.Counter{Value: new(sr.value)}
	case metric.TypeHistogram:
		h := sr.hist
		if h == nil {
			h = &histogram{schema: f.schema}
		}
		h.write(f, m)
	case metric.TypeSummary:
		if sr.summary != nil {
			var tmp dto.Metric
			if err := sr.summary.Write(&tmp); err == nil && tmp.Summary != nil {
				tmp.Summary.CreatedTimestamp = nil
				m.Summary = tmp.Summary
			}
		}
		if m.Summary == nil {
			m.Summary = &dto.Summary{SampleCount: new(uint64(0)), SampleSum: new(0.0)}
		}
	case metric.TypeUntyped:
		m.Untyped = &dto.Untyped{Value: new(sr.value)}
	default:
		m.Gauge = &dto.Gauge{Value: new(sr.value)}
	}
	return m
}

// Expire removes the series whose family TTL has passed since their last
// point, hands them to the WithOnExpire functions and returns how many
// ended. Gather calls it; call it yourself to expire between gathers.
func (a *Aggregator) Expire() int {
	if !a.anyTTL.Load() {
		return 0
	}
	now := a.now()
	var ended []*dto.MetricFamily
	var empty []*family
	n := 0
	var buf []metric.Label
	for _, f := range a.sortedFamilies() {
		if f.ttl <= 0 {
			continue
		}
		cut := now.Add(-f.ttl).UnixNano()
		f.mu.Lock()
		var mf *dto.MetricFamily
		w := 0
		for _, sr := range f.order {
			if sr.lastSeen >= cut {
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
				mf.Metric = append(mf.Metric, f.metricOf(sr, buf))
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
			ended = append(ended, mf)
		}
	}
	if len(empty) > 0 {
		a.removeEmpty(empty)
	}
	a.expired.Add(uint64(n))
	if len(ended) > 0 {
		for _, fn := range a.onExpire {
			fn(ended)
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

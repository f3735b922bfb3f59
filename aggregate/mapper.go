package aggregate

import (
	"strings"
	"sync/atomic"

	"github.com/lambdabridge/lambdabridge/metric"
)

// TranslateMapper is the default Mapper: metric.Translate for the family
// and metric.PromLabels for the labels, with default buckets and options.
// Families are cached per (format, namespace, name, kind, unit), so the hot
// path does not rebuild names. It is safe for concurrent use.
type TranslateMapper struct {
	cache  cowMap[identity, *entry]
	labels cowMap[labelKey, string]
}

// entry is the cached translation of one identity: its family and the
// label names of the first label-name list seen with it, so a point with
// the usual tags needs one cache lookup, not one per label.
type entry struct {
	fam  *Family
	memo atomic.Pointer[labelMemo]
}

// labelMemo maps raw label names (in order) to Prometheus label names.
type labelMemo struct{ raw, prom []string }

// maxMemoLabels bounds the label lists remembered per identity.
const maxMemoLabels = 32

// labelKey is a raw label name in the style of one translation.
type labelKey struct {
	emf  bool
	name string
}

// identity is what a family derives from.
type identity struct {
	format          metric.Format
	kind            metric.Kind
	namespace, name string
	unit            string
}

// maxCachedFamilies bounds the TranslateMapper cache; when full it starts
// over, so a flood of distinct names costs time, not memory.
const maxCachedFamilies = 100000

// NewTranslateMapper returns the default Mapper.
func NewTranslateMapper() *TranslateMapper {
	m := &TranslateMapper{}
	m.cache.max = maxCachedFamilies
	m.labels.max = maxCachedFamilies
	return m
}

// Map implements Mapper.
func (m *TranslateMapper) Map(dst []metric.Label, p *metric.Point) (*Family, []metric.Label) {
	e := m.entry(p)
	return e.fam, m.appendLabels(dst, p, e)
}

// AppendLabels is metric.PromLabels with the label-name translation cached,
// so it does not allocate once the names are known: it appends p's
// Prometheus labels to dst, skipping names dst already has.
func (m *TranslateMapper) AppendLabels(dst []metric.Label, p *metric.Point) []metric.Label {
	return m.appendLabels(dst, p, nil)
}

func (m *TranslateMapper) appendLabels(dst []metric.Label, p *metric.Point, e *entry) []metric.Label {
	var prom []string // translated names of p.Labels, when memoized
	if e != nil && p.Format != metric.FormatPlatform {
		if memo := e.memo.Load(); memo != nil && sameNames(memo.raw, p.Labels) {
			prom = memo.prom
		} else if memo == nil && len(p.Labels) > 0 && len(p.Labels) <= maxMemoLabels {
			memo := &labelMemo{raw: make([]string, len(p.Labels)), prom: make([]string, len(p.Labels))}
			for i, l := range p.Labels {
				memo.raw[i] = strings.Clone(l.Name)
				memo.prom[i] = m.labelName(p.Format == metric.FormatEMF, l.Name)
			}
			e.memo.CompareAndSwap(nil, memo)
			prom = memo.prom
		}
	}
	if p.Kind == metric.ServiceCheck && !hasLabel(dst, "check") {
		dst = append(dst, metric.Label{Name: "check", Value: p.Name})
	}
	var seen map[string]struct{} // only for long label lists: keeps this linear
	if len(dst)+len(p.Labels) > 16 {
		seen = make(map[string]struct{}, len(dst)+len(p.Labels))
		for _, l := range dst {
			seen[l.Name] = struct{}{}
		}
	}
	for i, l := range p.Labels {
		n := l.Name
		switch {
		case prom != nil:
			n = prom[i]
		case p.Format != metric.FormatPlatform:
			n = m.labelName(p.Format == metric.FormatEMF, l.Name)
		}
		if seen != nil {
			if _, dup := seen[n]; dup {
				continue
			}
			seen[n] = struct{}{}
		} else if hasLabel(dst, n) {
			continue
		}
		v := l.Value
		if v == "" {
			v = metric.TagValueTrue
		}
		dst = append(dst, metric.Label{Name: n, Value: v})
	}
	return dst
}

func sameNames(raw []string, ls []metric.Label) bool {
	if len(raw) != len(ls) {
		return false
	}
	for i := range ls {
		if raw[i] != ls[i].Name {
			return false
		}
	}
	return true
}

func hasLabel(ls []metric.Label, name string) bool {
	for i := range ls {
		if ls[i].Name == name {
			return true
		}
	}
	return false
}

func (m *TranslateMapper) labelName(emf bool, raw string) string {
	k := labelKey{emf, raw}
	if n, ok := m.labels.load(k); ok {
		return n
	}
	f := metric.FormatDogStatsD
	if emf {
		f = metric.FormatEMF
	}
	n := strings.Clone(metric.LabelName(f, raw))
	k.name = strings.Clone(raw)
	return m.labels.store(k, n)
}

// Family returns the cached translation of p's identity.
func (m *TranslateMapper) Family(p *metric.Point) *Family { return m.entry(p).fam }

func (m *TranslateMapper) entry(p *metric.Point) *entry {
	id := identity{p.Format, p.Kind, p.Namespace, p.Name, p.Unit}
	if e, ok := m.cache.load(id); ok {
		return e
	}
	f := &Family{Family: metric.Translate(p)}
	f.Name = strings.Clone(f.Name)
	id.namespace = strings.Clone(id.namespace)
	id.name = strings.Clone(id.name)
	id.unit = strings.Clone(id.unit)
	return m.cache.store(id, &entry{fam: f})
}

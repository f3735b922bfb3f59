package aggregate

import (
	"strings"
	"sync"

	"github.com/lambdabridge/lambdabridge/metric"
)

// TranslateMapper is the default Mapper: metric.Translate for the family
// and metric.PromLabels for the labels, with default buckets and options.
// Families are cached per (format, namespace, name, kind, unit), so the hot
// path does not rebuild names. It is safe for concurrent use.
type TranslateMapper struct {
	mu    sync.RWMutex
	cache map[identity]*Family
	max   int
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
	return &TranslateMapper{cache: map[identity]*Family{}, max: maxCachedFamilies}
}

// Map implements Mapper.
func (m *TranslateMapper) Map(dst []metric.Label, p *metric.Point) (*Family, []metric.Label) {
	return m.Family(p), metric.PromLabels(dst, p)
}

// Family returns the cached translation of p's identity.
func (m *TranslateMapper) Family(p *metric.Point) *Family {
	id := identity{p.Format, p.Kind, p.Namespace, p.Name, p.Unit}
	m.mu.RLock()
	f := m.cache[id]
	m.mu.RUnlock()
	if f != nil {
		return f
	}
	f = &Family{Family: metric.Translate(p)}
	f.Name = strings.Clone(f.Name)
	id.namespace = strings.Clone(id.namespace)
	id.name = strings.Clone(id.name)
	id.unit = strings.Clone(id.unit)
	m.mu.Lock()
	if len(m.cache) >= m.max {
		clear(m.cache)
	}
	m.cache[id] = f
	m.mu.Unlock()
	return f
}

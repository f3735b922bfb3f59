// Package catalog records which metric families a Lambda function really
// emits: for every Prometheus family its type, unit, help, label names with a
// few example values, and where it came from (the EMF namespace, metric name,
// unit and dimension sets as declared; the Datadog name, kind and tag keys;
// the runner's platform metrics). Dashboards are generated from it, and
// `run`, `tail` and `convert` write it as JSON with --catalog.
//
//	c := catalog.New()
//	for i := range batch.Points { c.Add(&batch.Points[i]) }
//	err := c.Write(f) // versioned, sorted JSON; catalog.Read reads it back
package catalog

import (
	"slices"
	"strings"
	"sync"

	"github.com/lambdabridge/lambdabridge/metric"
)

// Defaults of the bounds a catalog keeps.
const (
	// DefaultMaxExamples is how many example values a label keeps.
	DefaultMaxExamples = 10
	// DefaultMaxDistinct is how many distinct values of a label are counted
	// exactly; beyond it the count saturates and Label.Saturated is set.
	DefaultMaxDistinct = 100
	// MaxLabelSets is how many distinct label-name sets a family records.
	MaxLabelSets = 32
	// MaxSources is how many sources (format, namespace, name, kind, unit)
	// a family records; more set Family.SourcesSaturated.
	MaxSources = 64
	// maxCached bounds the translation cache.
	maxCached = 4096
)

// Catalog is the set of families seen. Its methods are safe for concurrent
// use. The zero value is not usable: call New.
type Catalog struct {
	mu          sync.Mutex
	maxExamples int
	maxDistinct int
	fams        map[string]*family
	// Caches of the translation, so Add allocates nothing for a point
	// whose family and label names were seen before.
	trans   map[sourceKey]metric.Family
	lnames  map[labelKey]string
	scratch []metric.Label
	keybuf  []byte
}

type labelKey struct {
	format metric.Format
	key    string
}

// Option configures a Catalog.
type Option func(*Catalog)

// WithMaxExamples sets how many example values each label keeps (default 10).
func WithMaxExamples(n int) Option {
	return func(c *Catalog) {
		if n > 0 {
			c.maxExamples = n
		}
	}
}

// WithMaxDistinct sets how many distinct values per label are counted before
// the count saturates (default 100). It bounds the memory a label with
// unbounded values (request ids) takes.
func WithMaxDistinct(n int) Option {
	return func(c *Catalog) {
		if n > 0 {
			c.maxDistinct = n
		}
	}
}

// New returns an empty catalog.
func New(opts ...Option) *Catalog {
	c := &Catalog{}
	c.init()
	for _, o := range opts {
		o(c)
	}
	if c.maxDistinct < c.maxExamples {
		c.maxDistinct = c.maxExamples
	}
	return c
}

func (c *Catalog) init() {
	c.maxExamples, c.maxDistinct = DefaultMaxExamples, DefaultMaxDistinct
	c.fams = map[string]*family{}
	c.trans = map[sourceKey]metric.Family{}
	c.lnames = map[labelKey]string{}
}

// family is the mutable state of one family.
type family struct {
	name, help  string
	typ         metric.Type
	unit        string
	types       map[metric.Type]struct{} // every type the name was translated to
	labels      map[string]*label
	labelSets   map[string][]string // sorted label names joined by "\x00" -> the names
	setsFull    bool                // more label sets than MaxLabelSets were seen
	sourcesFull bool                // more sources than MaxSources were seen
	sources     map[sourceKey]*source
	obs         Observed
	buckets     []float64
}

type label struct {
	values    map[string]struct{} // at most maxDistinct
	distinct  int                 // >= len(values) (a catalog read from JSON knows only the count)
	saturated bool
}

type sourceKey struct {
	format          metric.Format
	namespace, name string
	kind            metric.Kind
	unit            string
}

type source struct {
	dimSets    map[string][]string // key: keys joined by "\x00"
	tagKeys    map[string]struct{}
	labelNames map[string]struct{} // platform
	functions  map[string]struct{}
	resolution int
	points     int64
	first      metric.Origin
}

// Add records p. It keeps nothing of p's slices or strings' backing memory
// beyond the call, so p may live in a batch that is reset afterwards.
func (c *Catalog) Add(p *metric.Point) {
	if p == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := sourceKey{format: p.Format, namespace: p.Namespace, name: p.Name, kind: p.Kind, unit: p.Unit}
	if p.Kind == metric.Event {
		k.name = "" // an event's name is its title: not an identity worth keeping
	}
	fam, ok := c.trans[k]
	if !ok {
		fam = metric.Translate(p)
		fam.Name, fam.Help = strings.Clone(fam.Name), strings.Clone(fam.Help)
	}
	if !ok && len(c.trans) < maxCached {
		c.trans[sourceKey{format: k.format, namespace: strings.Clone(k.namespace), name: strings.Clone(k.name), kind: k.kind, unit: strings.Clone(k.unit)}] = fam
	}
	pl := c.promLabels(p)
	f := c.fams[fam.Name]
	if f == nil {
		f = &family{
			name: strings.Clone(fam.Name), help: strings.Clone(fam.Help), typ: fam.Type, unit: fam.Unit,
			types: map[metric.Type]struct{}{}, labels: map[string]*label{}, sources: map[sourceKey]*source{},
		}
		c.fams[f.name] = f
	}
	f.types[fam.Type] = struct{}{}
	for _, l := range pl {
		c.addValue(f, l.Name, l.Value)
	}
	c.addLabelSet(f, pl)
	if fam.Type == metric.TypeHistogram {
		scale := fam.Scale
		if scale == 0 {
			scale = 1
		}
		for _, v := range p.Values {
			f.obs.add(v * scale)
		}
	}

	s := f.sources[k]
	if s == nil && len(f.sources) >= MaxSources {
		f.sourcesFull = true
		return
	}
	if s == nil {
		k.namespace, k.name, k.unit = strings.Clone(k.namespace), strings.Clone(k.name), strings.Clone(k.unit)
		s = &source{first: cloneOrigin(p.Origin)}
		f.sources[k] = s
	} else if originLess(p.Origin, s.first) {
		s.first = cloneOrigin(p.Origin)
	}
	s.points++
	if p.Resolution > s.resolution {
		s.resolution = p.Resolution
	}
	if p.Origin.Function != "" {
		s.addFunction(p.Origin.Function)
	}
	switch p.Format {
	case metric.FormatEMF:
		c.keybuf = s.addDimSet(p.Labels, c.keybuf)
	case metric.FormatPlatform:
		if s.labelNames == nil {
			s.labelNames = map[string]struct{}{}
		}
		for _, l := range p.Labels {
			if _, ok := s.labelNames[l.Name]; !ok {
				s.labelNames[strings.Clone(l.Name)] = struct{}{}
			}
		}
	default:
		if s.tagKeys == nil {
			s.tagKeys = map[string]struct{}{}
		}
		for _, l := range p.Labels {
			if _, ok := s.tagKeys[l.Name]; !ok {
				s.tagKeys[strings.Clone(l.Name)] = struct{}{}
			}
		}
	}
}

// promLabels is metric.PromLabels with the label names cached; the result
// lives in c.scratch until the next call.
func (c *Catalog) promLabels(p *metric.Point) []metric.Label {
	dst := c.scratch[:0]
	if p.Kind == metric.ServiceCheck {
		dst = append(dst, metric.Label{Name: "check", Value: p.Name})
	}
	var seen map[string]struct{} // for many labels: the scan would be quadratic
	if len(p.Labels) > 16 {
		seen = make(map[string]struct{}, len(p.Labels)+1)
		for _, d := range dst {
			seen[d.Name] = struct{}{}
		}
	}
	for _, l := range p.Labels {
		n := l.Name
		if p.Format != metric.FormatPlatform {
			var ok bool
			if n, ok = c.lnames[labelKey{p.Format, l.Name}]; !ok {
				n = metric.LabelName(p.Format, l.Name)
				c.lnames[labelKey{p.Format, strings.Clone(l.Name)}] = n
			}
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
	c.scratch = dst
	return dst
}

func hasLabel(ls []metric.Label, name string) bool {
	for _, l := range ls {
		if l.Name == name {
			return true
		}
	}
	return false
}

// addLabelSet records the set of label names of pl (which it sorts).
func (c *Catalog) addLabelSet(f *family, pl []metric.Label) {
	slices.SortFunc(pl, func(a, b metric.Label) int { return strings.Compare(a.Name, b.Name) })
	buf := c.keybuf[:0]
	for i, l := range pl {
		if i > 0 {
			buf = append(buf, 0)
		}
		buf = append(buf, l.Name...)
	}
	c.keybuf = buf
	if f.labelSets == nil {
		f.labelSets = map[string][]string{}
	}
	if _, ok := f.labelSets[string(buf)]; ok {
		return
	}
	if len(f.labelSets) >= MaxLabelSets {
		f.setsFull = true
		return
	}
	names := make([]string, len(pl))
	for i, l := range pl {
		names[i] = strings.Clone(l.Name)
	}
	f.labelSets[string(buf)] = names
}

func (c *Catalog) addValue(f *family, name, value string) {
	l := f.labels[name]
	if l == nil {
		l = &label{values: map[string]struct{}{}}
		f.labels[strings.Clone(name)] = l
	}
	if _, ok := l.values[value]; ok {
		return
	}
	if len(l.values) >= c.maxDistinct {
		l.saturated = true
		return
	}
	l.values[strings.Clone(value)] = struct{}{}
	if len(l.values) > l.distinct {
		l.distinct = len(l.values)
	}
}

func (s *source) addFunction(fn string) {
	if s.functions == nil {
		s.functions = map[string]struct{}{}
	}
	if _, ok := s.functions[fn]; !ok && len(s.functions) < DefaultMaxDistinct {
		s.functions[strings.Clone(fn)] = struct{}{}
	}
}

// addDimSet records the dimension set of ls; buf is scratch memory for the
// key, returned for reuse.
func (s *source) addDimSet(ls []metric.Label, buf []byte) []byte {
	buf = buf[:0]
	for i, l := range ls {
		if i > 0 {
			buf = append(buf, 0)
		}
		buf = append(buf, l.Name...)
	}
	if s.dimSets == nil {
		s.dimSets = map[string][]string{}
	}
	if _, ok := s.dimSets[string(buf)]; ok {
		return buf
	}
	keys := make([]string, len(ls))
	for i, l := range ls {
		keys[i] = strings.Clone(l.Name)
	}
	s.dimSets[string(buf)] = keys
	return buf
}

func cloneOrigin(o metric.Origin) metric.Origin {
	return metric.Origin{Source: strings.Clone(o.Source), Line: o.Line}
}

// originLess orders origins so the "first seen" origin does not depend on
// the order concurrent callers add in.
func originLess(a, b metric.Origin) bool {
	if a.Source != b.Source {
		return a.Source < b.Source
	}
	return a.Line < b.Line
}

// SetBuckets records the upper bounds (in the family's base unit, +Inf
// excluded) of the histogram buckets the aggregation uses for family name,
// so Lint can check them against the quantiles dashboards ask for. It does
// nothing when the family is unknown.
func (c *Catalog) SetBuckets(name string, bounds []float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.fams[name]; f != nil {
		f.buckets = slices.Clone(bounds)
		slices.Sort(f.buckets)
	}
}

// Len returns the number of families.
func (c *Catalog) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.fams)
}

// Merge adds everything o holds to c (point counts add up). o is not
// changed; merging a catalog into itself changes nothing.
func (c *Catalog) Merge(o *Catalog) {
	if o == nil || o == c {
		return
	}
	fams := o.Families() // a copy, so no two locks are held at once
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range fams {
		c.mergeFamily(&fams[i])
	}
}

// mergeFamily adds an exported family (from JSON or another catalog).
func (c *Catalog) mergeFamily(in *Family) {
	typ, _ := metric.ParseType(in.Type)
	f := c.fams[in.Name]
	if f == nil {
		f = &family{
			name: in.Name, help: in.Help, typ: typ, unit: in.Unit,
			types: map[metric.Type]struct{}{}, labels: map[string]*label{}, sources: map[sourceKey]*source{},
		}
		c.fams[in.Name] = f
	}
	f.types[typ] = struct{}{}
	for _, t := range in.Conflicts {
		if ct, ok := metric.ParseType(t); ok {
			f.types[ct] = struct{}{}
		}
	}
	for _, l := range in.Labels {
		for _, v := range l.Examples {
			c.addValue(f, l.Name, v)
		}
		fl := f.labels[l.Name]
		if fl == nil { // a label without examples
			fl = &label{values: map[string]struct{}{}}
			f.labels[l.Name] = fl
		}
		fl.distinct = max(fl.distinct, l.Distinct, len(fl.values))
		fl.saturated = fl.saturated || l.Saturated
	}
	for _, set := range in.LabelSets {
		ls := make([]metric.Label, len(set))
		for i, n := range set {
			ls[i].Name = n
		}
		c.addLabelSet(f, ls)
	}
	f.setsFull = f.setsFull || in.LabelSetsSaturated
	f.sourcesFull = f.sourcesFull || in.SourcesSaturated
	f.obs.merge(in.Observed)
	if len(in.Buckets) > 0 && len(f.buckets) == 0 {
		f.buckets = slices.Clone(in.Buckets)
	}
	for _, src := range in.Sources {
		format, _ := metric.ParseFormat(src.Format)
		kind := parseKind(src.Kind)
		k := sourceKey{format: format, namespace: src.Namespace, name: src.Name, kind: kind, unit: src.Unit}
		o := parseOrigin(src.FirstSeen)
		s := f.sources[k]
		if s == nil && len(f.sources) >= MaxSources {
			f.sourcesFull = true
			continue
		}
		if s == nil {
			s = &source{first: o}
			f.sources[k] = s
		} else if src.FirstSeen != "" && (s.first.Source == "" || originLess(o, s.first)) {
			s.first = o
		}
		s.points += src.Points
		s.resolution = max(s.resolution, src.StorageResolution)
		for _, fn := range src.Functions {
			s.addFunction(fn)
		}
		for _, ds := range src.DimensionSets {
			ls := make([]metric.Label, len(ds))
			for i, k := range ds {
				ls[i].Name = k
			}
			c.keybuf = s.addDimSet(ls, c.keybuf)
		}
		if len(src.TagKeys) > 0 && s.tagKeys == nil {
			s.tagKeys = map[string]struct{}{}
		}
		for _, k := range src.TagKeys {
			s.tagKeys[k] = struct{}{}
		}
		if len(src.LabelNames) > 0 && s.labelNames == nil {
			s.labelNames = map[string]struct{}{}
		}
		for _, k := range src.LabelNames {
			s.labelNames[k] = struct{}{}
		}
	}
}

func parseKind(s string) metric.Kind {
	for k := metric.KindUnknown; k <= metric.Event; k++ {
		if k.String() == s {
			return k
		}
	}
	return metric.KindUnknown
}

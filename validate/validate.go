// Package validate holds the checks that span points from several lines and
// formats: what the Prometheus translation of everything a function emits
// makes of it. Per-line rules of each format live in the parsers (emf,
// dogstatsd); this package sees the translated names.
//
//	c := validate.New()
//	parser.Parse(&b, line, origin) // any parser appending to b
//	c.Check(&b)                     // appends cross-point warnings to b.Diags
package validate

import (
	"fmt"
	"strings"

	"github.com/lambdabridge/lambdabridge/metric"
)

// Rule ids of this package.
const (
	RuleNameCollision = "prometheus/name-collision"
	RuleTypeConflict  = "prometheus/type-conflict"
	RuleSuffixClash   = "prometheus/suffix-collision"
	RuleLabelClash    = "prometheus/label-clash"
)

// source identifies what a producer wrote, before translation.
type source struct {
	format    metric.Format
	namespace string
	name      string
	kind      metric.Kind
	unit      string
}

func (s source) String() string {
	name := s.name
	if s.namespace != "" {
		name = s.namespace + "/" + s.name
	}
	if s.unit != "" {
		return fmt.Sprintf("%s %s %q (%s)", s.format, s.kind, name, s.unit)
	}
	return fmt.Sprintf("%s %s %q", s.format, s.kind, name)
}

type family struct {
	typ    metric.Type
	first  source
	origin metric.Origin
	// reported keeps each colliding source reported once.
	reported map[source]bool
}

// Checker remembers every Prometheus family seen so far. It is not safe for
// concurrent use.
type Checker struct {
	families map[string]*family
	clashes  map[string]bool // label clashes already reported, by family+label
	labels   []metric.Label
	// first maps a label name to its first index in labels (points with
	// many labels); firstCap is the most labels it was sized for.
	first    map[string]int
	firstCap int
	// fams and labelNames keep translations (cache.go).
	fams       map[source]metric.Family
	labelNames map[labelKey]string
}

// New returns an empty Checker.
func New() *Checker {
	return &Checker{families: map[string]*family{}, clashes: map[string]bool{}}
}

// Check examines the points in b and appends a warning to b.Diags for each
// new problem: two sources translating to one Prometheus family name, one
// name reached with two types, a histogram whose _count/_sum/_bucket series
// collide with another family, and two keys of one point translating to one
// label name. Each problem is reported once, at its first occurrence.
func (c *Checker) Check(b *metric.Batch) {
	n := len(b.Points)
	for i := 0; i < n; i++ {
		p := &b.Points[i]
		fam := c.translate(p)
		src := source{p.Format, p.Namespace, p.Name, p.Kind, p.Unit}
		if p.Kind == metric.ServiceCheck || p.Kind == metric.Event {
			src.name = "" // all checks (events) share one family on purpose
		}
		c.checkFamily(b, p, fam, src)
		c.checkLabels(b, p, fam)
	}
}

func (c *Checker) checkFamily(b *metric.Batch, p *metric.Point, fam metric.Family, src source) {
	f, ok := c.families[fam.Name]
	if !ok {
		c.families[fam.Name] = &family{typ: fam.Type, first: src, origin: p.Origin}
		c.checkSuffixes(b, p, fam)
		return
	}
	if f.first == src || f.reported[src] {
		return
	}
	if f.reported == nil {
		f.reported = map[source]bool{}
	}
	f.reported[src] = true
	if f.typ != fam.Type {
		b.AddDiag(metric.Diagnostic{
			Origin: p.Origin, Format: p.Format, Severity: metric.Warning, Rule: RuleTypeConflict,
			Message: fmt.Sprintf("%s becomes Prometheus %s %q, but %s (first at %s) made it a %s; lambdabridge keeps the first and drops these points",
				src, fam.Type, fam.Name, f.first, f.origin, f.typ),
			Hint: "rename one of them, or add a mapping rule",
		})
		return
	}
	b.AddDiag(metric.Diagnostic{
		Origin: p.Origin, Format: p.Format, Severity: metric.Warning, Rule: RuleNameCollision,
		Message: fmt.Sprintf("%s and %s (first at %s) both become Prometheus %q: their series merge",
			src, f.first, f.origin, fam.Name),
		Hint: "this is what the translation rules do; rename one of them if they are different things",
	})
}

// checkSuffixes reports the classic exposition clash: a histogram "foo"
// exposes foo_bucket, foo_sum and foo_count, so a family of one of those
// names (or a histogram whose base is another family) breaks /metrics.
func (c *Checker) checkSuffixes(b *metric.Batch, p *metric.Point, fam metric.Family) {
	report := func(other string, f *family) {
		b.AddDiag(metric.Diagnostic{
			Origin: p.Origin, Format: p.Format, Severity: metric.Warning, Rule: RuleSuffixClash,
			Message: fmt.Sprintf("Prometheus %s %q clashes with %s %q (from %s at %s): a histogram's _bucket/_sum/_count series would collide; lambdabridge drops the later family",
				fam.Type, fam.Name, f.typ, other, f.first, f.origin),
			Hint: "rename one of them, or add a mapping rule",
		})
	}
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(fam.Name, suf); ok {
			if f, ok := c.families[base]; ok && f.typ == metric.TypeHistogram {
				report(base, f)
				return
			}
		}
		if fam.Type == metric.TypeHistogram {
			if f, ok := c.families[fam.Name+suf]; ok {
				report(fam.Name+suf, f)
				return
			}
		}
	}
}

// checkLabels reports two keys of p that translate to one label name. It
// remembers the first key of each label name, so its cost is linear in the
// number of labels: the pair reported is that first key and the first later
// key spelled differently.
func (c *Checker) checkLabels(b *metric.Batch, p *metric.Point, fam metric.Family) {
	if len(p.Labels) < 2 {
		return
	}
	c.labels = c.labels[:0]
	for _, l := range p.Labels {
		c.labels = append(c.labels, metric.Label{Name: c.labelName(p.Format, l.Name), Value: l.Name})
	}
	c.resetFirst(len(c.labels))
	for i := 1; i < len(c.labels); i++ {
		j := c.firstOf(i)
		if j == i || c.labels[i].Value == c.labels[j].Value {
			continue
		}
		key := fam.Name + "\x00" + c.labels[i].Name
		if c.clashes[key] {
			continue
		}
		c.clashes[key] = true
		b.AddDiag(metric.Diagnostic{
			Origin: p.Origin, Format: p.Format, Severity: metric.Warning, Rule: RuleLabelClash,
			Message: fmt.Sprintf("keys %q and %q of %q both become Prometheus label %q; the first one's value is kept",
				c.labels[j].Value, c.labels[i].Value, p.Name, c.labels[i].Name),
			Hint: "use one spelling of the key",
		})
	}
}

// smallLabels is the label count up to which firstOf scans instead of
// using the first map (a scan of a few labels is cheaper than hashing).
const smallLabels = 16

// resetFirst prepares firstOf for n labels in c.labels. The map is made
// anew when it is much larger than needed, so that clearing it stays
// proportional to the line at hand.
func (c *Checker) resetFirst(n int) {
	if n <= smallLabels {
		return
	}
	if c.first == nil || n*8 < c.firstCap {
		c.first, c.firstCap = make(map[string]int, n), n
		return
	}
	clear(c.first)
	c.firstCap = max(c.firstCap, n)
}

// firstOf returns the index of the first label of c.labels[:i+1] with the
// label name of c.labels[i] (i itself when it is the first). Calls must come
// in increasing i after resetFirst.
func (c *Checker) firstOf(i int) int {
	name := c.labels[i].Name
	if len(c.labels) <= smallLabels {
		for j := range i {
			if c.labels[j].Name == name {
				return j
			}
		}
		return i
	}
	if i == 1 {
		c.first[c.labels[0].Name] = 0
	}
	if j, ok := c.first[name]; ok {
		return j
	}
	c.first[name] = i
	return i
}

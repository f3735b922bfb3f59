package validate

import "github.com/lambdabridge/lambdabridge/metric"

// The Checker translates every point and, for points of several labels,
// every label key. A stream repeats a few metrics and keys, so it keeps the
// translations, bounded: when a table is full it is emptied and refilled.
const maxCached = 4096

type labelKey struct {
	format metric.Format
	key    string
}

// translate returns metric.Translate(p), from the cache when p's source
// was seen (the translation depends on nothing else).
func (c *Checker) translate(p *metric.Point) metric.Family {
	src := source{p.Format, p.Namespace, p.Name, p.Kind, p.Unit}
	if f, ok := c.fams[src]; ok {
		return f
	}
	f := metric.Translate(p)
	if c.fams == nil || len(c.fams) >= maxCached {
		c.fams = make(map[source]metric.Family)
	}
	c.fams[src] = f
	return f
}

// labelName returns metric.LabelName(f, key), from the cache when seen.
func (c *Checker) labelName(f metric.Format, key string) string {
	k := labelKey{f, key}
	if n, ok := c.labelNames[k]; ok {
		return n
	}
	n := metric.LabelName(f, key)
	if c.labelNames == nil || len(c.labelNames) >= maxCached {
		c.labelNames = make(map[labelKey]string)
	}
	c.labelNames[k] = n
	return n
}

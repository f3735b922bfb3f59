package dogstatsd

import (
	"bytes"

	"github.com/lambdabridge/lambdabridge/metric"
)

// A client library sends the same names and the same tag list (its global
// tags plus a few per metric) on line after line. Two small direct-mapped
// caches, indexed by a cheap hash of the bytes, spare the intern table's
// hashing for a repeated name and the whole split of a repeated tag list.
// They hold at most a few hundred short entries and never allocate once
// warm.
const (
	strCacheSize = 256
	tagCacheSize = 64
	// tagCacheMax: longer tag lists are split every time.
	tagCacheMax = 512
)

type tagCacheEntry struct {
	raw    []byte
	labels []metric.Label
}

// cheapHash mixes the length and three bytes of b (not empty).
func cheapHash(b []byte) uint {
	return (uint(len(b))*31+uint(b[0]))*31 + uint(b[len(b)-1])*7 + uint(b[len(b)/2])
}

// cachedStr returns the string for b from the string cache, or "" and
// false with the slot to fill.
func (p *Parser) cachedStr(b []byte) (*string, bool) {
	c := &p.strCache[cheapHash(b)%strCacheSize]
	return c, *c == string(b)
}

// tags appends the labels of the tag list raw to p.labels, as parseTags
// does, from the tag cache when raw was the last list of its slot.
func (p *Parser) tags(raw []byte) {
	if len(raw) == 0 || len(raw) > tagCacheMax {
		p.parseTags(raw)
		return
	}
	e := &p.tagCache[cheapHash(raw)%tagCacheSize]
	if bytes.Equal(e.raw, raw) && e.raw != nil {
		p.labels = append(p.labels, e.labels...)
		return
	}
	start := len(p.labels)
	p.parseTags(raw)
	e.raw = append(e.raw[:0], raw...)
	e.labels = append(e.labels[:0], p.labels[start:]...)
}

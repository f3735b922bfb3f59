package emf

import (
	"hash/maphash"

	"github.com/lambdabridge/lambdabridge/metric"
)

// A directive of many DimensionSets, or an event of many dimension keys,
// is checked through hash indexes rather than by comparing every pair, so
// that its cost stays linear in its size. Small ones (below setIndexAt)
// keep the plain scans.

// setIndexAt is the number of sets (or dimension keys) from which the
// indexes are used; a variable for the test that checks them against the
// scans.
var setIndexAt = 16

// setSig returns the signature of s's keys, an order-independent hash,
// computed once. For a set of distinct keys, sameKeys holds only with a set
// of the same keys, hence of the same signature.
func (p *Parser) setSig(s *dimSet) uint64 {
	if !s.sigOK {
		s.sig, s.sigOK = 0, true
		for _, l := range s.labels {
			s.sig += maphash.String(p.seed, l.Name)
		}
	}
	return s.sig
}

// repeatsKey reports whether a key appears twice in labels (at most 30).
func repeatsKey(labels []metric.Label) bool {
	for i, l := range labels {
		for _, m := range labels[:i] {
			if m.Name == l.Name {
				return true
			}
		}
	}
	return false
}

// repeatedSet returns the first set of p.sets before i with the keys of set
// i (which is ok), or -1. Sets 0..i-1 are in the index when it is in use.
func (p *Parser) repeatedSet(i int) int {
	s := &p.sets[i]
	if len(p.sets) >= setIndexAt {
		if !s.dup {
			return p.chainFirst(p.setSig(s), s.labels, i)
		}
	}
	for j := 0; j < i; j++ {
		if p.sets[j].ok && sameKeys(s.labels, p.sets[j].labels) {
			return j
		}
	}
	return -1
}

// indexSets indexes the ok sets of distinct keys of p.sets by signature,
// each signature's sets chained in order.
func (p *Parser) indexSets() {
	if len(p.sets) < setIndexAt {
		return
	}
	if p.ix.setFirst == nil || len(p.sets)*8 < p.ix.setFirstCap {
		p.ix.setFirst, p.ix.setFirstCap = make(map[uint64]int32, len(p.sets)), len(p.sets)
	} else {
		clear(p.ix.setFirst)
		p.ix.setFirstCap = max(p.ix.setFirstCap, len(p.sets))
	}
	p.ix.setNext = append(p.ix.setNext[:0], make([]int32, len(p.sets))...)
	for i := len(p.sets) - 1; i >= 0; i-- { // backwards: heads end up first
		p.ix.setNext[i] = -1
		if !p.sets[i].ok {
			continue
		}
		if s := &p.sets[i]; !s.dup {
			sig := p.setSig(s)
			if head, ok := p.ix.setFirst[sig]; ok {
				p.ix.setNext[i] = head
			}
			p.ix.setFirst[sig] = int32(i)
		}
	}
}

// newDimInEvent reports whether the event observes key for the first time,
// and records it when an index is in use (the caller appends to evDims).
func (p *Parser) newDimInEvent(key string) bool {
	if !p.ix.dimSeenOn {
		if len(p.evDims) < setIndexAt {
			for _, d := range p.evDims {
				if d.key == key {
					return false
				}
			}
			return true
		}
		if p.ix.dimSeen == nil || len(p.evDims)*8 < p.ix.dimSeenCap {
			p.ix.dimSeen, p.ix.dimSeenCap = make(map[string]struct{}, len(p.evDims)), len(p.evDims)
		} else {
			clear(p.ix.dimSeen)
		}
		for _, d := range p.evDims {
			p.ix.dimSeen[d.key] = struct{}{}
		}
		p.ix.dimSeenOn = true
	}
	if _, ok := p.ix.dimSeen[key]; ok {
		return false
	}
	p.ix.dimSeen[key] = struct{}{}
	p.ix.dimSeenCap = max(p.ix.dimSeenCap, len(p.ix.dimSeen))
	return true
}

// setsMatch reports whether an ok set of as (an earlier directive's) and an
// ok set of cur (the current directive's, p.sets) have the same keys, as
// sameKeys(a, b) decides. With many current sets, a set a of distinct keys
// is looked up by signature in the index of p.sets.
func (p *Parser) setsMatch(as, cur []dimSet) bool {
	indexed := len(cur) >= setIndexAt
	for k := range as {
		a := &as[k]
		if !a.ok {
			continue
		}
		if indexed && !a.dup {
			if p.chainFirst(p.setSig(a), a.labels, len(p.sets)) >= 0 {
				return true
			}
			continue
		}
		for _, b := range cur {
			if b.ok && sameKeys(a.labels, b.labels) {
				return true
			}
		}
	}
	return false
}

// chainFirst returns the first set of p.sets before limit, among those of
// signature sig, with the keys of labels (distinct keys), or -1.
func (p *Parser) chainFirst(sig uint64, labels []metric.Label, limit int) int {
	j, ok := p.ix.setFirst[sig]
	for ; ok && j >= 0 && int(j) < limit; j = p.ix.setNext[j] {
		if sameKeys(labels, p.sets[j].labels) {
			return int(j)
		}
	}
	return -1
}

// defSigKey names the definitions of a metric whose directive has a set of
// keys of signature sig.
type defSigKey struct {
	ns, name string
	sig      uint64
}

// indexDefSets records definition i under the signature of each set of its
// directive, when it is the first so recorded.
func (p *Parser) indexDefSets(i int32) {
	e := &p.ev[i]
	for j := e.from; j < e.to; j++ {
		s := &p.evSets[j]
		if !s.ok {
			continue
		}
		k := defSigKey{e.ns, e.name, p.setSig(s)}
		if _, ok := p.ix.defSig[k]; !ok {
			p.ix.defSig[k] = i
		}
	}
}

// sameDimsDef finds, in an event of many definitions without sets of
// repeated keys, the first definition of ns/name in an earlier directive
// with a set of the keys of one of the current directive's sets
// (evSets[from:to]); i is -1 when there is none. ok is false when the
// index cannot say (too few definitions, sets of repeated keys, or two key
// sets of one signature): the caller walks the definitions.
func (p *Parser) sameDimsDef(ns, name string, di, from, to int) (i int32, ok bool) {
	if len(p.ev) < evIndexAt || p.ix.dupSets {
		return -1, false
	}
	best := int32(-1)
	for k := from; k < to; k++ {
		b := &p.evSets[k]
		if !b.ok {
			continue
		}
		if j, found := p.ix.defSig[defSigKey{ns, name, p.setSig(b)}]; found && p.ev[j].di != di && (best < 0 || j < best) {
			best = j
		}
	}
	if best < 0 {
		return -1, true
	}
	e := &p.ev[best]
	if !p.setsMatch(p.evSets[e.from:e.to], p.evSets[from:to]) {
		return -1, false // a signature shared by other keys
	}
	return best, true
}

package emf

// The checks across the metrics of one event (a name defined twice in a
// directive, two storage resolutions for one name, the same metric in two
// directives) look for earlier definitions of the same name. A small event
// scans p.ev; from evIndexAt definitions on, an index of the names chains
// the definitions of each name, so that an event of many metrics costs
// time linear in its size.

// evIndexAt is the number of definitions from which the name index is kept
// (a variable for the test that checks the index against the scan).
var evIndexAt = 16

// eventIndex holds the indexes of an event of many metrics, DimensionSets
// or dimension keys. Each map is made anew when it is much larger than the
// event at hand needs, so that clearing it stays proportional to the event.
type eventIndex struct {
	evNames     map[string]evChain // definitions by name
	evNamesCap  int                // the most names it held
	setFirst    map[uint64]int32   // the first set of each key signature (setindex.go)
	setFirstCap int
	setNext     []int32             // the next set of the same signature
	dimSeen     map[string]struct{} // the dimension keys of the event
	dimSeenCap  int
	dimSeenOn   bool
	dupSets     bool                // a set of the event repeats a key
	defSig      map[defSigKey]int32 // definitions by the key sets of their directive (setindex.go)
	defSigCap   int
}

// evChain is the first and last definition of one name in p.ev, and of
// those of resolution 1 and 60 (resIdx) whose conflict is not reported yet,
// the first and last.
type evChain struct {
	first, last       int32
	resFirst, resLast [2]int32
}

// resIdx is the index in evChain's resolution chains of resolution r (1 or 60).
func resIdx(r int) int {
	if r == 1 {
		return 0
	}
	return 1
}

// addEv appends e to the event's definitions, keeping the name index.
func (p *Parser) addEv(e evMetric) {
	e.next, e.nextRes = -1, -1
	p.ev = append(p.ev, e)
	switch {
	case len(p.ev) == evIndexAt:
		p.indexEv()
	case len(p.ev) > evIndexAt:
		p.linkEv(int32(len(p.ev) - 1))
	}
}

// indexEv builds the name index of p.ev, made anew when the last one was
// much larger so that clearing it stays proportional to the event.
func (p *Parser) indexEv() {
	if p.ix.evNames == nil || len(p.ev)*8 < p.ix.evNamesCap {
		p.ix.evNames, p.ix.evNamesCap = make(map[string]evChain, len(p.ev)), len(p.ev)
	} else {
		clear(p.ix.evNames)
	}
	if p.ix.defSig == nil || len(p.ev)*8 < p.ix.defSigCap {
		p.ix.defSig, p.ix.defSigCap = make(map[defSigKey]int32, len(p.ev)), len(p.ev)
	} else {
		clear(p.ix.defSig)
	}
	for i := range p.ev {
		p.linkEv(int32(i))
	}
}

func (p *Parser) linkEv(i int32) {
	e := &p.ev[i]
	c, ok := p.ix.evNames[e.name]
	if !ok {
		c = evChain{first: i, last: i, resFirst: [2]int32{-1, -1}, resLast: [2]int32{-1, -1}}
	} else {
		p.ev[c.last].next = i
		c.last = i
	}
	if e.res != 0 { // 0: its conflict was reported already
		r := resIdx(e.res)
		if c.resLast[r] < 0 {
			c.resFirst[r] = i
		} else {
			p.ev[c.resLast[r]].nextRes = i
		}
		c.resLast[r] = i
	}
	p.ix.evNames[e.name] = c
	p.ix.evNamesCap = max(p.ix.evNamesCap, len(p.ix.evNames))
	p.indexDefSets(i)
	p.ix.defSigCap = max(p.ix.defSigCap, len(p.ix.defSig))
}

// resolutionConflict returns the first earlier definition of name whose
// resolution, not reported yet, differs from res (1 or 60), or -1.
func (p *Parser) resolutionConflict(name string, res int) int32 {
	if len(p.ev) >= evIndexAt {
		if c, ok := p.ix.evNames[name]; ok {
			return c.resFirst[1-resIdx(res)]
		}
		return -1
	}
	for i := p.firstDef(name); i >= 0; i = p.nextDef(i, name) {
		if e := &p.ev[i]; e.res != res && e.res != 0 {
			return i
		}
	}
	return -1
}

// reported marks the conflict of definition i (found by
// resolutionConflict, so the first of its chain) as reported.
func (p *Parser) reported(i int32) {
	e := &p.ev[i]
	if len(p.ev) >= evIndexAt {
		c := p.ix.evNames[e.name]
		r := resIdx(e.res)
		c.resFirst[r] = e.nextRes
		if c.resFirst[r] < 0 {
			c.resLast[r] = -1
		}
		p.ix.evNames[e.name] = c
	}
	e.res = 0
}

// firstDef returns the index of the first definition of name in the event,
// or -1; nextDef the one after i.
func (p *Parser) firstDef(name string) int32 {
	if len(p.ev) >= evIndexAt {
		if c, ok := p.ix.evNames[name]; ok {
			return c.first
		}
		return -1
	}
	return p.scanDef(0, name)
}

func (p *Parser) nextDef(i int32, name string) int32 {
	if len(p.ev) >= evIndexAt {
		return p.ev[i].next
	}
	return p.scanDef(int(i)+1, name)
}

func (p *Parser) scanDef(from int, name string) int32 {
	for i := from; i < len(p.ev); i++ {
		if p.ev[i].name == name {
			return int32(i)
		}
	}
	return -1
}

// definedIn reports whether name is defined in directive di already.
func (p *Parser) definedIn(name string, di int) bool {
	if len(p.ev) >= evIndexAt {
		// The definitions of the directive being read are the last ones.
		c, ok := p.ix.evNames[name]
		return ok && p.ev[c.last].di == di
	}
	for _, prev := range p.defs {
		if prev == name {
			return true
		}
	}
	return false
}

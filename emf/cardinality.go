package emf

import (
	"hash/maphash"
	"slices"
	"strconv"
	"unsafe"

	"github.com/lambdabridge/lambdabridge/internal/jsonstr"
	"github.com/lambdabridge/lambdabridge/metric"
)

// observeDim looks at one dimension value of the current event: it warns
// once per dimension key about a value that looks unique per event, and
// remembers the value's hash for Finish (committed only when CloudWatch
// would accept the event).
func (p *Parser) observeDim(key string, val []byte) {
	ce := &p.dimCache[strIndex(key)%uint(len(p.dimCache))]
	st := ce.st
	if ce.key != key || st == nil {
		st = p.dims[key]
		if st == nil {
			st = &dimStats{first: p.o, seen: make(map[uint64]struct{})}
			p.dims[key] = st
		}
		ce.key, ce.st = key, st
	}
	if !st.flagged {
		if what := looksUnique(val); what != "" {
			st.flagged = true
			p.warn(RuleHighCardinality, metric.EffectNone,
				"keep it as a plain member of the event (searchable in Logs Insights) and remove it from Dimensions",
				"dimension %q: value %s looks like %s, unique per event: each value creates a new CloudWatch metric (cardinality and cost explosion)",
				key, clip(val), what)
		}
	}
	if !p.newDimInEvent(key) {
		return // counted once per event
	}
	d := evDim{key: key, st: st}
	if !st.repeated && !st.capped { // else commit only counts the event
		d.hash = maphash.Bytes(p.seed, val)
	}
	p.evDims = append(p.evDims, d)
}

// commit records what an accepted event adds to the cross-event checks.
func (p *Parser) commit() {
	for _, d := range p.evDims {
		st := d.st
		st.events++
		if st.repeated || st.capped {
			continue
		}
		if _, dup := st.seen[d.hash]; dup {
			st.repeated, st.seen = true, nil
			continue
		}
		st.seen[d.hash] = struct{}{}
		if len(st.seen) >= maxTracked {
			st.capped, st.seen = true, nil
		}
	}
	for i := range p.ev {
		e := &p.ev[i]
		if !e.valid {
			continue
		}
		unit := e.unit
		if unit == "" {
			unit = "None" // CloudWatch's default
		}
		ce := &p.unitCache[(strIndex(e.ns)^strIndex(e.name)*3)%uint(len(p.unitCache))]
		st := ce.st
		if st == nil || st.ns != e.ns || st.name != e.name {
			p.tmpBuf = append(append(append(p.tmpBuf[:0], e.ns...), 0), e.name...)
			st = p.units[string(p.tmpBuf)]
			if st == nil {
				st = &unitStats{unit: unit, first: p.o, ns: e.ns, name: e.name}
				p.units[string(p.tmpBuf)] = st
				ce.st = st
				continue
			}
			ce.st = st
		}
		if st.other == "" && unit != st.unit {
			st.other, st.otherAt = unit, p.o
		}
	}
}

// Finish appends the warnings that need the whole input: dimensions whose
// value was different in every one of at least 20 events, and metrics
// declared with different units. It then forgets what it saw, so the Parser
// can read another input.
func (p *Parser) Finish(b *metric.Batch) {
	keys := make([]string, 0, len(p.dims))
	for k := range p.dims {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		st := p.dims[k]
		if st.flagged || st.repeated || st.events < uniqueAfter {
			continue
		}
		b.AddDiag(metric.Diagnostic{Origin: st.first, Format: metric.FormatEMF, Severity: metric.Warning,
			Rule: RuleUniqueDimension, Effect: metric.EffectNone,
			Message: "dimension " + quote(k) + ": a different value in each of the " + itoa(st.events) +
				" events that use it: each value creates a new CloudWatch metric (cardinality and cost explosion)",
			Hint: "keep it as a plain member of the event (searchable in Logs Insights) and remove it from Dimensions"})
	}
	keys = keys[:0]
	for k, st := range p.units {
		if st.other != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		st := p.units[k]
		b.AddDiag(metric.Diagnostic{Origin: st.otherAt, Format: metric.FormatEMF, Severity: metric.Warning,
			Rule: RuleUnitDrift, Effect: metric.EffectNone,
			Message: "metric " + quote(st.name) + " in namespace " + quote(st.ns) + " has unit " + quote(st.other) +
				" here and " + quote(st.unit) + " at " + st.first.String() +
				": CloudWatch computes statistics per unit and alarms see only one",
			Hint: "declare one unit per metric"})
	}
	clear(p.dims)
	clear(p.units)
	p.dimCache = [len(p.dimCache)]dimCacheEntry{}
	p.unitCache = [len(p.unitCache)]unitCacheEntry{}
}

// dimCacheEntry and unitCacheEntry spare a map lookup per dimension and
// metric of an event: interned strings keep their address, so a small
// direct-mapped cache indexed by it hits for repeated events.
type dimCacheEntry struct {
	key string
	st  *dimStats
}

type unitCacheEntry struct {
	st *unitStats
}

// strIndex is a cheap index for s: its address, or its length and first
// byte for strings the intern table did not keep.
func strIndex(s string) uint {
	if len(s) == 0 {
		return 0
	}
	return uint(uintptr(unsafe.Pointer(unsafe.StringData(s)))>>4) + uint(len(s))
}

// looksUnique says what a dimension value looks like when it is probably
// unique per event ("a UUID", "a timestamp", ...), or "".
func looksUnique(v []byte) string {
	switch {
	case isUUID(v):
		return "a UUID (AWS request ids are UUIDs)"
	case isTraceID(v):
		return "an X-Ray trace id"
	case isDate(v) && len(v) >= 13 && (v[10] == 'T' || v[10] == ' '):
		return "a timestamp"
	case len(v) >= 16 && allHex(v) && hasDigit(v):
		return "a hex id"
	case len(v) >= 9 && isNumber(v):
		return "a long number (ids and epoch timestamps are unique per event)"
	}
	return ""
}

func isUUID(v []byte) bool {
	if len(v) != 36 {
		return false
	}
	for i, c := range v {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !jsonstr.IsHex(c) {
			return false
		}
	}
	return true
}

// isTraceID matches 1-5759e988-bd862e3fe1be46a994272793.
func isTraceID(v []byte) bool {
	if len(v) != 35 || v[0] != '1' || v[1] != '-' || v[10] != '-' {
		return false
	}
	return allHex(v[2:10]) && allHex(v[11:])
}

func allHex(v []byte) bool {
	for _, c := range v {
		if !jsonstr.IsHex(c) {
			return false
		}
	}
	return true
}

func hasDigit(v []byte) bool {
	for _, c := range v {
		if c >= '0' && c <= '9' {
			return true
		}
	}
	return false
}

// isNumber matches digits with at most one '.', like 1700000000.123.
func isNumber(v []byte) bool {
	dot := false
	for _, c := range v {
		switch {
		case c >= '0' && c <= '9':
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return true
}

func quote(s string) string { return strconv.Quote(s) }

func itoa(i int) string { return strconv.Itoa(i) }

package dogstatsd

import (
	"bytes"
	"encoding/json"
	"github.com/lambdabridge/lambdabridge/internal/jsonnum"
	"math"

	"github.com/lambdabridge/lambdabridge/metric"
)

const (
	fJSON        = metric.FormatDatadogJSON
	maxJSONDepth = 64
)

// member states of a JSON metric line
const (
	absent uint8 = iota
	good
	wrong // present with the wrong JSON type
)

// jsonLine is what the scanner found in one line.
type jsonLine struct {
	m, v, e, t       uint8
	name, rawV, rawE []byte
	nameEsc          bool
	tagsBad          []byte // the "t" value when it is not an array of strings
}

// JSON parses a Datadog flush-to-log metric line,
// {"m":"name","v":1.5,"e":1700000000,"t":["tag:value"]}, also after a Lambda
// log prefix. Only a JSON object with an "m" key and a "v" or "e" key is meant
// as a metric: for any other line JSON returns false and appends nothing. For a
// metric line it returns true and appends its point (a Distribution) or, when
// it is broken, its diagnostics (errors; Datadog drops the metric).
func (p *Parser) JSON(b *metric.Batch, line []byte, o metric.Origin) bool {
	at := findMarker(line, []byte{'{'})
	if at < 0 {
		return false
	}
	s := trimSpace(line[at:])
	p.labels = p.labels[:0]
	sc := jscan{s: s, p: p}
	var jl jsonLine
	if !sc.object(&jl) {
		meant := jl.m != absent && (jl.v != absent || jl.e != absent) ||
			bytes.Contains(s, []byte(`"m"`)) && (bytes.Contains(s, []byte(`"v"`)) || bytes.Contains(s, []byte(`"e"`)))
		if !meant {
			return false
		}
		at := sc.i
		if at > len(s) {
			at = len(s)
		}
		diag(b, &o, fJSON, fail, RuleJSONBadJSON, dropsMetric, "metric line is not valid JSON near byte "+itoa(at)+": "+quote(s[at:]), "")
		return true
	}
	if jl.m == absent || (jl.v == absent && jl.e == absent) {
		return false
	}

	ok := true
	var name []byte
	switch {
	case jl.m == wrong:
		diag(b, &o, fJSON, fail, RuleJSONBadName, dropsMetric, `metric name "m" is not a string`, "")
		ok = false
	case len(jl.name) == 0:
		diag(b, &o, fJSON, fail, RuleJSONEmptyName, dropsMetric, `metric name "m" is empty`, "")
		ok = false
	default:
		name = jl.name
		if jl.nameEsc {
			var s string
			if json.Unmarshal(quoteRaw(jl.name), &s) != nil || s == "" {
				diag(b, &o, fJSON, fail, RuleJSONBadName, dropsMetric, `metric name "m" has a bad escape`, "")
				ok = false
			}
			name = []byte(s)
		}
	}
	var v float64
	switch jl.v {
	case absent:
		diag(b, &o, fJSON, fail, RuleJSONMissingValue, dropsMetric, jw(name)+` has no value "v"`, `add "v":<number>`)
		ok = false
	case wrong:
		diag(b, &o, fJSON, fail, RuleJSONBadValue, dropsMetric, jw(name)+` has value "v" that is not a number`, "")
		ok = false
	default:
		v, _ = parseFloat(jl.rawV)
		if !finite(v) {
			diag(b, &o, fJSON, fail, RuleJSONNonFinite, dropsMetric, jw(name)+" has value "+quote(jl.rawV)+", not finite", "")
			ok = false
		}
	}
	var ms int64
	switch jl.e {
	case absent:
		diag(b, &o, fJSON, fail, RuleJSONMissingTimestamp, dropsMetric, jw(name)+` has no timestamp "e"`, `add "e":<Unix seconds>`)
		ok = false
	case wrong:
		diag(b, &o, fJSON, fail, RuleJSONBadTimestamp, dropsMetric, jw(name)+` has timestamp "e" that is not a number`, "")
		ok = false
	default:
		e, _ := parseFloat(jl.rawE)
		if !(e > 0) || e >= math.MaxInt64/2 {
			diag(b, &o, fJSON, fail, RuleJSONBadTimestamp, dropsMetric, jw(name)+" has timestamp "+quote(jl.rawE)+", not a positive Unix time", "")
			ok = false
			break
		}
		var unit string
		if e < 1e11 {
			ms = int64(e * 1000)
		} else {
			ms, unit = epochToMs(int64(e))
			diag(b, &o, fJSON, warn, RuleJSONTimestampUnit, none, jw(name)+" has timestamp "+quote(jl.rawE)+" in "+unit+"; lambdabridge converts it", `"e" is in Unix seconds`)
		}
	}
	if jl.t == wrong {
		diag(b, &o, fJSON, fail, RuleJSONBadTags, dropsMetric, jw(name)+` has tags "t" `+quote(jl.tagsBad)+`, not an array of strings`, `write "t":["tag:value"]`)
		ok = false
	}
	if !ok {
		return true
	}
	p.checkName(b, name, fJSON, RuleJSONNameChars, &o)
	p.values = append(p.values[:0], v)
	pt := metric.Point{Format: fJSON, Name: p.str(name), Kind: metric.Distribution, Values: b.Values(p.values), TimeMs: ms, Origin: o}
	if len(p.labels) > 0 {
		pt.Labels = b.Labels(p.labels)
	}
	b.AddPoint(pt)
	return true
}

func quoteRaw(raw []byte) []byte {
	q := make([]byte, 0, len(raw)+2)
	q = append(q, '"')
	q = append(q, raw...)
	return append(q, '"')
}

// jscan is a minimal JSON scanner for the metric line: it reads the members
// it needs without allocating and skips the others.
type jscan struct {
	s []byte
	i int
	p *Parser
}

func (sc *jscan) ws() {
	for sc.i < len(sc.s) && isSpace(sc.s[sc.i]) {
		sc.i++
	}
}

func (sc *jscan) peek() byte {
	if sc.i < len(sc.s) {
		return sc.s[sc.i]
	}
	return 0
}

// object reads the top-level object; false on a syntax error (sc.i is where).
func (sc *jscan) object(jl *jsonLine) bool {
	if sc.peek() != '{' {
		return false
	}
	sc.i++
	sc.ws()
	if sc.peek() == '}' {
		sc.i++
		sc.ws()
		return sc.i == len(sc.s)
	}
	for {
		sc.ws()
		key, _, ok := sc.str()
		if !ok {
			return false
		}
		sc.ws()
		if sc.peek() != ':' {
			return false
		}
		sc.i++
		sc.ws()
		if len(key) == 1 {
			if !sc.member(key[0], jl) {
				return false
			}
		} else if !sc.skip(0) {
			return false
		}
		sc.ws()
		switch sc.peek() {
		case ',':
			sc.i++
		case '}':
			sc.i++
			sc.ws()
			return sc.i == len(sc.s)
		default:
			return false
		}
	}
}

// member reads the value of a one-letter key.
func (sc *jscan) member(k byte, jl *jsonLine) bool {
	c := sc.peek()
	switch k {
	case 'm':
		if c == '"' {
			s, esc, ok := sc.str()
			jl.m, jl.name, jl.nameEsc = good, s, esc
			return ok
		}
		jl.m = wrong
	case 'v', 'e':
		st, raw := &jl.v, &jl.rawV
		if k == 'e' {
			st, raw = &jl.e, &jl.rawE
		}
		if c == '-' || c >= '0' && c <= '9' {
			start := sc.i
			if !sc.number() {
				return false
			}
			*st, *raw = good, sc.s[start:sc.i]
			return true
		}
		*st = wrong
	case 't':
		return sc.tags(jl)
	}
	return sc.skip(0)
}

// tags reads "t": an array of strings (or null) into the parser's labels.
func (sc *jscan) tags(jl *jsonLine) bool {
	p := sc.p
	p.labels = p.labels[:0]
	start := sc.i
	c := sc.peek()
	if c == 'n' {
		jl.t = good
		return sc.lit("null")
	}
	if c != '[' {
		jl.t = wrong
		ok := sc.skip(0)
		jl.tagsBad = sc.s[start:min(sc.i, len(sc.s))]
		return ok
	}
	jl.t = good
	sc.i++
	sc.ws()
	if sc.peek() == ']' {
		sc.i++
		return true
	}
	for {
		sc.ws()
		if sc.peek() == '"' {
			s, esc, ok := sc.str()
			if !ok {
				return false
			}
			if esc {
				var u string
				if json.Unmarshal(quoteRaw(s), &u) != nil {
					return false
				}
				s = []byte(u)
			}
			if keepTag(s) {
				p.labels = append(p.labels, p.tagLabel(s))
			}
		} else {
			jl.t = wrong
			if !sc.skip(1) {
				return false
			}
		}
		sc.ws()
		switch sc.peek() {
		case ',':
			sc.i++
		case ']':
			sc.i++
			if jl.t == wrong {
				jl.tagsBad = sc.s[start:sc.i]
			}
			return true
		default:
			return false
		}
	}
}

// str reads a string and returns its raw content and whether it has escapes.
func (sc *jscan) str() ([]byte, bool, bool) {
	if sc.peek() != '"' {
		return nil, false, false
	}
	sc.i++
	start, esc := sc.i, false
	for sc.i < len(sc.s) {
		c := sc.s[sc.i]
		switch {
		case c == '"':
			sc.i++
			return sc.s[start : sc.i-1], esc, true
		case c == '\\':
			esc = true
			sc.i += 2
		case c < 0x20:
			return nil, false, false
		default:
			sc.i++
		}
	}
	return nil, false, false
}

// number reads a JSON number (RFC 8259).
func (sc *jscan) number() bool {
	end, problem := jsonnum.Scan(sc.s, sc.i)
	sc.i = end
	return problem == ""
}

func (sc *jscan) lit(l string) bool {
	if len(sc.s)-sc.i >= len(l) && string(sc.s[sc.i:sc.i+len(l)]) == l {
		sc.i += len(l)
		return true
	}
	return false
}

// skip reads any JSON value.
func (sc *jscan) skip(depth int) bool {
	if depth > maxJSONDepth {
		return false
	}
	switch c := sc.peek(); {
	case c == '"':
		_, _, ok := sc.str()
		return ok
	case c == '-' || c >= '0' && c <= '9':
		return sc.number()
	case c == 't':
		return sc.lit("true")
	case c == 'f':
		return sc.lit("false")
	case c == 'n':
		return sc.lit("null")
	case c == '[' || c == '{':
		end := byte(']')
		if c == '{' {
			end = '}'
		}
		sc.i++
		sc.ws()
		if sc.peek() == end {
			sc.i++
			return true
		}
		for {
			sc.ws()
			if c == '{' {
				if _, _, ok := sc.str(); !ok {
					return false
				}
				sc.ws()
				if sc.peek() != ':' {
					return false
				}
				sc.i++
				sc.ws()
			}
			if !sc.skip(depth + 1) {
				return false
			}
			sc.ws()
			switch sc.peek() {
			case ',':
				sc.i++
			case end:
				sc.i++
				return true
			default:
				return false
			}
		}
	}
	return false
}

// jw names the metric of a JSON line in a message.
func jw(name []byte) string {
	if name == nil {
		return "metric"
	}
	return mw(name)
}

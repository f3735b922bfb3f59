package emf

import (
	"github.com/lambdabridge/lambdabridge/internal/jsonnum"
	"github.com/lambdabridge/lambdabridge/internal/jsonstr"
	"strconv"
	"unicode/utf8"
)

// This file holds a focused JSON scanner. Why not a library: an EMF line is
// usually a few hundred bytes of which only "_aws" and the members it names
// matter. encoding/json decodes everything into maps (about 80 allocations
// for a 338-byte line); github.com/valyala/fastjson builds a tree of every
// member and is lenient (it accepts NaN, Infinity and raw control characters
// in strings), so a validator would still need a second, strict pass. This
// scanner validates the whole line strictly (RFC 8259, like json.Valid) in
// one pass, records the root members shallowly, builds a small tree only for
// "_aws", and parses a referenced array lazily. Its node slice is reused, so
// it allocates nothing after warm-up.

type jsonKind uint8

const (
	jNone jsonKind = iota
	jNull
	jFalse
	jTrue
	jNumber
	jString
	jArray
	jObject
)

var kindNames = [...]string{"nothing", "null", "false", "true", "a number", "a string", "an array", "an object"}

func (k jsonKind) String() string { return kindNames[k] }

// maxDepth bounds nesting like Jackson's default (CloudWatch's parser is a
// JVM one); deeper documents are reported as invalid JSON.
const maxDepth = 1000

// node is one JSON value. Strings keep the span between the quotes and
// whether it holds escapes; containers link their children.
type node struct {
	kind             jsonKind
	esc, keyEsc      bool
	start, end       int32 // value span; for strings the content between quotes
	keyStart, keyEnd int32 // member key content, for members of an object
	first, last      int32 // children (-1: none, or not built)
	next             int32 // next sibling (-1: none)
	n                int32 // number of children (built containers only)
}

// build modes of scanner.value.
const (
	modeSkip    = iota // validate only
	modeShallow        // one node, children validated but not recorded
	modeDeep           // the whole subtree
)

type scanner struct {
	s     []byte
	pos   int
	nodes []node
	// rootKids are the root object's members in order, for lookups from
	// the end (the last of repeated members wins).
	rootKids []int32
	rootIdx  rootIndex // for lookups in root objects of many members
	err      string
	errPos   int
}

func (sc *scanner) reset(s []byte) {
	sc.s = s
	sc.pos = 0
	sc.nodes = sc.nodes[:0]
	sc.rootKids = sc.rootKids[:0]
	sc.rootIdx.built = false
	sc.err = ""
	sc.errPos = 0
}

func (sc *scanner) fail(msg string) {
	if sc.err == "" {
		sc.err = msg
		sc.errPos = sc.pos
	}
}

func (sc *scanner) ws() {
	s, i := sc.s, sc.pos
	if i < len(s) && s[i] > ' ' { // the common case: no white space
		return
	}
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	sc.pos = i
}

func (sc *scanner) newNode(k jsonKind) int32 {
	n := len(sc.nodes)
	if n == cap(sc.nodes) {
		sc.nodes = append(sc.nodes, node{})
	}
	sc.nodes = sc.nodes[:n+1]
	sc.nodes[n] = node{kind: k, first: -1, last: -1, next: -1}
	return int32(n)
}

func (sc *scanner) addChild(parent, child int32) {
	p := &sc.nodes[parent]
	if p.last < 0 {
		p.first = child
	} else {
		sc.nodes[p.last].next = child
	}
	p.last = child
	p.n++
}

// str scans the string at sc.pos (a '"') and returns its content span.
func (sc *scanner) str() (start, end int, esc, ok bool) {
	e, esc, problem := jsonstr.Scan(sc.s, sc.pos)
	if problem != "" {
		sc.pos = e
		sc.fail(problem)
		return 0, 0, false, false
	}
	start = sc.pos + 1
	sc.pos = e
	return start, e - 1, esc, true
}

// number scans the number at sc.pos (RFC 8259).
func (sc *scanner) number() bool {
	end, problem := jsonnum.Scan(sc.s, sc.pos)
	sc.pos = end
	if problem != "" {
		sc.fail(problem)
		return false
	}
	return true
}

func (sc *scanner) literal(lit string) bool {
	if len(sc.s)-sc.pos >= len(lit) && string(sc.s[sc.pos:sc.pos+len(lit)]) == lit {
		sc.pos += len(lit)
		return true
	}
	sc.fail("invalid character " + quoteByte(sc.s[sc.pos]) + " looking for a value")
	return false
}

func quoteByte(c byte) string {
	if c < utf8.RuneSelf {
		return strconv.QuoteRune(rune(c))
	}
	return "byte 0x" + strconv.FormatUint(uint64(c), 16)
}

// value scans the value at sc.pos (after white space). In modeSkip it
// returns -1; otherwise the index of the node it made.
func (sc *scanner) value(mode, depth int) int32 {
	if sc.pos >= len(sc.s) {
		sc.fail("unexpected end of input looking for a value")
		return -1
	}
	var k jsonKind
	start := sc.pos
	switch c := sc.s[sc.pos]; {
	case c == '{':
		return sc.object(mode, depth+1)
	case c == '[':
		return sc.array(mode, depth+1)
	case c == '"':
		st, en, esc, ok := sc.str()
		if !ok {
			return -1
		}
		if mode == modeSkip {
			return -1
		}
		n := sc.newNode(jString)
		sc.nodes[n].start, sc.nodes[n].end, sc.nodes[n].esc = int32(st), int32(en), esc
		return n
	case c == '-' || c >= '0' && c <= '9':
		if !sc.number() {
			return -1
		}
		k = jNumber
	case c == 't':
		if !sc.literal("true") {
			return -1
		}
		k = jTrue
	case c == 'f':
		if !sc.literal("false") {
			return -1
		}
		k = jFalse
	case c == 'n':
		if !sc.literal("null") {
			return -1
		}
		k = jNull
	default:
		sc.fail("invalid character " + quoteByte(c) + " looking for a value")
		return -1
	}
	if mode == modeSkip {
		return -1
	}
	n := sc.newNode(k)
	sc.nodes[n].start, sc.nodes[n].end = int32(start), int32(sc.pos)
	return n
}

// open starts the object or array at sc.pos: it checks the nesting depth,
// makes the container's node (unless skipped), steps over the opening
// bracket and white space, and closes an empty container at once. child is
// the mode for the container's members; empty reports that it was closed.
func (sc *scanner) open(k jsonKind, mode, depth int, closer byte) (n int32, child int, empty bool) {
	if depth > maxDepth {
		sc.fail("nesting deeper than 1000 levels")
		return -1, mode, false
	}
	n = -1
	if mode != modeSkip {
		n = sc.newNode(k)
		sc.nodes[n].start = int32(sc.pos)
	}
	child = mode
	if mode == modeShallow {
		child = modeSkip
	}
	sc.pos++ // the opening bracket
	sc.ws()
	if sc.pos < len(sc.s) && sc.s[sc.pos] == closer {
		sc.pos++
		if n >= 0 {
			sc.nodes[n].end = int32(sc.pos)
		}
		return n, child, true
	}
	return n, child, false
}

func (sc *scanner) object(mode, depth int) int32 {
	n, child, empty := sc.open(jObject, mode, depth, '}')
	if n == -1 && sc.err != "" || empty {
		return n
	}
	for {
		if sc.pos >= len(sc.s) || sc.s[sc.pos] != '"' {
			sc.failAt("looking for a member name (a string)")
			return -1
		}
		ks, ke, kesc, ok := sc.str()
		if !ok {
			return -1
		}
		sc.ws()
		if sc.pos >= len(sc.s) || sc.s[sc.pos] != ':' {
			sc.failAt("looking for ':' after a member name")
			return -1
		}
		sc.pos++
		sc.ws()
		v := sc.value(child, depth)
		if sc.err != "" {
			return -1
		}
		if child != modeSkip {
			vn := &sc.nodes[v]
			vn.keyStart, vn.keyEnd, vn.keyEsc = int32(ks), int32(ke), kesc
			sc.addChild(n, v)
		}
		sc.ws()
		if sc.pos < len(sc.s) && sc.s[sc.pos] == ',' {
			sc.pos++
			sc.ws()
			continue
		}
		if sc.pos < len(sc.s) && sc.s[sc.pos] == '}' {
			sc.pos++
			if n >= 0 {
				sc.nodes[n].end = int32(sc.pos)
			}
			return n
		}
		sc.failAt("looking for ',' or '}' after an object member")
		return -1
	}
}

func (sc *scanner) array(mode, depth int) int32 {
	n, child, empty := sc.open(jArray, mode, depth, ']')
	if n == -1 && sc.err != "" || empty {
		return n
	}
	for {
		v := sc.value(child, depth)
		if sc.err != "" {
			return -1
		}
		if child != modeSkip {
			sc.addChild(n, v)
		}
		sc.ws()
		if sc.pos < len(sc.s) && sc.s[sc.pos] == ',' {
			sc.pos++
			sc.ws()
			continue
		}
		if sc.pos < len(sc.s) && sc.s[sc.pos] == ']' {
			sc.pos++
			if n >= 0 {
				sc.nodes[n].end = int32(sc.pos)
			}
			return n
		}
		sc.failAt("looking for ',' or ']' after an array element")
		return -1
	}
}

func (sc *scanner) failAt(what string) {
	if sc.pos >= len(sc.s) {
		sc.fail("unexpected end of input " + what)
		return
	}
	sc.fail("invalid character " + quoteByte(sc.s[sc.pos]) + " " + what)
}

// root scans the object at sc.pos: its members are recorded shallowly,
// except arrays and the one named "_aws" (the last one, if repeated), which
// are built deep. It returns the root node and the "_aws" member (-1 when absent).
func (sc *scanner) root() (root, aws int32) {
	aws = -1
	root = sc.newNode(jObject)
	sc.nodes[root].start = int32(sc.pos)
	sc.pos++ // '{'
	sc.ws()
	if sc.pos < len(sc.s) && sc.s[sc.pos] == '}' {
		sc.pos++
		sc.nodes[root].end = int32(sc.pos)
		return root, aws
	}
	for {
		if sc.pos >= len(sc.s) || sc.s[sc.pos] != '"' {
			sc.failAt("looking for a member name (a string)")
			return root, aws
		}
		ks, ke, kesc, ok := sc.str()
		if !ok {
			return root, aws
		}
		sc.ws()
		if sc.pos >= len(sc.s) || sc.s[sc.pos] != ':' {
			sc.failAt("looking for ':' after a member name")
			return root, aws
		}
		sc.pos++
		sc.ws()
		isAWS := sc.keyIs(ks, ke, kesc, "_aws")
		mode := modeShallow
		if isAWS {
			// Arrays stay shallow too: metric values are read from their
			// bytes (Parser.numberArray), or built by deepen when one of
			// them needs a diagnostic.
			mode = modeDeep
		}
		v := sc.value(mode, 1)
		if sc.err != "" {
			return root, aws
		}
		vn := &sc.nodes[v]
		vn.keyStart, vn.keyEnd, vn.keyEsc = int32(ks), int32(ke), kesc
		sc.addChild(root, v)
		sc.rootKids = append(sc.rootKids, v)
		if isAWS {
			aws = v
		}
		sc.ws()
		if sc.pos < len(sc.s) && sc.s[sc.pos] == ',' {
			sc.pos++
			sc.ws()
			continue
		}
		if sc.pos < len(sc.s) && sc.s[sc.pos] == '}' {
			sc.pos++
			sc.nodes[root].end = int32(sc.pos)
			return root, aws
		}
		sc.failAt("looking for ',' or '}' after an object member")
		return root, aws
	}
}

// keyIs reports whether the key content s[ks:ke] means name.
func (sc *scanner) keyIs(ks, ke int, esc bool, name string) bool {
	if !esc {
		return string(sc.s[ks:ke]) == name
	}
	var buf [64]byte
	if ke-ks > 6*len(name) { // an escape is at most 6 bytes per rune
		return false
	}
	return string(jsonstr.Unescape(buf[:0], sc.s[ks:ke])) == name
}

// deepen builds the children of the shallow container node n (an array or
// object member of the root), so that a referenced array can be read.
func (sc *scanner) deepen(n int32) {
	nd := sc.nodes[n]
	if nd.kind != jArray && nd.kind != jObject || nd.first >= 0 || nd.end-nd.start <= 2 {
		return
	}
	save := sc.pos
	sc.pos = int(nd.start)
	tmp := sc.value(modeDeep, 1) // valid already: cannot fail
	sc.pos = save
	// Move the children under n; the temporary container node stays unused.
	t := sc.nodes[tmp]
	sc.nodes[n].first, sc.nodes[n].last, sc.nodes[n].n = t.first, t.last, t.n
}

// member returns the last member of object node obj called name, or -1.
func (sc *scanner) member(obj int32, name string) int32 {
	found := int32(-1)
	for c := sc.nodes[obj].first; c >= 0; c = sc.nodes[c].next {
		nd := &sc.nodes[c]
		if sc.keyIs(int(nd.keyStart), int(nd.keyEnd), nd.keyEsc, name) {
			found = c
		}
	}
	return found
}

// find3 returns the last members of object obj called a, b and c (-1 when
// absent) in one pass over its members.
func (sc *scanner) find3(obj int32, a, b, c string) (x, y, z int32) {
	x, y, z = -1, -1, -1
	var buf [64]byte
	for ch := sc.nodes[obj].first; ch >= 0; ch = sc.nodes[ch].next {
		nd := &sc.nodes[ch]
		k := sc.s[nd.keyStart:nd.keyEnd]
		if nd.keyEsc {
			if len(k) > len(buf) {
				continue // longer than any name looked up here
			}
			k = jsonstr.Unescape(buf[:0], k)
		}
		switch string(k) {
		case a:
			x = ch
		case b:
			y = ch
		case c:
			z = ch
		}
	}
	return x, y, z
}

// rootMember returns the last member of the root object called name (a
// reference read from "_aws", in bytes), or -1.
func (sc *scanner) rootMember(name []byte, scratch *[]byte) int32 {
	if len(sc.rootKids) >= rootIndexAt {
		if c, ok := sc.indexedRootMember(name); ok {
			return c
		}
	}
	for i := len(sc.rootKids) - 1; i >= 0; i-- {
		c := sc.rootKids[i]
		if nd := &sc.nodes[c]; !nd.keyEsc { // the common case, inline
			if string(sc.s[nd.keyStart:nd.keyEnd]) == string(name) {
				return c
			}
		} else if string(sc.key(c, scratch)) == string(name) {
			return c
		}
	}
	return -1
}

// raw returns the bytes of a string node's content, unescaped into buf when
// it holds escapes; of other nodes, their JSON text.
func (sc *scanner) raw(n int32, buf *[]byte) []byte {
	nd := &sc.nodes[n]
	b := sc.s[nd.start:nd.end]
	if nd.kind == jString && nd.esc {
		*buf = jsonstr.Unescape((*buf)[:0], b)
		return *buf
	}
	return b
}

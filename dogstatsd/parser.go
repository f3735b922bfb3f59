package dogstatsd

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"unsafe"

	"github.com/lambdabridge/lambdabridge/metric"
)

const (
	// internMaxEntries bounds the intern table; when it is full it is emptied
	// and refilled, so a stream of unique names costs allocations, not memory.
	internMaxEntries = 8192
	// internMaxLen: longer strings are not interned (they are rarely repeated).
	internMaxLen = 256
	// quoteMax bounds how much of the input a message quotes.
	quoteMax = 64
)

// Parser parses Datadog metric lines and DogStatsD datagrams into a
// metric.Batch. It holds scratch space and a bounded intern table for names
// and tags, so steady-state parsing does not allocate. A Parser is not safe
// for concurrent use.
type Parser struct {
	intern map[string]string
	labels []metric.Label
	values []float64

	strCache [strCacheSize]string
	tagCache [tagCacheSize]tagCacheEntry
}

// NewParser returns a Parser ready for use.
func NewParser() *Parser {
	return &Parser{
		intern: make(map[string]string, 256),
		labels: make([]metric.Label, 0, 16),
		values: make([]float64, 0, 8),
	}
}

// str returns b as a string, from the intern table when it is there.
func (p *Parser) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > internMaxLen {
		return string(b)
	}
	c, hit := p.cachedStr(b)
	if hit {
		return *c
	}
	s, ok := p.intern[string(b)]
	if !ok {
		if len(p.intern) >= internMaxEntries {
			clear(p.intern)
		}
		s = string(b)
		p.intern[s] = s
	}
	*c = s
	return s
}

// unsafeString views b as a string without copying; only for strconv calls
// that do not keep their argument.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// parseFloat parses b like the Datadog agent does (strconv.ParseFloat).
func parseFloat(b []byte) (float64, bool) {
	if n, ok := parseSmallInt(b); ok {
		return float64(n), true
	}
	f, err := strconv.ParseFloat(unsafeString(b), 64)
	if err != nil {
		// Out of range numbers come back as ±Inf with an error: let the
		// caller report them as non-finite, not as non-numeric.
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

// parseSmallInt parses an optionally signed decimal of at most 15 digits:
// the common case, done without strconv.
func parseSmallInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	neg := false
	i := 0
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		i = 1
		if len(b) == 1 {
			return 0, false
		}
	}
	var n int64
	for ; i < len(b); i++ {
		c := b[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int64(c)
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseInt parses a decimal int64 (no sign handling beyond strconv's).
func parseInt(b []byte) (int64, bool) {
	if n, ok := parseSmallInt(b); ok {
		return n, true
	}
	n, err := strconv.ParseInt(unsafeString(b), 10, 64)
	return n, err == nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// nameChars is true for the bytes Datadog keeps in a metric name.
var nameChars = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['_'], t['.'] = true, true
	return t
}()

// badName says what Datadog would rewrite in name, "" when nothing.
func badName(name []byte) string {
	if len(name) > maxNameBytes {
		return fmt.Sprintf("is %d bytes long; Datadog truncates names at %d", len(name), maxNameBytes)
	}
	c := name[0]
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return fmt.Sprintf("starts with %q, not a letter; Datadog drops leading characters up to the first letter", c)
	}
	for _, c := range name {
		if !nameChars[c] {
			return fmt.Sprintf("contains %q; Datadog rewrites characters other than ASCII letters, digits, '_' and '.' to '_'", c)
		}
	}
	return ""
}

// checkName reports a name Datadog would rewrite (a warning).
func (p *Parser) checkName(b *metric.Batch, name []byte, f metric.Format, rule string, o *metric.Origin) {
	for _, c := range name {
		if !nameChars[c] {
			goto bad
		}
	}
	if len(name) <= maxNameBytes && (name[0]|0x20 >= 'a' && name[0]|0x20 <= 'z') {
		return
	}
bad:
	if msg := badName(name); msg != "" {
		diag(b, o, f, warn, rule, none, "metric name "+quote(name)+" "+msg, "")
	}
}

// parseTags splits a comma separated tag list into p.labels (appending).
func (p *Parser) parseTags(raw []byte) {
	for len(raw) > 0 {
		var tag []byte
		if i := bytes.IndexByte(raw, ','); i >= 0 {
			tag, raw = raw[:i], raw[i+1:]
		} else {
			tag, raw = raw, nil
		}
		if !keepTag(tag) {
			continue
		}
		p.labels = append(p.labels, p.tagLabel(tag))
	}
}

// keepTag is false for the tags the Datadog agent removes before a metric
// is stored: empty ones, its origin-detection tags dd.internal.entity_id:*
// and dd.internal.card:* (enrich_test.go TestEnrichTags), and a "host:" tag
// without a value, which sets an empty host, that is none
// (TestConvertParseSingleWithEmptyHostTags).
func keepTag(tag []byte) bool {
	switch {
	case len(tag) == 0, string(tag) == "host:":
		return false
	case bytes.HasPrefix(tag, internalEntityID), bytes.HasPrefix(tag, internalCard):
		return false
	}
	return true
}

var (
	internalEntityID = []byte("dd.internal.entity_id:")
	internalCard     = []byte("dd.internal.card:")
)

// tagLabel splits tag at its first ':' into a label, interning the whole tag
// once and slicing it.
func (p *Parser) tagLabel(tag []byte) metric.Label {
	s := p.str(tag)
	if i := bytes.IndexByte(tag, ':'); i >= 0 {
		return metric.Label{Name: s[:i], Value: s[i+1:]}
	}
	return metric.Label{Name: s}
}

// diag appends a diagnostic.
func diag(b *metric.Batch, o *metric.Origin, f metric.Format, sev metric.Severity, rule string, eff metric.Effect, msg, hint string) {
	b.AddDiag(metric.Diagnostic{Origin: *o, Format: f, Severity: sev, Rule: rule, Message: msg, Effect: eff, Hint: hint})
}

// negativeCount warns about a count value below zero: Datadog subtracts it,
// a Prometheus counter cannot.
func negativeCount(b *metric.Batch, o *metric.Origin, f metric.Format, rule string, name, raw []byte) {
	diag(b, o, f, warn, rule, none, "count "+quote(name)+" has value "+quote(raw)+", below zero: Datadog subtracts it, but it becomes a Prometheus counter, and counters only go up (a decrease reads as a reset to rate() and increase()), so lambdabridge drops the value (counted as negative_counter)",
		"send a value that goes down as a gauge, or count the decreases in a counter of their own")
}

// quote renders a part of the input for a message, shortened when long.
func quote(b []byte) string {
	if len(b) > quoteMax {
		return strconv.Quote(string(b[:quoteMax])) + "..."
	}
	return strconv.Quote(string(b))
}

// trimSpace trims ASCII white space at both ends.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

// secondsToMs converts an epoch timestamp in seconds to milliseconds. It also
// recognises milliseconds, microseconds and nanoseconds by magnitude and says
// which it found ("" for seconds).
func epochToMs(ts int64) (ms int64, unit string) {
	switch {
	case ts < 1e11: // seconds until the year 5138
		return ts * 1000, ""
	case ts < 1e14:
		return ts, "milliseconds"
	case ts < 1e17:
		return ts / 1e3, "microseconds"
	default:
		return ts / 1e6, "nanoseconds"
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// unsafeMember views one string as a one-element slice without allocating;
// the slice is only read (copied into the batch).
func unsafeMember(s *string) []string { return unsafe.Slice(s, 1) }

// mw names a metric in a message.
func mw(name []byte) string { return "metric " + quote(name) }

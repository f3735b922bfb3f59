// Package jsonscan walks valid JSON text in place, without reflection and
// without copies: the hand-written decoders of the extension's Telemetry
// batches and of the platform's event records. Each reads what it needs
// and leaves anything unusual (invalid text, keys encoding/json would
// match case-insensitively) to encoding/json, which decides.
//
//	d := jsonscan.Scanner{B: b}
//	ok := d.Object(func(key, val []byte) bool { ...; return true }) && d.End()
package jsonscan

import (
	"bytes"
	"unicode/utf8"

	"github.com/lambdabridge/lambdabridge/internal/jsonnum"
	"github.com/lambdabridge/lambdabridge/internal/jsonstr"
)

// MaxDepth bounds the nesting of a value.
const MaxDepth = 1000

// Scanner reads B from I on.
type Scanner struct {
	B []byte
	I int
}

// WS moves past white space.
func (d *Scanner) WS() {
	for d.I < len(d.B) {
		switch d.B[d.I] {
		case ' ', '\t', '\n', '\r':
			d.I++
		default:
			return
		}
	}
}

// Eat moves past c if it is next.
func (d *Scanner) Eat(c byte) bool {
	if d.I < len(d.B) && d.B[d.I] == c {
		d.I++
		return true
	}
	return false
}

// End reports whether only white space follows.
func (d *Scanner) End() bool {
	d.WS()
	return d.I == len(d.B)
}

// Str reads a string and returns its contents, still escaped.
func (d *Scanner) Str() ([]byte, bool) {
	start := d.I
	if !d.skipString() {
		return nil, false
	}
	return d.B[start+1 : d.I-1], true
}

// skipString moves past a valid string starting at I.
func (d *Scanner) skipString() bool {
	if d.I >= len(d.B) || d.B[d.I] != '"' {
		return false
	}
	end, _, problem := jsonstr.Scan(d.B, d.I)
	d.I = end
	return problem == ""
}

// Value moves past one valid JSON value and returns it.
func (d *Scanner) Value() ([]byte, bool) {
	start := d.I
	ok := d.value(0)
	return d.B[start:d.I], ok
}

func (d *Scanner) value(depth int) bool {
	if d.I >= len(d.B) || depth > MaxDepth {
		return false
	}
	switch d.B[d.I] {
	case '"':
		return d.skipString()
	case '{', '[':
		closer := byte('}')
		if d.B[d.I] == '[' {
			closer = ']'
		}
		d.I++
		if d.WS(); d.Eat(closer) {
			return true
		}
		for {
			d.WS()
			if closer == '}' {
				if !d.skipString() {
					return false
				}
				if d.WS(); !d.Eat(':') {
					return false
				}
				d.WS()
			}
			if !d.value(depth + 1) {
				return false
			}
			d.WS()
			if d.Eat(closer) {
				return true
			}
			if !d.Eat(',') {
				return false
			}
		}
	case 't', 'f', 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(d.B[d.I:], []byte(lit)) {
				d.I += len(lit)
				return true
			}
		}
		return false
	default:
		end, problem := jsonnum.Scan(d.B, d.I)
		d.I = end
		return problem == ""
	}
}

// Object reads the object at I (after white space), calling member with
// each key (still escaped) and value (valid JSON, raw) in order; false
// when the text is not an object or member returns false.
func (d *Scanner) Object(member func(key, val []byte) bool) bool {
	d.WS()
	if !d.Eat('{') {
		return false
	}
	if d.WS(); d.Eat('}') {
		return true
	}
	for {
		d.WS()
		key, ok := d.Str()
		if !ok {
			return false
		}
		if d.WS(); !d.Eat(':') {
			return false
		}
		d.WS()
		val, ok := d.Value()
		if !ok || !member(key, val) {
			return false
		}
		d.WS()
		if d.Eat('}') {
			return true
		}
		if !d.Eat(',') {
			return false
		}
	}
}

// AppendUnquoted appends the contents of a valid JSON string value (with
// its quotes) to dst; false for invalid UTF-8 (encoding/json replaces it)
// or what is not a string.
func AppendUnquoted(dst, raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return dst, false
	}
	in := raw[1 : len(raw)-1]
	start := len(dst)
	if bytes.IndexByte(in, '\\') >= 0 {
		dst = jsonstr.Unescape(dst, in)
	} else {
		dst = append(dst, in...)
	}
	return dst, utf8.Valid(dst[start:])
}

// Unquote decodes a valid JSON string value (with its quotes); false as
// for AppendUnquoted.
func Unquote(raw []byte) (string, bool) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		if in := raw[1 : len(raw)-1]; bytes.IndexByte(in, '\\') < 0 {
			return string(in), utf8.Valid(in)
		}
	}
	b, ok := AppendUnquoted(nil, raw)
	return string(b), ok
}

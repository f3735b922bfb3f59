package extension

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/lambdabridge/lambdabridge/internal/jsonnum"
	"github.com/lambdabridge/lambdabridge/internal/jsonstr"
)

// decodeBatch splits a Telemetry API batch (a JSON array of
// {"time","type","record"} objects) into events without reflection: time
// and type are decoded, record is kept as the raw JSON value, and every
// other member is skipped. It appends to dst and returns it. The batch
// must be valid JSON, else it is an error and encoding/json decides
// (decodeBatchSlow).
func decodeBatch(dst []teleEvent, b []byte) ([]teleEvent, error) {
	d := batchScanner{b: b}
	d.ws()
	if !d.eat('[') {
		return dst, errBatch
	}
	if d.ws(); d.eat(']') {
		return dst, d.end()
	}
	for {
		var ev teleEvent
		if err := d.event(&ev); err != nil {
			return dst, err
		}
		dst = append(dst, ev)
		d.ws()
		if d.eat(']') {
			return dst, d.end()
		}
		if !d.eat(',') {
			return dst, errBatch
		}
		d.ws()
	}
}

// decodeBatchSlow is decodeBatch by encoding/json: the fallback that gives
// the error of a batch decodeBatch refused.
func decodeBatchSlow(dst []teleEvent, b []byte) ([]teleEvent, error) {
	var batch []teleEvent
	if err := json.Unmarshal(b, &batch); err != nil {
		return dst, err
	}
	return append(dst, batch...), nil
}

var errBatch = errors.New("telemetry batch: not a JSON array of objects")

type batchScanner struct {
	b []byte
	i int
}

func (d *batchScanner) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *batchScanner) eat(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// end checks that only white space follows the array.
func (d *batchScanner) end() error {
	if d.ws(); d.i != len(d.b) {
		return errBatch
	}
	return nil
}

// event reads one object into ev.
func (d *batchScanner) event(ev *teleEvent) error {
	if !d.eat('{') {
		return errBatch
	}
	if d.ws(); d.eat('}') {
		return nil
	}
	for {
		d.ws()
		key, ok := d.str()
		if !ok {
			return errBatch
		}
		if d.ws(); !d.eat(':') {
			return errBatch
		}
		d.ws()
		start := d.i
		if !d.value(0) {
			return errBatch
		}
		raw := d.b[start:d.i]
		// encoding/json's rule: keys match case-insensitively, the last wins
		switch {
		case bytes.EqualFold(key, []byte("time")), bytes.EqualFold(key, []byte("type")):
			s, err := unquote(raw)
			if err != nil {
				return err
			}
			if len(key) == 4 && (key[2]|0x20) == 'm' {
				ev.Time = s
			} else {
				ev.Type = s
			}
		case bytes.EqualFold(key, []byte("record")):
			ev.Record = raw
		}
		d.ws()
		if d.eat('}') {
			return nil
		}
		if !d.eat(',') {
			return errBatch
		}
	}
}

// str reads a string's contents (still escaped).
func (d *batchScanner) str() ([]byte, bool) {
	start := d.i
	if !d.skipString() {
		return nil, false
	}
	return d.b[start+1 : d.i-1], true
}

// skipString moves past a valid string starting at d.i.
func (d *batchScanner) skipString() bool {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return false
	}
	end, _, problem := jsonstr.Scan(d.b, d.i)
	d.i = end
	return problem == ""
}

// maxDepth bounds the nesting of a record.
const maxDepth = 1000

// value moves past one valid JSON value.
func (d *batchScanner) value(depth int) bool {
	if d.i >= len(d.b) || depth > maxDepth {
		return false
	}
	switch d.b[d.i] {
	case '"':
		return d.skipString()
	case '{', '[':
		closer := byte('}')
		if d.b[d.i] == '[' {
			closer = ']'
		}
		d.i++
		if d.ws(); d.eat(closer) {
			return true
		}
		for {
			d.ws()
			if closer == '}' {
				if !d.skipString() {
					return false
				}
				if d.ws(); !d.eat(':') {
					return false
				}
				d.ws()
			}
			if !d.value(depth + 1) {
				return false
			}
			d.ws()
			if d.eat(closer) {
				return true
			}
			if !d.eat(',') {
				return false
			}
		}
	case 't', 'f', 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(d.b[d.i:], []byte(lit)) {
				d.i += len(lit)
				return true
			}
		}
		return false
	default:
		end, problem := jsonnum.Scan(d.b, d.i)
		d.i = end
		return problem == ""
	}
}

// unquote decodes a JSON string value that skipString took. Invalid
// UTF-8 is an error: encoding/json, which replaces it, decides then.
func unquote(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", errBatch
	}
	in := raw[1 : len(raw)-1]
	if bytes.IndexByte(in, '\\') >= 0 {
		in = jsonstr.Unescape(make([]byte, 0, len(in)), in)
	}
	if !utf8.Valid(in) {
		return "", errBatch
	}
	return string(in), nil
}

// Package events provides the events lambdabridge invokes functions with:
// built-in samples of the common triggers (API Gateway, S3, SQS, Kinesis,
// EventBridge, SNS) for --event-template, one JSON document for --event, and
// JSON lines for --events.
//
//	ev, err := events.Get("sqs")                          // --event-template sqs
//	ev, err = events.ReadOne(os.Stdin)                   // --event -
//	err = events.ReadLines(f, invoke, func(line int, err error) { warn(line, err) }) // --events FILE
package events

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// MaxPayload is Lambda's limit on the payload of a synchronous invocation
// (6 MB).
const MaxPayload = 6 * 1024 * 1024

// ErrUnknownTemplate is wrapped by Get's error for a name it does not know.
var ErrUnknownTemplate = errors.New("unknown event template")

//go:embed templates/*.json
var templates embed.FS

// aliases maps other names users type to the template names.
var aliases = map[string]string{
	"api-gateway":       "apigateway",
	"apigw":             "apigateway",
	"rest-api":          "apigateway",
	"apigateway-v2":     "apigatewayv2",
	"http-api":          "apigatewayv2",
	"s3":                "s3-put",
	"eventbridge":       "eventbridge-schedule",
	"schedule":          "eventbridge-schedule",
	"cloudwatch-events": "eventbridge-schedule",
}

// Names lists the built-in templates, sorted.
func Names() []string {
	entries, err := templates.ReadDir("templates")
	if err != nil {
		panic("events: embedded templates: " + err.Error())
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(names)
	return names
}

// Aliases returns the other names a template is known by (http-api for
// apigatewayv2 ...), sorted.
func Aliases(name string) []string {
	var out []string
	for a, n := range aliases {
		if n == name {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// Get returns a fresh copy of the built-in event called name (a name from
// Names or one of its aliases, case-insensitive).
func Get(name string) ([]byte, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if a, ok := aliases[n]; ok {
		n = a
	}
	if n == "" || !slices.Contains(Names(), n) {
		return nil, fmt.Errorf("%w %q (have: %s)", ErrUnknownTemplate, name, strings.Join(Names(), ", "))
	}
	return templates.ReadFile("templates/" + n + ".json")
}

// ReadOne reads one JSON document (any JSON value, as Lambda accepts) from
// r: the whole input, surrounding white space trimmed. Invalid JSON is an
// error giving the line and column; input that is several documents (JSON
// lines) is an error that points to --events.
func ReadOne(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxPayload+1))
	if err != nil {
		return nil, fmt.Errorf("read event: %w", err)
	}
	if len(data) > MaxPayload {
		return nil, fmt.Errorf("event larger than %d bytes, Lambda's limit for a synchronous invocation", MaxPayload)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("event is empty: give a JSON document, for example {}")
	}
	if err := check(data, true); err != nil {
		if more := multiple(data); more {
			return nil, fmt.Errorf("event holds several JSON documents; use --events for JSON lines (one event per line)")
		}
		return nil, fmt.Errorf("event is not valid JSON: %w", err)
	}
	return data, nil
}

// multiple reports whether data starts with a complete JSON document followed
// by more input.
func multiple(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		return false
	}
	return dec.More() || dec.InputOffset() < int64(len(data))
}

// check validates data as one JSON value and reports a syntax error with
// its column, and its line when withLine.
func check(data []byte, withLine bool) error {
	if json.Valid(data) {
		return nil
	}
	var v json.RawMessage
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := position(data, se.Offset)
		if !withLine {
			return fmt.Errorf("column %d: %w", col, err)
		}
		return fmt.Errorf("line %d, column %d: %w", line, col, err)
	}
	if err == nil {
		err = errors.New("invalid JSON")
	}
	return err
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	if col < 1 {
		col = 1
	}
	return line, col
}

// ReadLines reads JSON lines from r, one event per line, and calls fn with
// each event and its 1-based line number; fn owns ev and may keep it. Blank
// lines (and a trailing \r) are skipped. A line that is not valid JSON, or is
// larger than MaxPayload, is skipped and reported to bad (when not nil) with
// its line number: it does not stop the reading. ReadLines returns the
// first error of fn, or the read error of r.
func ReadLines(r io.Reader, fn func(line int, ev []byte) error, bad func(line int, err error)) error {
	br := bufio.NewReaderSize(r, 64*1024)
	var buf []byte
	n := 0
	for {
		buf = buf[:0]
		tooLong := false
		var err error
		for {
			var chunk []byte
			chunk, err = br.ReadSlice('\n')
			if !tooLong {
				if len(buf)+len(chunk) > MaxPayload+2 { // +2 for \r\n
					tooLong = true
					buf = buf[:0]
				} else {
					buf = append(buf, chunk...)
				}
			}
			if err != bufio.ErrBufferFull {
				break
			}
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("read events: line %d: %w", n+1, err)
		}
		if err == io.EOF && len(buf) == 0 && !tooLong {
			return nil
		}
		n++
		line := bytes.TrimSpace(buf)
		switch {
		case tooLong:
			if bad != nil {
				bad(n, fmt.Errorf("event larger than %d bytes, Lambda's limit for a synchronous invocation", MaxPayload))
			}
		case len(line) == 0:
		default:
			if cerr := check(line, false); cerr != nil {
				if bad != nil {
					bad(n, fmt.Errorf("not valid JSON: %w", cerr))
				}
				break
			}
			if ferr := fn(n, bytes.Clone(line)); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

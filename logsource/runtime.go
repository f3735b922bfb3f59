package logsource

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lambdabridge/lambdabridge/metric"
)

// Rule ids of the diagnostics the Decoder gives.
const (
	// RuleBadPayload: a subscription payload that is not base64, not gzip,
	// not JSON, or not a DATA_MESSAGE/CONTROL_MESSAGE document. Its events
	// are skipped; the lines after it are read.
	RuleBadPayload = "log/bad-payload"
	// RuleBadDocument: a filter-log-events/get-log-events document (or a
	// JSON document over several lines) that is not valid or is cut off.
	RuleBadDocument = "log/bad-document"
	// RuleEventTooLarge: a message longer than CloudWatch Logs keeps in one
	// event; it is cut there, as CloudWatch cuts it.
	RuleEventTooLarge = "log/event-too-large"
	// RuleEMFWrapped: an EMF document inside the "message" of Lambda's JSON
	// log format. CloudWatch extracts EMF only from a log event whose root
	// object is the EMF document, so these metrics are lost.
	RuleEMFWrapped = "emf/json-log-wrapped"
)

// RuleInfo documents one rule (see metric.RuleInfo).
type RuleInfo = metric.RuleInfo

// Rules lists the rules of the Decoder.
var Rules = []RuleInfo{
	{Rule: RuleBadPayload, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "a subscription payload is not base64 of gzip of a DATA_MESSAGE/CONTROL_MESSAGE JSON document"},
	{Rule: RuleBadDocument, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "a filter-log-events/get-log-events JSON document (or a multi-line JSON document) is invalid or cut off"},
	{Rule: RuleEventTooLarge, Severity: metric.Warning, Effect: metric.EffectNone, Doc: "a message is longer than a CloudWatch Logs event (1 MB, see WithMaxEventSize): CloudWatch keeps its start only; an error (EMF, drops the event) when it is an EMF document"},
	{Rule: RuleEMFWrapped, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "an EMF document is the \"message\" of a JSON-format application log: CloudWatch does not extract it"},
}

// unwrap removes the runtime's wrapping of m.Text and completes m's
// context: size limit, JSON log format, Node.js and Python text prefixes,
// the request each stream is in, the function name.
func (d *Decoder) unwrap(m *Message) {
	d.setFunction(m)
	if m.Text == nil {
		return
	}
	m.Text = bytes.TrimRight(m.Text, "\r\n")
	if len(m.Text) > d.cfg.maxEventSize {
		d.tooLarge(m)
		if m.Text == nil {
			return
		}
	}
	if len(m.Text) > 0 {
		switch c := m.Text[0]; {
		case c == '{':
			d.unwrapJSON(m)
		case isDigit(c):
			d.unwrapNode(m)
		case c == '[':
			d.unwrapPython(m)
		}
	}
	d.trackRequest(m)
}

// tooLarge reports a message longer than a CloudWatch Logs event and cuts
// it where CloudWatch does. An EMF document cut there is not extracted:
// that is one error, and the cut object is not parsed (it would only add
// an invalid-JSON error).
func (d *Decoder) tooLarge(m *Message) {
	n, max := len(m.Text), d.cfg.maxEventSize
	m.Text = m.Text[:max]
	if bytes.Contains(m.Text, awsKey) {
		d.diag(m, metric.FormatEMF, metric.Error, RuleEventTooLarge, metric.EffectDropsEvent,
			fmt.Sprintf("EMF event is %d bytes; a CloudWatch Logs event holds at most %d: CloudWatch cuts it and extracts none of its metrics", n, max),
			"emit fewer metrics or values per event (the client libraries flush at 100 metrics)")
		m.Text = nil
		return
	}
	d.diag(m, metric.FormatUnknown, metric.Warning, RuleEventTooLarge, metric.EffectNone,
		fmt.Sprintf("message is %d bytes; a CloudWatch Logs event holds at most %d: CloudWatch keeps the start and cuts the rest", n, max),
		"write less per line (split large payloads), or log a reference to them")
}

// setFunction names m's function: the console prefix's, the log group's
// (/aws/lambda/<name>), or the default.
func (d *Decoder) setFunction(m *Message) {
	switch {
	case m.Function != "":
	case strings.HasPrefix(m.Group, "/aws/lambda/") && len(m.Group) > len("/aws/lambda/"):
		m.Function = m.Group[len("/aws/lambda/"):]
	default:
		m.Function = d.cfg.function
	}
}

func (d *Decoder) diag(m *Message, f metric.Format, sev metric.Severity, rule string, eff metric.Effect, msg, hint string) {
	m.Diags = append(m.Diags, metric.Diagnostic{
		Origin: metric.Origin{Source: d.source, Line: m.Line, Function: m.Function, Environment: m.Environment, RequestID: m.RequestID},
		Format: f, Severity: sev, Rule: rule, Message: msg, Effect: eff, Hint: hint,
	})
}

// jsonApp is an application log of Lambda's JSON log format, as the managed
// runtimes write it (AWS Lambda developer guide, "Configuring JSON and
// plain text log formats": timestamp, level, requestId, message; verified).
type jsonApp struct {
	Timestamp string          `json:"timestamp"`
	Level     string          `json:"level"`
	RequestID string          `json:"requestId"`
	Message   json.RawMessage `json:"message"`
	AWS       json.RawMessage `json:"_aws"`
}

var (
	platformTime = []byte(`{"time":`)
	platformType = []byte(`"type":"platform.`)
	levelKey     = []byte(`"level"`)
	messageKey   = []byte(`"message"`)
	awsKey       = []byte(`"_aws"`)
)

// unwrapJSON recognises the JSON log format: a platform event is left
// whole for the platform parser; an application log gives its message.
func (d *Decoder) unwrapJSON(m *Message) {
	t := m.Text
	if bytes.HasPrefix(t, platformTime) && bytes.Contains(t, platformType) {
		m.Wrapper = JSONPlatform
		return
	}
	if !bytes.Contains(t, levelKey) || !bytes.Contains(t, messageKey) {
		return
	}
	var w jsonApp
	if json.Unmarshal(t, &w) != nil || w.AWS != nil || w.Level == "" || len(w.Message) == 0 {
		return // EMF, or not the runtime's wrapper
	}
	m.Wrapper, m.Level = JSONApp, w.Level
	if w.RequestID != "" {
		m.RequestID = w.RequestID
	}
	if m.TimeMs == 0 {
		if ts, err := time.Parse(time.RFC3339Nano, w.Timestamp); err == nil {
			m.TimeMs = ts.UnixMilli()
		}
	}
	inner := []byte(w.Message)
	if inner[0] == '"' {
		var s string
		if json.Unmarshal(inner, &s) == nil {
			inner = []byte(s)
		}
	}
	if bytes.Contains(inner, awsKey) {
		d.diag(m, metric.FormatEMF, metric.Error, RuleEMFWrapped, metric.EffectDropsEvent,
			"EMF document is the \"message\" of a JSON-format application log (level "+w.Level+"); CloudWatch extracts EMF only from a log event that is the EMF object itself, so these metrics are lost",
			"with LogFormat JSON write EMF raw to stdout (process.stdout.write / print / fmt.Println, not console.log or logging); aws-embedded-metrics for Node.js >= 4.1.1 and Powertools Metrics do so")
		m.Text = nil
		return
	}
	m.Text = inner
}

// unwrapNode removes the Node.js runtime's text prefix
// "<iso-time>\t<request id>\t<LEVEL>\t" (verified in
// aws-lambda-nodejs-runtime-interface-client src/logging/formatter.ts,
// formatTextMessage: [timestamp, requestId, level.name, message] joined by
// tabs; its formatJsonMessage writes the JSON format's {timestamp, level,
// requestId, message}, message an object when console.log got one).
func (d *Decoder) unwrapNode(m *Message) {
	t := m.Text
	n, ms, zone := isoTime(t)
	if n == 0 || zone == 0 || n >= len(t) || t[n] != '\t' {
		return
	}
	rest := t[n+1:]
	id, rest, ok := cutTab(rest)
	if !ok {
		return
	}
	level, rest, ok := cutTab(rest)
	if !ok || !isLevel(level) {
		return
	}
	m.Wrapper, m.Level, m.Text = NodeText, d.intern(level), rest
	if len(id) > 0 && string(id) != "undefined" {
		m.RequestID = d.intern(id)
	}
	if m.TimeMs == 0 {
		m.TimeMs = ms
	}
}

// unwrapPython removes the Python runtime's logging prefix
// "[LEVEL]\t<iso-time>\t<request id>\t" (verified in
// aws-lambda-python-runtime-interface-client awslambdaric/bootstrap.py,
// _setup_logging: "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s";
// the request id is empty outside an invocation).
func (d *Decoder) unwrapPython(m *Message) {
	t := m.Text
	end := bytes.IndexByte(t, ']')
	if end < 2 || end+1 >= len(t) || t[end+1] != '\t' || !isLevel(t[1:end]) {
		return
	}
	rest := t[end+2:]
	n, ms, zone := isoTime(rest)
	if n == 0 || zone == 0 || n >= len(rest) || rest[n] != '\t' {
		return
	}
	id, rest, ok := cutTab(rest[n+1:])
	if !ok {
		return
	}
	m.Wrapper, m.Level, m.Text = PythonText, d.intern(t[1:end]), rest
	if len(id) > 0 {
		m.RequestID = d.intern(id)
	}
	if m.TimeMs == 0 {
		m.TimeMs = ms
	}
}

func cutTab(b []byte) (before, after []byte, ok bool) {
	i := bytes.IndexByte(b, '\t')
	if i < 0 {
		return nil, nil, false
	}
	return b[:i], b[i+1:], true
}

func isLevel(b []byte) bool {
	if len(b) == 0 || len(b) > 8 {
		return false
	}
	for _, c := range b {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

var (
	startPrefix  = []byte("START RequestId: ")
	endPrefix    = []byte("END RequestId: ")
	reportPrefix = []byte("REPORT RequestId: ")
)

// trackRequest gives a message without a request id the request its
// stream is in: between START and REPORT, every line of an execution
// environment belongs to one invocation.
func (d *Decoder) trackRequest(m *Message) {
	key := streamKey{m.Function, m.Group, m.Stream, m.Environment}
	t := m.Text
	switch {
	case bytes.HasPrefix(t, startPrefix):
		m.RequestID = d.intern(firstWord(t[len(startPrefix):]))
		d.inReq[key] = m.RequestID
	case bytes.HasPrefix(t, endPrefix):
		m.RequestID = d.intern(firstWord(t[len(endPrefix):]))
	case bytes.HasPrefix(t, reportPrefix):
		m.RequestID = d.intern(firstWord(t[len(reportPrefix):]))
		delete(d.inReq, key)
	case m.RequestID == "":
		m.RequestID = d.inReq[key]
	}
}

func firstWord(b []byte) []byte {
	if i := bytes.IndexAny(b, " \t"); i >= 0 {
		b = b[:i]
	}
	return b
}

// streamKey names one log stream of one function.
type streamKey struct{ function, group, stream, env string }

// intern returns b as a string, the previous one when equal (request ids
// and stream names repeat line after line).
func (d *Decoder) intern(b []byte) string {
	for _, s := range d.recent {
		if s == string(b) {
			return s
		}
	}
	s := string(b)
	d.recent[d.next%len(d.recent)] = s
	d.next++
	return s
}

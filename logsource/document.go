package logsource

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// gzipBase64 starts every base64-encoded gzip stream (1f 8b 08 ...).
var gzipBase64 = []byte("H4sI")

// docState is a JSON document read over several lines.
type docState struct {
	active    bool
	startLine int
	buf       []byte
	depth     int
	inStr     bool
	esc       bool
	started   bool
	tooLarge  bool
	event     *Message // the `aws logs tail --format json` event it is the message of
	eventCopy Message
}

func (s *docState) open() bool { return s.active }

// start begins a document that is the message of m (nil: a document of its
// own, starting at line num).
func (s *docState) start(num int, m *Message) {
	*s = docState{active: true, startLine: num, buf: s.buf[:0]}
	if m != nil {
		s.eventCopy = *m
		s.event = &s.eventCopy
	}
}

// scan follows b's brackets; it returns true when the document is
// complete at the end of b.
func (s *docState) scan(b []byte) bool {
	for _, c := range b {
		switch {
		case s.inStr:
			switch {
			case s.esc:
				s.esc = false
			case c == '\\':
				s.esc = true
			case c == '"':
				s.inStr = false
			}
		case c == '"':
			s.inStr = true
		case c == '{' || c == '[':
			s.depth++
			s.started = true
		case c == '}' || c == ']':
			s.depth--
		}
	}
	return s.started && s.depth <= 0
}

// documentLine reads a line that starts a JSON value. A value complete on
// its line is handled at once (the common case: an EMF or JSON log line);
// otherwise lines are gathered until it is.
func (d *Decoder) documentLine(num int, b []byte, forced bool) error {
	if forced && b[0] != '{' {
		if bytes.HasPrefix(b, gzipBase64) {
			return d.base64Payload(num, b)
		}
		return d.broken(num, d.badRule(), "line "+clip(b)+" is not a JSON document or a base64 gzip payload", "")
	}
	if t := bytes.TrimSpace(b); len(t) == 1 {
		// "{" alone: a pretty-printed document (the AWS CLI's JSON
		// output) follows over the next lines
		d.doc.start(num, nil)
		d.doc.scan(t)
		d.doc.buf = append(d.doc.buf, t...)
		return nil
	}
	// a JSON value on one line, complete or broken: the metric parsers
	// report a broken one, the lines after it are read as usual
	return d.chunk(num, b, forced)
}

// continueDocument adds a line to the document being read.
func (d *Decoder) continueDocument(num int, b []byte) error {
	s := &d.doc
	if s.event != nil && !s.started {
		if len(bytes.TrimSpace(b)) == 0 {
			return nil
		}
		if b[0] != '{' && b[0] != '[' { // the message was empty after all
			s.active = false
			return d.line(num, b)
		}
	}
	if s.started && len(b) > 0 && b[0] != ' ' && b[0] != '\t' && b[0] != '}' && b[0] != ']' {
		// pretty-printed JSON indents every line but the last: this line
		// is not part of the document, which is cut off
		s.active = false
		if err := d.broken(s.startLine, RuleBadDocument, "the JSON document starting here is cut off before line "+strconv.Itoa(num), ""); err != nil {
			return err
		}
		return d.line(num, b)
	}
	if len(s.buf)+len(b) > d.cfg.maxDocument {
		if !s.tooLarge {
			s.tooLarge = true
			if err := d.broken(s.startLine, RuleBadDocument, fmt.Sprintf("JSON document starting here is larger than %d bytes; it is skipped", d.cfg.maxDocument), ""); err != nil {
				return err
			}
		}
	} else {
		s.buf = append(s.buf, '\n')
		s.buf = append(s.buf, b...)
	}
	if !s.scan(b) {
		return nil
	}
	s.active = false
	if s.tooLarge {
		return nil
	}
	if s.event != nil {
		return d.prettyMessage(s)
	}
	return d.chunk(s.startLine, s.buf, d.cfg.envelope == Events || d.cfg.envelope == Subscription)
}

// prettyMessage hands over the message `aws logs tail --format json`
// pretty-printed (json.dumps(indent=4)) after its prefix line, compacted
// back to one line.
func (d *Decoder) prettyMessage(s *docState) error {
	m := *s.event
	var out bytes.Buffer
	if err := json.Compact(&out, s.buf); err != nil {
		m.Text = bytes.TrimSpace(s.buf)
	} else {
		m.Text = out.Bytes()
	}
	d.last = m
	d.last.Text = nil
	return d.emit(&m)
}

// endDocument reports a document the input ended inside of.
func (d *Decoder) endDocument() error {
	if !d.doc.active {
		return nil
	}
	s := &d.doc
	s.active = false
	if s.event != nil && !s.started {
		return nil
	}
	return d.broken(s.startLine, RuleBadDocument, "the input ends inside the JSON document starting here", "the document is cut off: save the whole output")
}

// badRule is the rule of an unreadable part under the forced envelope.
func (d *Decoder) badRule() string {
	if d.cfg.envelope == Events {
		return RuleBadDocument
	}
	return RuleBadPayload
}

// markers are the keys of the envelope documents; a JSON line without any
// is a message (EMF, a JSON log, ...) and is not decoded here.
var markers = [...][]byte{[]byte(`"messageType"`), []byte(`"logEvents"`), []byte(`"events"`), []byte(`"awslogs"`)}

func hasMarker(b []byte) bool {
	for _, m := range markers {
		if bytes.Contains(b, m) {
			return true
		}
	}
	return false
}

// chunk handles a complete JSON text starting at line num: envelope
// documents (one or several, concatenated), or a message.
func (d *Decoder) chunk(num int, data []byte, forced bool) error {
	if hasMarker(data) || forced {
		ours, err := d.documents(num, data, false, forced)
		if ours || err != nil {
			return err
		}
	}
	return d.raw(num, data, false)
}

// rawEvent is one event of an envelope document.
type rawEvent struct {
	Stream    string `json:"logStreamName"`
	Timestamp int64  `json:"timestamp"`
	Message   *string
	line      int
}

// envDoc is what an envelope document says.
type envDoc struct {
	messageType, group, stream string
	hasEvents, hasAWS          bool
	awslogs                    string
	events                     []rawEvent
}

func (e *envDoc) ours() bool {
	return e.messageType != "" || e.awslogs != "" || e.hasEvents && !e.hasAWS
}

// documents reads the JSON values of data (one or several concatenated)
// as envelope documents. It returns false when the first value is not
// one (a message). fixed gives every event line num (a payload on one
// input line); otherwise an event's line is where it starts in data.
func (d *Decoder) documents(num int, data []byte, fixed, forced bool) (bool, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for i := 0; ; i++ {
		line := num
		if !fixed {
			line = num + lineOf(data, int(dec.InputOffset()))
		}
		var doc envDoc
		err := readDoc(dec, data, num, fixed, &doc)
		if errors.Is(err, io.EOF) && i > 0 {
			return true, nil
		}
		if err == nil && !doc.ours() {
			err = errNotEnvelope
		}
		if err != nil {
			if i == 0 && !doc.ours() && !forced {
				return false, nil
			}
			rule := d.ruleFor(&doc)
			if fixed { // a payload on one line
				rule = RuleBadPayload
			}
			return true, d.broken(line, rule, "JSON document: "+err.Error()+"; the events in it are skipped", "")
		}
		if err := d.envelopeDoc(line, &doc); err != nil {
			return true, err
		}
	}
}

var errNotEnvelope = errors.New(`not a subscription payload ({"messageType","logGroup","logStream","logEvents"}) or a filter-log-events/get-log-events output ({"events": [...]})`)

func (d *Decoder) ruleFor(doc *envDoc) string {
	if doc.messageType != "" || doc.awslogs != "" || d.cfg.envelope == Subscription {
		return RuleBadPayload
	}
	return RuleBadDocument
}

// envelopeDoc hands over the events of one document.
func (d *Decoder) envelopeDoc(line int, doc *envDoc) error {
	env := Events
	switch {
	case doc.awslogs != "" && d.inPayload:
		return d.broken(line, RuleBadPayload, "a subscription payload holds another one (awslogs.data)", "")
	case doc.awslogs != "":
		return d.base64Payload(line, []byte(doc.awslogs))
	case doc.messageType == "CONTROL_MESSAGE":
		return nil // CloudWatch's check that the destination is reachable
	case doc.messageType == "DATA_MESSAGE":
		env = Subscription
	case doc.messageType != "":
		return d.broken(line, RuleBadPayload, "subscription payload has messageType "+strconv.Quote(doc.messageType)+", not DATA_MESSAGE or CONTROL_MESSAGE", "")
	}
	for i := range doc.events {
		ev := &doc.events[i]
		if ev.Message == nil {
			if err := d.broken(ev.line, d.ruleFor(doc), "log event has no \"message\"", ""); err != nil {
				return err
			}
			continue
		}
		d.text = append(d.text[:0], *ev.Message...)
		m := Message{Line: ev.line, Text: d.text, Envelope: env, Group: doc.group, Stream: doc.stream, TimeMs: ev.Timestamp}
		if ev.Stream != "" {
			m.Stream = ev.Stream
		}
		if err := d.emit(&m); err != nil {
			return err
		}
	}
	return nil
}

// readDoc reads one JSON object of dec into doc: the keys of subscription
// payloads (messageType, logGroup, logStream, logEvents: verified against
// the CloudWatch Logs subscription filter and Lambda "Using Lambda with
// CloudWatch Logs" pages), of filter-log-events/get-log-events output
// (events: [{logStreamName, timestamp, message, ingestionTime, eventId}]:
// verified against the API reference's FilteredLogEvent and OutputLogEvent),
// and of a Lambda event from a subscription ({"awslogs": {"data": base64}}).
func readDoc(dec *json.Decoder, data []byte, num int, fixed bool, doc *envDoc) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("a %s, not an object", tokenKind(tok))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		switch key {
		case "messageType":
			err = dec.Decode(&doc.messageType)
		case "logGroup":
			err = dec.Decode(&doc.group)
		case "logStream":
			err = dec.Decode(&doc.stream)
		case "logEvents", "events":
			doc.hasEvents = true
			err = readEvents(dec, data, num, fixed, doc)
		case "awslogs":
			var a struct{ Data string }
			err = dec.Decode(&a)
			doc.awslogs = a.Data
		default:
			doc.hasAWS = doc.hasAWS || key == "_aws"
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return fmt.Errorf("member %q: %w", key, err)
		}
	}
	_, err = dec.Token() // '}'
	return err
}

func readEvents(dec *json.Decoder, data []byte, num int, fixed bool, doc *envDoc) error {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		if err == nil {
			err = errors.New("not an array")
		}
		return err
	}
	for dec.More() {
		line := num
		if !fixed {
			line = num + lineOf(data, int(dec.InputOffset()))
		}
		var ev rawEvent
		if err := dec.Decode(&ev); err != nil {
			return fmt.Errorf("event %d: %w", len(doc.events)+1, err)
		}
		ev.line = line
		doc.events = append(doc.events, ev)
	}
	_, err := dec.Token() // ']'
	return err
}

func tokenKind(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		return "array"
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case bool:
		return "boolean"
	}
	return "null"
}

// lineOf is the number of lines before the first byte of a value at or
// after off (separators skipped).
func lineOf(data []byte, off int) int {
	for off < len(data) {
		c := data[off]
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != ',' {
			break
		}
		off++
	}
	return bytes.Count(data[:off], []byte{'\n'})
}

// base64Payload reads one base64-encoded gzip subscription payload (the
// form Kinesis and Firehose consumers and a subscribed Lambda function see).
func (d *Decoder) base64Payload(num int, b []byte) error {
	b = bytes.TrimSpace(b)
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(b)))
	n, err := base64.StdEncoding.Decode(raw, b)
	if err != nil {
		return d.broken(num, RuleBadPayload, "subscription payload is not valid base64: "+err.Error(), "")
	}
	var err2 error
	if d.zr == nil {
		d.zr, err2 = gzip.NewReader(bytes.NewReader(raw[:n]))
	} else {
		err2 = d.zr.Reset(bytes.NewReader(raw[:n]))
	}
	zr := d.zr
	if err = err2; err != nil {
		d.zr = nil
		return d.broken(num, RuleBadPayload, "subscription payload is not gzip: "+err.Error(), "CloudWatch Logs delivers payloads gzip-compressed, then base64-encoded")
	}
	d.payload.Reset()
	_, err = d.payload.ReadFrom(io.LimitReader(zr, int64(d.cfg.maxDocument)+1))
	data := d.payload.Bytes()
	if err == nil && len(data) > d.cfg.maxDocument {
		err = fmt.Errorf("decompresses to more than %d bytes", d.cfg.maxDocument)
	}
	if err != nil {
		return d.broken(num, RuleBadPayload, "subscription payload: "+err.Error(), "")
	}
	d.inPayload = true
	_, err = d.documents(num, data, true, true)
	d.inPayload = false
	return err
}

// clip quotes the start of b for a message.
func clip(b []byte) string {
	if len(b) > 48 {
		return strconv.Quote(string(b[:48])) + "..."
	}
	return strconv.Quote(string(b))
}

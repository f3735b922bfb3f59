package logsource

import (
	"bytes"
	"time"
)

// line reads one input line.
func (d *Decoder) line(num int, b []byte) error {
	if d.doc.open() {
		return d.continueDocument(num, b)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	switch d.cfg.envelope {
	case Auto:
		return d.autoLine(num, b)
	case Raw:
		return d.raw(num, b, false)
	case Tail:
		if m, ok := d.parseTail(b); ok {
			return d.enveloped(num, &m)
		}
	case TailShort, Export:
		if m, ok := parseTimed(b); ok {
			m.Envelope = d.cfg.envelope
			return d.enveloped(num, &m)
		}
	case Console:
		if m, ok := parseConsole(b, false); ok {
			return d.enveloped(num, &m)
		}
	case Events, Subscription:
		return d.documentLine(num, b, true)
	}
	return d.raw(num, b, true) // a continuation line of a multi-line message
}

// autoLine detects the envelope of one line.
func (d *Decoder) autoLine(num int, b []byte) error {
	switch {
	case b[0] == '{':
		return d.documentLine(num, b, false)
	case bytes.HasPrefix(b, gzipBase64):
		return d.base64Payload(num, b)
	case isDigit(b[0]):
		if m, ok := d.parseTail(b); ok {
			return d.enveloped(num, &m)
		}
		if m, ok := parseTimed(b); ok {
			return d.enveloped(num, &m)
		}
	case b[0] == '[':
		if m, ok := parseConsole(b, true); ok {
			return d.enveloped(num, &m)
		}
	}
	return d.raw(num, b, true)
}

// raw hands over a line without envelope. A continuation line keeps the
// context of the line before it when that came from CloudWatch: `aws logs
// tail` and exports print a multi-line message's later lines as they are
// (lambdabridge's console prefixes every line, so it has none).
func (d *Decoder) raw(num int, b []byte, continuation bool) error {
	m := Message{Line: num, Text: b, Envelope: Raw}
	if e := d.last.Envelope; continuation && (e == Tail || e == TailShort || e == Export) {
		m = d.last
		m.Line, m.Text, m.Diags = num, b, nil
	}
	return d.emit(&m)
}

// enveloped hands over a line with an envelope and remembers its context.
func (d *Decoder) enveloped(num int, m *Message) error {
	m.Line = num
	if m.Envelope == Tail && len(m.Text) == 0 {
		// `aws logs tail --format json` prints a JSON message on the
		// lines after the prefix.
		d.last = *m
		d.doc.start(num, m)
		return nil
	}
	d.last = *m
	d.last.Text = nil
	return d.emit(m)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isoTime reads an ISO 8601 time at the start of b: YYYY-MM-DDTHH:MM:SS,
// optional fraction, optional zone (Z or ±hh:mm). It returns the length
// read, the time in ms (UTC when no zone) and which zone form it had: 0
// none, 'Z', or '+' for an offset.
func isoTime(b []byte) (n int, ms int64, zone byte) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return 0, 0, 0
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if !isDigit(b[i]) {
			return 0, 0, 0
		}
	}
	n = 19
	if n < len(b) && b[n] == '.' {
		n++
		for n < len(b) && isDigit(b[n]) {
			n++
		}
	}
	switch {
	case n < len(b) && b[n] == 'Z':
		zone, n = 'Z', n+1
	case n+6 <= len(b) && (b[n] == '+' || b[n] == '-') && b[n+3] == ':':
		zone, n = '+', n+6
	}
	layout := "2006-01-02T15:04:05.999999999"
	if zone != 0 {
		layout = time.RFC3339Nano
	}
	t, err := time.Parse(layout, string(b[:n]))
	if err != nil {
		return 0, 0, 0
	}
	return n, t.UnixMilli(), zone
}

// parseTail reads "<iso-time with offset> <log-stream> <message>", the
// detailed and json formats of `aws logs tail` (AWS CLI v2,
// awscli/customizations/logs/tail.py: DetailedLogEventsFormatter prints
// timestamp.isoformat(timespec='microseconds'), e.g.
// 2024-05-01T10:00:00.123000+00:00, PrettyJSONLogEventsFormatter
// timestamp.isoformat(); both then the stream name and the message,
// separated by one space; verified in the aws-cli source).
func (d *Decoder) parseTail(b []byte) (Message, bool) {
	n, ms, zone := isoTime(b)
	if n == 0 || zone != '+' || n >= len(b) || b[n] != ' ' {
		return Message{}, false
	}
	rest := b[n+1:]
	sp := bytes.IndexByte(rest, ' ')
	stream, text := rest, []byte(nil)
	if sp >= 0 {
		stream, text = rest[:sp], rest[sp+1:]
	}
	if len(stream) == 0 {
		return Message{}, false
	}
	return Message{Envelope: Tail, Stream: d.intern(stream), TimeMs: ms, Text: text}, true
}

// parseTimed reads "<time> <message>": `aws logs tail --format short`
// (timestamp.strftime("%Y-%m-%dT%H:%M:%S"), no zone, verified in the
// aws-cli source) and CloudWatch Logs exports to S3
// ("2024-05-01T10:00:00.000Z message": the CloudWatch Logs "Exporting log
// data to Amazon S3" page sorts exported lines by their leading time,
// verified; the exact time layout is the one exports are known to carry,
// not stated on that page).
func parseTimed(b []byte) (Message, bool) {
	n, ms, zone := isoTime(b)
	if n == 0 || zone == '+' || n >= len(b) || b[n] != ' ' {
		return Message{}, false
	}
	e := Export
	if zone == 0 {
		e = TailShort
	}
	return Message{Envelope: e, TimeMs: ms, Text: b[n+1:]}, true
}

// parseConsole reads lambdabridge's console prefix "[function env-N] "
// (runner.Console). Detected, it needs the environment ("env-" and
// digits), so that an application line "[Server] started" is not taken
// for one; forced, "[function] " is enough.
func parseConsole(b []byte, detect bool) (Message, bool) {
	end := bytes.Index(b, []byte("] "))
	if len(b) < 4 || b[0] != '[' || end < 2 {
		return Message{}, false
	}
	inner := b[1:end]
	if bytes.ContainsAny(inner, "\t[]") {
		return Message{}, false
	}
	fn, env := inner, []byte(nil)
	if sp := bytes.LastIndexByte(inner, ' '); sp >= 0 {
		fn, env = inner[:sp], inner[sp+1:]
	}
	if len(fn) == 0 || bytes.IndexByte(fn, ' ') >= 0 || detect && !isEnvID(env) {
		return Message{}, false
	}
	return Message{Envelope: Console, Function: string(fn), Environment: string(env), Text: b[end+2:]}, true
}

func isEnvID(b []byte) bool {
	if !bytes.HasPrefix(b, []byte("env-")) || len(b) == 4 {
		return false
	}
	for _, c := range b[4:] {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

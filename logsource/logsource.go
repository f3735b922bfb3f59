// Package logsource reads the logs Lambda users really have and hands over
// each log event's message with what its envelope says about it: the log
// group and stream, the function, the request id, the time. It reads `aws
// logs tail` output (detailed, short, json), `aws logs filter-log-events` and
// `get-log-events` JSON documents, CloudWatch Logs subscription payloads
// (gzip, base64 per line, or decompressed JSON, one per line or
// concatenated), CloudWatch Logs exports to S3 (gzip or not), Lambda's JSON
// log format (application logs wrapped by the managed runtimes), the
// runtimes' text prefixes (Node.js, Python) and lambdabridge's own console
// output. The envelope is detected per line unless one is forced.
//
//	d := logsource.New(logsource.WithFunction("orders"))
//	err := d.Decode(r, "app.log", func(m *logsource.Message) error {
//		return parse(m.Text, m.Line, m.Function, m.RequestID) // the metric parsers
//	})
//
// It is a pure decoder: bytes in, messages and diagnostics out, nothing
// read but r. A broken line or payload is reported with its line number and
// rule, and the lines after it are read as usual.
package logsource

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"

	"github.com/lambdabridge/lambdabridge/logline"
	"github.com/lambdabridge/lambdabridge/metric"
)

// Envelope is the form in which log events reached lambdabridge.
type Envelope uint8

// Envelopes. Auto detects the envelope of every line; the others force one.
const (
	Auto Envelope = iota
	// Raw: one message per line, as the function wrote it.
	Raw
	// Tail: `aws logs tail` detailed (the default) or json format:
	// "<iso-time> <log-stream> <message>", the json format pretty-printing a
	// message that is a JSON object on the lines after.
	Tail
	// TailShort: `aws logs tail --format short`: "<time> <message>".
	TailShort
	// Events: the JSON output of `aws logs filter-log-events` or
	// `get-log-events`, a document with "events": [{"logStreamName",
	// "timestamp", "message", ...}].
	Events
	// Subscription: CloudWatch Logs subscription payloads as a subscription
	// filter delivers them: gzip (a whole file), base64 of gzip (one per
	// line, as Kinesis and Firehose consumers see them, or in a Lambda
	// event's awslogs.data), or the decompressed JSON document.
	Subscription
	// Export: a CloudWatch Logs export to S3: "<iso-time> <message>" lines,
	// gzip-compressed as exported or not.
	Export
	// Console: lambdabridge's own console output, "[function env-N] message".
	Console
)

var envelopeNames = [...]string{"auto", "raw", "aws-tail", "aws-tail-short", "aws-events", "subscription", "s3-export", "console"}

// String returns the envelope's name, as --input-format takes it.
func (e Envelope) String() string {
	if int(e) < len(envelopeNames) {
		return envelopeNames[e]
	}
	return "unknown"
}

// Envelopes lists the names ParseEnvelope accepts.
func Envelopes() []string { return envelopeNames[:] }

// ParseEnvelope returns the envelope called name.
func ParseEnvelope(name string) (Envelope, bool) {
	for i, n := range envelopeNames {
		if n == name {
			return Envelope(i), true
		}
	}
	return Auto, false
}

// Wrapper is how the runtime wrapped a message inside the log event.
type Wrapper uint8

// Wrappers.
const (
	// Bare: the message is the log event, nothing around it.
	Bare Wrapper = iota
	// NodeText: Node.js text format "<iso-time>\t<request id>\t<LEVEL>\t".
	NodeText
	// PythonText: Python's logging in Lambda "[LEVEL]\t<iso-time>\t<request id>\t".
	PythonText
	// JSONApp: the JSON log format's application log
	// {"timestamp","level","requestId","message"}: Text is the message.
	JSONApp
	// JSONPlatform: a platform event of the JSON log format
	// {"time","type":"platform.*","record"}: Text is the whole event.
	JSONPlatform
)

// Message is one log event's message and what lambdabridge knows about it.
type Message struct {
	// Line is the 1-based line of the input where the event starts (for a
	// payload or document, the line of the event within it, or of the
	// payload when it is one line).
	Line int
	// Text is the message without envelope or runtime prefix, trailing
	// newline removed; nil when nothing in it is for the metric parsers
	// (Diags say why). Valid only during the callback.
	Text     []byte
	Envelope Envelope
	Wrapper  Wrapper
	// Group and Stream are the CloudWatch log group and stream, when the
	// envelope says them.
	Group, Stream string
	// Function is the function's name: from a log group /aws/lambda/<name>,
	// the console prefix, or WithFunction.
	Function string
	// Environment is the execution environment of lambdabridge's console
	// prefix ("env-3").
	Environment string
	RequestID   string
	Level       string
	TimeMs      int64 // the event's time, 0 when the envelope has none
	// Diags are the problems found with this message or its envelope. A
	// payload that cannot be read gives one Message with Text nil.
	Diags []metric.Diagnostic
}

// Option configures a Decoder.
type Option func(*config)

type config struct {
	envelope     Envelope
	function     string
	maxEventSize int
	maxLine      int
	maxDocument  int
}

// WithEnvelope forces the envelope of every line (default Auto).
func WithEnvelope(e Envelope) Option { return func(c *config) { c.envelope = e } }

// WithFunction sets the function name of events whose envelope does not
// name it (no /aws/lambda/ log group, no console prefix).
func WithFunction(name string) Option { return func(c *config) { c.function = name } }

// DefaultMaxEventSize is the largest log event CloudWatch Logs stores:
// 1 MB (1,048,576 bytes) per event since April 2025, as the PutLogEvents API
// reference says it now ("Each log event can be no larger than 1 MB";
// verified on docs.aws.amazon.com, API_PutLogEvents; it said 256 KB
// before, and the EMF specification page still says 256 KB, which the emf
// package applies to EMF events).
const DefaultMaxEventSize = 1 << 20

// WithMaxEventSize sets the largest message CloudWatch would keep (default
// DefaultMaxEventSize; 256<<10 for the limit before April 2025): a longer
// one is reported and cut there, as CloudWatch cuts it.
func WithMaxEventSize(n int) Option { return func(c *config) { c.maxEventSize = n } }

// WithMaxDocument bounds a JSON document spread over several lines (a
// pretty-printed filter-log-events output); default 256 MiB.
func WithMaxDocument(n int) Option { return func(c *config) { c.maxDocument = n } }

// Decoder reads log streams. It keeps state across lines (the request
// each log stream is in, a document being read), so use one Decoder per
// input; it is not safe for concurrent use.
type Decoder struct {
	cfg     config
	source  string
	fn      func(*Message) error
	last    Message              // context of the previous enveloped line, for continuation lines
	inReq   map[streamKey]string // stream -> request id between START and REPORT
	recent  [8]string            // recent request ids, streams, levels
	next    int
	zr      *gzip.Reader // reused for base64 payloads
	payload bytes.Buffer // a decompressed payload
	text    []byte       // an event's message
	// inPayload is set while a base64 payload is read (its buffer is in use)
	inPayload bool
	doc       docState            // a JSON document spread over lines
	diags     []metric.Diagnostic // scratch
}

// New returns a Decoder.
func New(opts ...Option) *Decoder {
	c := config{maxEventSize: DefaultMaxEventSize, maxLine: 8 << 20, maxDocument: 256 << 20}
	for _, o := range opts {
		o(&c)
	}
	return &Decoder{cfg: c, inReq: map[streamKey]string{}}
}

// Decode reads r, called source in diagnostics, and calls fn for every log
// event found, in order. It stops at the first error fn returns, or an
// error of r. A gzip input (a subscription payload or an S3 export, by its
// magic bytes) is decompressed first.
func (d *Decoder) Decode(r io.Reader, source string, fn func(*Message) error) error {
	d.source, d.fn = source, fn
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		return d.decodeGzip(br)
	}
	return d.decodeText(br)
}

// decodeText reads line by line.
func (d *Decoder) decodeText(r io.Reader) error {
	err := logline.Scan(r, d.cfg.maxLine, func(l logline.Line) error {
		return d.line(l.Num, l.Bytes)
	})
	if err != nil {
		return err
	}
	return d.endDocument()
}

// decodeGzip reads a gzip stream (several members are read as one, as
// concatenated payloads are): JSON documents when it starts with '{', lines
// otherwise. Damage is reported after the events read before it.
func (d *Decoder) decodeGzip(r io.Reader) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return d.broken(1, RuleBadPayload, "gzip input: "+err.Error(), "")
	}
	defer zr.Close()
	er := &errReader{r: zr}
	err = d.decodeText(er)
	if err != nil && err == er.err {
		return d.broken(1, RuleBadPayload, "gzip input is damaged: "+err.Error()+"; the events before were read", "")
	}
	return err
}

// errReader remembers the error of its reader, to tell it from the
// callback's.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// emit hands m to the callback after the runtime's wrapping is removed.
func (d *Decoder) emit(m *Message) error {
	d.unwrap(m)
	return d.fn(m)
}

// broken reports an input part that could not be read.
func (d *Decoder) broken(line int, rule, msg, hint string) error {
	m := Message{Line: line, Function: d.cfg.function}
	m.Diags = append(d.diags[:0], metric.Diagnostic{
		Origin: metric.Origin{Source: d.source, Line: line, Function: d.cfg.function}, Severity: metric.Error,
		Rule: rule, Message: msg, Effect: metric.EffectDropsEvent, Hint: hint,
	})
	return d.fn(&m)
}

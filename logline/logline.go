// Package logline finds the metrics in a function's log output: it hands
// each line to the parser of the format it holds (CloudWatch EMF, Datadog
// MONITORING lines, Datadog JSON metric lines) and reads log streams line by
// line without ever losing the lines around a broken or oversized one.
//
//	p := logline.New()
//	var b metric.Batch
//	format := p.Parse(&b, []byte(line), metric.Origin{Source: "fn.log", Line: 7})
package logline

import (
	"bytes"
	"time"

	"github.com/lambdabridge/lambdabridge/dogstatsd"
	"github.com/lambdabridge/lambdabridge/emf"
	"github.com/lambdabridge/lambdabridge/metric"
)

// Parser dispatches log lines to the format parsers. It is not safe for
// concurrent use (the parsers keep scratch memory and cross-line state).
type Parser struct {
	emf *emf.Parser
	dd  *dogstatsd.Parser
}

// Option configures a Parser.
type Option func(*config)

type config struct {
	now          func() time.Time
	maxEventSize int
}

// WithClock sets the clock EMF timestamps are checked against.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithMaxEventSize sets the largest EMF event CloudWatch would process.
func WithMaxEventSize(n int) Option { return func(c *config) { c.maxEventSize = n } }

// New returns a Parser for every log-line format.
func New(opts ...Option) *Parser {
	var c config
	for _, o := range opts {
		o(&c)
	}
	var eo []emf.Option
	if c.now != nil {
		eo = append(eo, emf.WithClock(c.now))
	}
	if c.maxEventSize > 0 {
		eo = append(eo, emf.WithMaxEventSize(c.maxEventSize))
	}
	return &Parser{emf: emf.NewParser(eo...), dd: dogstatsd.NewParser()}
}

var monitoringTag = []byte("MONITORING|")

// Parse appends the points and diagnostics of one log line to b and returns
// the format the line holds, or metric.FormatUnknown for an ordinary log line
// (nothing appended).
func (p *Parser) Parse(b *metric.Batch, line []byte, o metric.Origin) metric.Format {
	brace := bytes.IndexByte(line, '{')
	if brace >= 0 {
		if p.emf.Parse(b, line, o) {
			return metric.FormatEMF
		}
	}
	if bytes.Contains(line, monitoringTag) {
		if p.dd.Monitoring(b, line, o) {
			return metric.FormatMonitoring
		}
	}
	if brace >= 0 {
		if p.dd.JSON(b, line, o) {
			return metric.FormatDatadogJSON
		}
	}
	return metric.FormatUnknown
}

// Finish appends the diagnostics that need the whole input (for example an
// EMF dimension whose value was different in every event).
func (p *Parser) Finish(b *metric.Batch) {
	p.emf.Finish(b)
}

// Datagram parses one DogStatsD UDP payload.
func (p *Parser) Datagram(b *metric.Batch, payload []byte, o metric.Origin) {
	p.dd.Datagram(b, payload, o)
}

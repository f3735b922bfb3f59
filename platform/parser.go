package platform

import (
	"bytes"
	"strconv"
	"time"

	"github.com/lambdabridge/lambdabridge/metric"
)

// Rule ids of the diagnostics the parser gives.
const (
	// RuleBadReport: a REPORT line or platform.report event lambdabridge
	// cannot read (no request id, a Duration that is not "N ms", ...): the
	// invocation is not counted.
	RuleBadReport = "platform/bad-report"
	// RuleBadEvent: a JSON platform event that is not valid JSON or has no
	// record object.
	RuleBadEvent = "platform/bad-event"
	// RuleLogsDropped: a platform.logsDropped event, Lambda's word that it
	// dropped log records (produced faster than delivered): the metric
	// lines in them never reach CloudWatch.
	RuleLogsDropped = "platform/logs-dropped"
)

// Option configures a Parser.
type Option func(*Parser)

// WithArchitecture sets the architecture the cost is estimated for
// ("arm64" or "x86_64", the default): the log does not say it.
func WithArchitecture(arch string) Option { return func(p *Parser) { p.arch = arch } }

// WithPerEnvironment labels the points with lambda_environment (the log
// stream, or the environment of lambdabridge's console prefix), as `run
// --per-environment` does.
func WithPerEnvironment(on bool) Option { return func(p *Parser) { p.perEnv = on } }

// Context is where a line comes from: its origin (source, line, function,
// request id when the envelope says it), the log stream (one per execution
// environment on Lambda) and the event's time (0 when unknown).
type Context struct {
	Origin metric.Origin
	Stream string
	TimeMs int64
}

// Parser reads platform lines of any number of functions and keeps the
// state that spans lines: which environments are initialising (their next
// REPORT is a cold start), which requests timed out, how many run at once.
// It is not safe for concurrent use.
type Parser struct {
	arch    string
	perEnv  bool
	fns     map[string]*fnState
	streams map[streamKey]*streamState
	// timedOut holds the requests with a "Task timed out" line (or a
	// runtimeDone with status timeout) until their REPORT.
	timedOut map[streamKey]bool
	r        Report
	labels   []metric.Label
}

type streamKey struct{ function, stream string }

type fnState struct {
	running int
}

type streamState struct {
	coldPending bool
	initDur     time.Duration
}

// NewParser returns a Parser.
func NewParser(opts ...Option) *Parser {
	p := &Parser{fns: map[string]*fnState{}, streams: map[streamKey]*streamState{}, timedOut: map[streamKey]bool{}}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Line reads one log message (the text the function or the platform wrote,
// envelope removed) and appends the points and diagnostics it gives to b. It
// returns false, appending nothing, for a line that is not a platform line.
func (p *Parser) Line(b *metric.Batch, line []byte, c Context) bool {
	line = bytes.TrimRight(line, " \t\r\n")
	switch {
	case bytes.HasPrefix(line, []byte("REPORT RequestId:")):
		p.report(b, line, c)
	case bytes.HasPrefix(line, []byte("START RequestId:")):
		p.start(b, c, field(line, "START RequestId:"))
	case bytes.HasPrefix(line, []byte("END RequestId:")):
	case bytes.HasPrefix(line, []byte("INIT_START")):
		p.stream(c).coldPending = true
	case bytes.HasPrefix(line, []byte("INIT_REPORT")):
		if !bytes.Contains(line, []byte("Phase: invoke")) { // a suppressed init is no cold start
			p.initReport(c, parseDur(fieldValue(line, "Init Duration:")))
		}
	case isTimeoutLine(line):
		p.timeout(c, line)
	case len(line) > 0 && line[0] == '{' && bytes.Contains(line, []byte(`"platform.`)):
		return p.event(b, line, c)
	default:
		return false
	}
	return true
}

// fn returns the state of c's function, creating it (and its zero points)
// on first sight.
func (p *Parser) fn(b *metric.Batch, c Context) *fnState {
	s, ok := p.fns[c.Origin.Function]
	if !ok {
		s = &fnState{}
		p.fns[c.Origin.Function] = s
		p.emitter(c).Zero(b, c.Origin, c.TimeMs)
	}
	return s
}

func (p *Parser) stream(c Context) *streamState {
	k := streamKey{c.Origin.Function, c.Stream}
	s, ok := p.streams[k]
	if !ok {
		s = &streamState{}
		p.streams[k] = s
	}
	return s
}

// emitter labels the points of c's function as `run` does: function_name
// (none when the log does not say the function: no /aws/lambda/ group, no
// console prefix, no --function) and, per environment, lambda_environment.
func (p *Parser) emitter(c Context) *Emitter {
	p.labels = p.labels[:0]
	if c.Origin.Function != "" {
		p.labels = append(p.labels, metric.Label{Name: "function_name", Value: c.Origin.Function})
	}
	env := c.Origin.Environment
	if env == "" {
		env = c.Stream
	}
	if p.perEnv && env != "" {
		p.labels = append(p.labels, metric.Label{Name: "lambda_environment", Value: env})
	}
	return &Emitter{Labels: p.labels, Arch: p.arch}
}

func (p *Parser) start(b *metric.Batch, c Context, reqID string) {
	if reqID != "" {
		c.Origin.RequestID = reqID
	}
	s := p.fn(b, c)
	s.running++
	p.emitter(c).Concurrent(b, c.Origin, c.TimeMs, s.running)
}

func (p *Parser) initReport(c Context, d time.Duration) {
	s := p.stream(c)
	s.coldPending = true
	if d > 0 {
		s.initDur = d
	}
}

var timedOut = []byte("Task timed out after ")

// isTimeoutLine recognises Lambda's "[<time> ]<request id> Task timed out
// after 3.00 seconds", not an application line that quotes it.
func isTimeoutLine(line []byte) bool {
	i := bytes.Index(line, timedOut)
	return i >= 0 && len(bytes.Fields(line[:i])) <= 2 && bytes.HasSuffix(line, []byte(" seconds"))
}

// timeout reads "[<time> ]<request id> Task timed out after 3.00 seconds":
// the request's REPORT counts a timeout.
func (p *Parser) timeout(c Context, line []byte) {
	i := bytes.Index(line, timedOut)
	id := c.Origin.RequestID
	if f := bytes.Fields(line[:i]); len(f) > 0 {
		id = string(f[len(f)-1])
	}
	p.markTimeout(c, id)
}

// finish counts one invocation from p.r.
func (p *Parser) finish(b *metric.Batch, c Context) {
	r := &p.r
	c.Origin.RequestID = r.RequestID
	s := p.fn(b, c)
	st := p.stream(c)
	if st.coldPending || r.InitDuration > 0 || r.RestoreDuration > 0 {
		r.ColdStart = true
		if r.InitDuration == 0 {
			r.InitDuration = st.initDur
		}
	}
	st.coldPending, st.initDur = false, 0
	k := streamKey{c.Origin.Function, r.RequestID}
	if p.timedOut[k] || r.Status == StatusTimeout {
		r.TimedOut = true
	}
	delete(p.timedOut, k)
	e := p.emitter(c)
	e.Points(b, c.Origin, c.TimeMs, r)
	if s.running > 0 {
		s.running--
		e.Concurrent(b, c.Origin, c.TimeMs, s.running)
	}
}

func diag(b *metric.Batch, c Context, rule, msg, hint string) {
	b.AddDiag(metric.Diagnostic{
		Origin: c.Origin, Format: metric.FormatPlatform, Severity: metric.Error,
		Rule: rule, Message: msg, Effect: metric.EffectDropsEvent, Hint: hint,
	})
}

// parseDur reads "12.34 ms" (or "12.34ms"); 0 when it is not that.
func parseDur(v string) time.Duration {
	d, ok := parseMs(v)
	if !ok {
		return 0
	}
	return d
}

func parseMs(v string) (time.Duration, bool) {
	num := v
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == ' ' || c == 'm' {
			num = v[:i]
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || f > 1e12 || num == v {
		return 0, false
	}
	return time.Duration(f * float64(time.Millisecond)), true
}

// parseMB reads "128 MB"; -1 when it is not that.
func parseMB(v string) int {
	num, _, _ := cut(v, ' ')
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

func cut(s string, sep byte) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// field returns the first word after prefix.
func field(line []byte, prefix string) string {
	rest := bytes.TrimLeft(line[len(prefix):], " ")
	if i := bytes.IndexAny(rest, " \t"); i >= 0 {
		rest = rest[:i]
	}
	return string(rest)
}

// fieldValue returns the value of a "Key: value" field of a tab-separated
// platform line ("" when absent).
func fieldValue(line []byte, key string) string {
	i := bytes.Index(line, []byte(key))
	if i < 0 {
		return ""
	}
	rest := line[i+len(key):]
	if j := bytes.IndexByte(rest, '\t'); j >= 0 {
		rest = rest[:j]
	}
	return string(bytes.TrimSpace(rest))
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strconv.Quote(s)
}

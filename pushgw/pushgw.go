// Package pushgw is the Pushgateway sink: it pushes what a Gatherer holds
// (the aggregation) to a Prometheus Pushgateway, as client_golang's
// prometheus/push does (its body, URL and status checks, but a grouping
// value's space is path-escaped, not a "+"), after every
// invocation (Push) or every interval (Run), and can delete its group when
// the run ends.
//
//	sink, err := pushgw.New(pushgw.Config{URL: "http://127.0.0.1:9091", Job: "lambdabridge"})
//	if err != nil { return err }
//	err = sink.Push(ctx, agg) // or: sink.Run(ctx, agg) with Config.Interval set
//
// # The Pushgateway is not an aggregator
//
// A push replaces what the Pushgateway holds for its grouping key (job plus
// grouping labels): PUT replaces the whole group, POST the families pushed.
// Two pushers that share a grouping key therefore overwrite each other: if
// pusher A pushes a counter of 5 and pusher B then pushes 3 for the same
// series, the Pushgateway shows 3, not 8, and rate() sees a counter reset.
// Give every pusher its own grouping key (for example an instance label per
// function environment) so that each group survives, and sum across groups
// in PromQL: sum without (instance) (rate(x_total[5m])). lambdabridge
// aggregates before pushing, so one lambdabridge process needs one pusher per
// grouping key; several processes pushing the same job need distinct
// grouping labels. A group also stays on the Pushgateway until it is deleted,
// so a dead environment's last values linger: set DeleteOnEnd, and scrape the
// Pushgateway with honor_labels: true so that the pushed job and instance
// labels are kept.
//
// Pushed values are cumulative (the whole state every time), so a failed push
// is made good by the next one; the sink does not retry. Pushes are
// serialized, so an older snapshot never overwrites a newer one.
package pushgw

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Gatherer is what a sink pushes: the aggregation (a prometheus.Gatherer
// is one).
type Gatherer interface {
	Gather() ([]*dto.MetricFamily, error)
}

// HTTPDoer sends the sink's requests (an *http.Client is one).
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// pushFormat is the body's format: delimited protobuf, client_golang's
// push default.
var pushFormat = expfmt.NewFormat(expfmt.TypeProtoDelim)

// Method is how a push replaces what the Pushgateway holds.
type Method string

const (
	// MethodPut (HTTP PUT) replaces every metric of the group.
	MethodPut Method = "put"
	// MethodPost (HTTP POST) replaces only the families pushed; others of
	// the group stay.
	MethodPost Method = "post"
)

// BasicAuth holds credentials for the Pushgateway (as in Prometheus'
// basic_auth block). They are never logged nor used as labels.
type BasicAuth struct {
	Username     string `yaml:"username"`
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
}

// Config is one Pushgateway sink.
type Config struct {
	// URL of the Pushgateway, e.g. http://127.0.0.1:9091. Credentials in it
	// (user:pass@) are used as basic auth and removed from the URL.
	URL string `yaml:"url"`
	// Job is the job label of the grouping key (required).
	Job string `yaml:"job"`
	// Grouping labels added to the grouping key, e.g. {"instance": "env-1"}.
	Grouping map[string]string `yaml:"grouping"`
	// Method is put (default) or post.
	Method Method `yaml:"method"`
	// Interval, when > 0, makes Run push every Interval; 0 means the caller
	// pushes after every invocation with Push.
	Interval time.Duration `yaml:"interval"`
	// DeleteOnEnd deletes the group when the run ends (Finish, or Run when
	// its ctx ends) instead of pushing a last time.
	DeleteOnEnd bool       `yaml:"delete_on_end"`
	BasicAuth   *BasicAuth `yaml:"basic_auth"`
	// Timeout bounds one request (default 10s).
	Timeout time.Duration `yaml:"timeout"`
}

// Option configures a Sink.
type Option func(*Sink)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(s *Sink) { s.log = l }
}

// WithHTTPClient sets the HTTP client (default: an http.Client with
// Config.Timeout).
func WithHTTPClient(c HTTPDoer) Option {
	return func(s *Sink) { s.client = c }
}

// Sink pushes to one Pushgateway group. It is safe for concurrent use;
// pushes are serialized. Create it with New.
type Sink struct {
	cfg      Config
	url      string // without credentials
	user     string
	password string
	useAuth  bool
	client   HTTPDoer
	pushURL  string // the group's URL (groupPath, pushable)
	log      *slog.Logger
	stats    *stats
	lastErr  atomic.Pointer[string]

	mu sync.Mutex // serializes pushes and deletes
}

// StatusError is a non-2xx reply of the Pushgateway.
type StatusError struct {
	Method string // PUT, POST or DELETE
	URL    string // the group URL, without credentials
	Code   int
	Body   string // at most 512 bytes
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.Method, e.URL, e.Code, strings.TrimSpace(e.Body))
}

// New checks cfg and returns a sink.
func New(cfg Config, opts ...Option) (*Sink, error) {
	if cfg.Job == "" {
		return nil, errors.New("pushgw: config: job is required")
	}
	switch cfg.Method {
	case "":
		cfg.Method = MethodPut
	case MethodPut, MethodPost:
	default:
		return nil, fmt.Errorf("pushgw: config: method %q: want put or post", cfg.Method)
	}
	for name := range cfg.Grouping {
		if name == "job" {
			return nil, errors.New("pushgw: config: grouping label \"job\": set Job instead")
		}
		if !validLabelName(name) {
			return nil, fmt.Errorf("pushgw: config: grouping label name %q is invalid", name)
		}
	}
	if cfg.Interval < 0 {
		return nil, fmt.Errorf("pushgw: config: interval %v is negative", cfg.Interval)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold credentials
		}
		return nil, fmt.Errorf("pushgw: config: url: want http(s)://host:port: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("pushgw: config: url %q: want http(s)://host:port", u.Redacted())
	}
	s := &Sink{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if u.User != nil {
		s.user = u.User.Username()
		s.password, _ = u.User.Password()
		s.useAuth = true
		u.User = nil
	}
	if ba := cfg.BasicAuth; ba != nil {
		s.user, s.password, s.useAuth = ba.Username, ba.Password, true
		if ba.PasswordFile != "" {
			b, err := os.ReadFile(ba.PasswordFile)
			if err != nil {
				return nil, fmt.Errorf("pushgw: config: basic_auth password_file: %w", err)
			}
			s.password = strings.TrimSpace(string(b))
		}
	}
	s.url = strings.TrimSuffix(u.String(), "/")
	s.pushURL = s.url + "/metrics/" + groupPath(cfg, pushable)
	for _, o := range opts {
		o(s)
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: cfg.Timeout}
	}
	s.stats = newStats(u.Scheme+"://"+u.Host, groupPath(cfg, readable))
	return s, nil
}

// redactErr keeps a url.Error from printing credentials.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			ue.URL = u.Redacted()
		} else {
			ue.URL = "(unparsable)"
		}
	}
	return err
}

func validLabelName(n string) bool {
	if n == "" || strings.HasPrefix(n, "__") {
		return false
	}
	for i, r := range n {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// GroupURL is the URL of the sink's group (without credentials).
func (s *Sink) GroupURL() string { return s.url + "/metrics/" + groupPath(s.cfg, readable) }

// groupPath is the grouping key as a URL path, labels sorted:
// job/<job>[/<label>/<value>...], each component written by component
// (readable or pushable).
func groupPath(cfg Config, component func(name, value string) string) string {
	parts := []string{component("job", cfg.Job)}
	for _, k := range slices.Sorted(maps.Keys(cfg.Grouping)) {
		parts = append(parts, component(k, cfg.Grouping[k]))
	}
	return strings.Join(parts, "/")
}

// readable writes a grouping key's component for people (GroupURL, the
// group label of the sink's own metrics): the value path-escaped.
func readable(name, value string) string { return name + "/" + url.PathEscape(value) }

// pushable writes a grouping key's component as the Pushgateway reads it
// in a push's URL: a value that is empty or holds a slash is base64
// (RawURLEncoding, "=" for empty) under <label>@base64, others
// path-escaped. (client_golang's push query-escapes them: a space becomes
// "+", which the Pushgateway keeps as a plus.)
func pushable(name, value string) string {
	switch {
	case value == "":
		return name + "@base64/="
	case strings.Contains(value, "/"):
		return name + "@base64/" + base64.RawURLEncoding.EncodeToString([]byte(value))
	}
	return readable(name, value)
}

// Push gathers g and pushes the result with the configured method. Sample
// timestamps are removed (the Pushgateway rejects them). A gather error
// with nothing gathered fails the push; a partial gather is pushed and the
// error logged. Failures are counted by reason (see Collector).
func (s *Sink) Push(ctx context.Context, g Gatherer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	mfs, gerr := g.Gather()
	if gerr != nil && len(mfs) == 0 {
		s.stats.failed(reasonGather, 0)
		return fmt.Errorf("pushgw: push to %s: gather: %w", s.GroupURL(), gerr)
	}
	if gerr != nil {
		s.log.Warn("partial gather, pushing what was gathered", "err", gerr)
	}
	mfs, stripped := stripTimestamps(mfs)
	if stripped > 0 {
		s.log.Debug("removed sample timestamps before pushing", "samples", stripped)
	}
	n := countSamples(mfs)

	method, httpMethod := s.cfg.Method, http.MethodPut
	if method == MethodPost {
		httpMethod = http.MethodPost
	}
	rec := &recorder{next: s.client, ctx: ctx}
	body, err := s.encode(mfs)
	if err == nil {
		err = s.send(ctx, httpMethod, body, rec)
	}
	if err != nil {
		reason := classify(ctx, rec, err)
		s.stats.failed(reason, n)
		err = s.wrap("push", httpMethod, rec, err)
		s.noteErr(err)
		s.log.Warn("push failed", "url", s.GroupURL(), "reason", reason, "samples", n, "err", err)
		return err
	}
	s.stats.pushed(string(method), n)
	s.log.Debug("pushed", "url", s.GroupURL(), "method", method, "families", len(mfs), "samples", n)
	return nil
}

// Delete removes the sink's group from the Pushgateway.
func (s *Sink) Delete(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := &recorder{next: s.client, ctx: ctx}
	if err := s.send(ctx, http.MethodDelete, nil, rec); err != nil {
		reason := classify(ctx, rec, err)
		s.stats.deleted(reason)
		err = s.wrap("delete", http.MethodDelete, rec, err)
		s.noteErr(err)
		s.log.Warn("delete failed", "url", s.GroupURL(), "reason", reason, "err", err)
		return err
	}
	s.stats.deleted("ok")
	s.log.Debug("deleted group", "url", s.GroupURL())
	return nil
}

// Finish ends the run: it deletes the group when DeleteOnEnd is set, else
// it pushes g a last time.
func (s *Sink) Finish(ctx context.Context, g Gatherer) error {
	if s.cfg.DeleteOnEnd {
		return s.Delete(ctx)
	}
	return s.Push(ctx, g)
}

// Run pushes g every Config.Interval (if > 0) until ctx ends, then calls
// Finish with a fresh context bounded by Config.Timeout. Failed pushes are
// logged and counted, and the next tick pushes again. It returns the error
// of Finish, or nil.
func (s *Sink) Run(ctx context.Context, g Gatherer) error {
	if s.cfg.Interval > 0 {
		tick := time.NewTicker(s.cfg.Interval)
		defer tick.Stop()
	loop:
		for {
			select {
			case <-ctx.Done():
				break loop
			case <-tick.C:
				_ = s.Push(ctx, g) // counted and logged; the next push carries the same state
			}
		}
	} else {
		<-ctx.Done()
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
	defer cancel()
	return s.Finish(fctx, g)
}

// encode writes mfs as the push's body, refusing a metric that has a job
// label or one of the grouping labels (the Pushgateway would refuse it).
func (s *Sink) encode(mfs []*dto.MetricFamily) ([]byte, error) {
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, pushFormat)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "job" {
					return nil, fmt.Errorf("pushed metric %s (%s) already contains a job label", mf.GetName(), m)
				}
				if _, ok := s.cfg.Grouping[l.GetName()]; ok {
					return nil, fmt.Errorf("pushed metric %s (%s) already contains grouping label %s", mf.GetName(), m, l.GetName())
				}
			}
		}
		if err := enc.Encode(mf); err != nil {
			return nil, fmt.Errorf("failed to encode metric family %s, error is %w", mf.GetName(), err)
		}
	}
	return buf.Bytes(), nil
}

// send makes one request to the group's URL: a push (PUT or POST) of body,
// which the Pushgateway accepts with 200 or 202, or a DELETE, with 202.
// rec keeps the reply's status and the start of an error body.
func (s *Sink) send(ctx context.Context, method string, body []byte, rec *recorder) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.pushURL, r)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "lambdabridge-pushgw")
	if s.useAuth {
		req.SetBasicAuth(s.user, s.password)
	}
	if body != nil {
		req.Header.Set("Content-Type", string(pushFormat))
	}
	resp, err := rec.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK && method != http.MethodDelete {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096)) // the connection is reused
		return nil
	}
	return fmt.Errorf("unexpected status code %d", resp.StatusCode) // wrap makes it a StatusError
}

// wrap turns a push error into one naming the operation, with a
// StatusError for a non-2xx reply.
func (s *Sink) wrap(op, method string, rec *recorder, err error) error {
	if rec.status != 0 { // a reply push did not accept
		return fmt.Errorf("pushgw: %s: %w", op, &StatusError{Method: method, URL: s.GroupURL(), Code: rec.status, Body: string(rec.body)})
	}
	return fmt.Errorf("pushgw: %s %s: %w", op, s.GroupURL(), redactErr(err))
}

// recorder is the HTTP client of one request: it binds the request to ctx,
// remembers the status and keeps a bounded part of an error body.
type recorder struct {
	next   HTTPDoer
	ctx    context.Context
	status int
	body   []byte
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	if r.ctx != nil {
		req = req.WithContext(r.ctx)
	}
	resp, err := r.next.Do(req)
	if err != nil {
		return nil, err
	}
	r.status = resp.StatusCode
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		r.body = b
		resp.Body = io.NopCloser(bytes.NewReader(b))
	}
	return resp, nil
}

// Failure reasons (the reason label).
const (
	reasonGather    = "gather"     // the gatherer failed
	reasonInvalid   = "invalid"    // refused before sending (e.g. a pushed metric has a job or grouping label)
	reasonTimeout   = "timeout"    // the request timed out
	reasonCanceled  = "canceled"   // ctx was canceled
	reasonNetwork   = "network"    // connection refused, DNS, reset...
	reasonHTTP4xx   = "http_4xx"   // the Pushgateway refused the push (e.g. 400: inconsistent or timestamped metrics)
	reasonHTTP5xx   = "http_5xx"   // the Pushgateway failed
	reasonHTTPOther = "http_other" // another unexpected status
)

func classify(ctx context.Context, rec *recorder, err error) string {
	switch {
	case rec.status >= 400 && rec.status < 500:
		return reasonHTTP4xx
	case rec.status >= 500:
		return reasonHTTP5xx
	case rec.status != 0:
		return reasonHTTPOther
	case errors.Is(err, context.Canceled) || ctx.Err() == context.Canceled:
		return reasonCanceled
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return reasonTimeout
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) {
		return reasonNetwork
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return reasonNetwork
	}
	return reasonInvalid
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// stripTimestamps returns families whose metrics carry no timestamp,
// sharing everything else with mfs (which is not modified), and how many
// timestamps it removed.
func stripTimestamps(mfs []*dto.MetricFamily) ([]*dto.MetricFamily, int) {
	n := 0
	out := make([]*dto.MetricFamily, 0, len(mfs))
	for _, mf := range mfs {
		has := false
		for _, m := range mf.GetMetric() {
			if m.TimestampMs != nil {
				has = true
				break
			}
		}
		if !has {
			out = append(out, mf)
			continue
		}
		c := &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type, Unit: mf.Unit}
		c.Metric = make([]*dto.Metric, len(mf.Metric))
		for i, m := range mf.Metric {
			if m.TimestampMs != nil {
				n++
			}
			c.Metric[i] = &dto.Metric{
				Label: m.Label, Gauge: m.Gauge, Counter: m.Counter, Summary: m.Summary,
				Untyped: m.Untyped, Histogram: m.Histogram,
			}
		}
		out = append(out, c)
	}
	return out, n
}

// countSamples counts samples as the text format would expose them: one per
// counter, gauge or untyped metric; quantiles + 2 per summary; buckets
// (with +Inf) + 2 per classic histogram; 3 per native-only histogram
// (count, sum and the histogram).
func countSamples(mfs []*dto.MetricFamily) int {
	n := 0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.Summary != nil:
				n += len(m.Summary.GetQuantile()) + 2
			case m.Histogram != nil:
				b := len(m.Histogram.GetBucket())
				if b == 0 {
					n += 3
					continue
				}
				if last := m.Histogram.GetBucket()[b-1]; last.GetUpperBound() < 1e308 {
					b++ // +Inf is implicit
				}
				n += b + 2
			default:
				n++
			}
		}
	}
	return n
}

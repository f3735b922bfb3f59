package remotewrite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// ErrClosed is returned by Append, Run and Flush after Close.
var ErrClosed = errors.New("remote write: writer closed")

// ErrDropped is wrapped by the errors of Flush and Close when samples could not
// be delivered; the error text gives the counts by reason.
var ErrDropped = errors.New("samples dropped")

// DefaultInterval is how often Run gathers when WithInterval is not given.
const DefaultInterval = 15 * time.Second

// Option configures a Writer.
type Option func(*options)

type options struct {
	logger   *slog.Logger
	now      func() time.Time
	interval time.Duration
	gatherer prometheus.Gatherer
	version  string
	external map[string]string
}

// WithLogger sets the logger (default: discard). Nothing secret is logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithClock sets the clock that timestamps gathered samples (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithInterval sets how often Run gathers (default DefaultInterval).
func WithInterval(d time.Duration) Option { return func(o *options) { o.interval = d } }

// WithGatherer sets the gatherer Flush and Close use before Run was called.
func WithGatherer(g prometheus.Gatherer) Option { return func(o *options) { o.gatherer = g } }

// WithVersion sets the version in the User-Agent "lambdabridge/<version>".
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// WithExternalLabels adds labels to every series that lacks them, like
// Prometheus' global external_labels.
func WithExternalLabels(l map[string]string) Option {
	return func(o *options) { o.external = l }
}

// Writer sends gathered metrics to one remote_write receiver. Its methods are
// safe for concurrent use. A Writer implements prometheus.Collector with its
// own accounting (lambdabridge_remote_write_samples_total and the queue
// gauges), labelled remote=<name, or a hash of the whole entry> (Config.RemoteName).
type Writer struct {
	cfg       Config
	url       string // as configured, for requests only
	display   string // no credentials, no query: for logs and errors
	remote    string
	log       *slog.Logger
	now       func() time.Time
	interval  time.Duration
	userAgent string
	client    *http.Client
	auth      func(ctx context.Context, req *http.Request, body []byte) error

	convMu   sync.Mutex
	conv     *converter
	scratch  []sample
	gatherer prometheus.Gatherer
	closed   bool

	q            *queue
	cnt          counters
	flushDropped atomic.Int64 // dropped total reported by the last Flush
	lastErr      atomic.Pointer[string]
	coll         *collector
	enc          encoder

	kill     context.Context
	killFunc context.CancelFunc
	done     chan struct{}
}

// New validates cfg (zero values take Prometheus' defaults), prepares TLS and
// authentication (loading AWS credentials configuration for sigv4) and starts
// the sending goroutine. Call Close to stop it.
func New(cfg Config, opts ...Option) (*Writer, error) {
	o := options{logger: slog.New(slog.DiscardHandler), now: time.Now, interval: DefaultInterval, version: "dev"}
	for _, f := range opts {
		f(&o)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new remote writer: %w", err)
	}
	cfg = cfg.withDefaults()
	u, _ := url.Parse(cfg.URL) // validated
	w := &Writer{
		cfg:       cfg,
		url:       cfg.URL,
		display:   redactURL(u),
		remote:    cfg.RemoteName(),
		now:       o.now,
		interval:  o.interval,
		userAgent: "lambdabridge/" + o.version,
		conv:      newConverter(o.external, cfg.SendNativeHistograms),
		gatherer:  o.gatherer,
		q:         newQueue(cfg.QueueConfig.Capacity),
		done:      make(chan struct{}),
	}
	w.log = o.logger.With("remote", w.remote, "url", w.display)
	if w.interval <= 0 {
		w.interval = DefaultInterval
	}
	var err error
	if w.client, err = newHTTPClient(cfg.TLSConfig); err != nil {
		return nil, fmt.Errorf("new remote writer %s: %w", w.display, err)
	}
	if w.auth, err = newAuth(cfg); err != nil {
		return nil, fmt.Errorf("new remote writer %s: %w", w.display, err)
	}
	w.coll = newCollector(&w.cnt, w.q, w.remote, cfg.QueueConfig.Capacity)
	w.kill, w.killFunc = context.WithCancel(context.Background())
	go w.sendLoop()
	return w, nil
}

// Describe implements prometheus.Collector.
func (w *Writer) Describe(ch chan<- *prometheus.Desc) { w.coll.Describe(ch) }

// Collect implements prometheus.Collector.
func (w *Writer) Collect(ch chan<- prometheus.Metric) { w.coll.Collect(ch) }

// Stats returns the writer's accounting so far.
func (w *Writer) Stats() Stats { return w.cnt.snapshot() }

// Name is the value of the writer's "remote" label: the configured name, or a
// hash of the whole entry (Config.RemoteName).
func (w *Writer) Name() string { return w.remote }

// Run gathers g every interval and queues the result until ctx ends; it
// returns nil then. Sending happens in the background: call Flush to wait for
// delivery and Close to drain at shutdown.
func (w *Writer) Run(ctx context.Context, g prometheus.Gatherer) error {
	w.convMu.Lock()
	if w.closed {
		w.convMu.Unlock()
		return ErrClosed
	}
	w.gatherer = g
	w.convMu.Unlock()
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := w.gather(g); errors.Is(err, ErrClosed) {
				return err
			} else if err != nil {
				w.log.Warn("remote write gather failed", "err", err)
			}
		}
	}
}

func (w *Writer) gather(g prometheus.Gatherer) error {
	fams, err := g.Gather()
	if err != nil && len(fams) == 0 {
		return fmt.Errorf("remote write %s: gather: %w", w.display, err)
	}
	if err != nil {
		w.log.Warn("remote write gather incomplete", "err", err)
	}
	return w.append(fams, time.Time{})
}

// Append queues families as one complete gather at ts: series absent from
// families that were present before get a stale marker. A sample at or before
// its series' last timestamp is dropped as out_of_order, unless it repeats the
// last sample exactly (then it is skipped). It never blocks on the network;
// samples that do not fit in the queue are dropped and counted.
func (w *Writer) Append(families []*dto.MetricFamily, ts time.Time) error {
	return w.append(families, ts)
}

// append converts under convMu, so per-series timestamps enter the queue in
// order. A zero ts means now, read under the lock: gathers within one
// millisecond skip unchanged samples and move changed ones 1 ms after the
// series' last sample, so a last gather is never lost.
func (w *Writer) append(families []*dto.MetricFamily, ts time.Time) error {
	w.convMu.Lock()
	defer w.convMu.Unlock()
	if w.closed {
		return ErrClosed
	}
	clock := ts.IsZero()
	if clock {
		ts = w.now()
	}
	w.scratch = w.conv.convert(w.scratch[:0], families, ts.UnixMilli(), clock, w.dropNew)
	w.enqueue(w.scratch)
	clear(w.scratch)
	return nil
}

func (w *Writer) enqueue(s []sample) {
	w.cnt.emitted.Add(int64(len(s)))
	w.cnt.pending.Add(int64(len(s)))
	if full := w.q.push(s, time.Now()); full > 0 {
		w.cnt.pending.Add(-int64(full))
		w.cnt.dropped[reasonQueueFull].Add(int64(full))
		w.log.Warn("remote write queue full, samples dropped", "samples", full, "capacity", w.cfg.QueueConfig.Capacity)
	}
}

// dropNew counts samples dropped before they were queued.
func (w *Writer) dropNew(r reason, n int) {
	w.cnt.emitted.Add(int64(n))
	w.cnt.dropped[r].Add(int64(n))
}

// Flush gathers now (when a gatherer is known from Run or WithGatherer), then
// waits until everything queued so far is delivered or dropped, or ctx ends.
// The error wraps ErrDropped when samples were dropped since the previous
// Flush (or New); Stats has the reasons.
func (w *Writer) Flush(ctx context.Context) error {
	w.convMu.Lock()
	g, closed := w.gatherer, w.closed
	w.convMu.Unlock()
	if closed {
		return ErrClosed
	}
	if g != nil {
		if err := w.gather(g); err != nil {
			return err
		}
	}
	if err := w.q.wait(ctx, w.q.requestFlush()); err != nil {
		return fmt.Errorf("remote write %s: flush: %d samples pending: %w", w.display, w.cnt.pending.Load(), err)
	}
	total := w.cnt.snapshot().DroppedTotal()
	if d := total - w.flushDropped.Swap(total); d > 0 {
		return fmt.Errorf("remote write %s: flush: %d %w since the previous flush", w.display, d, ErrDropped)
	}
	return nil
}

// Close gathers a last time (when a gatherer is known) and drains the queue
// until done or ctx ends, when what is
// left is dropped with reason "shutdown". It sends no stale markers: the
// series of a finite run stay queryable with their final values after it
// (stale markers go only to series that ended while others went on, see
// Append). It returns the final accounting and,
// when samples were dropped over the writer's life, an error wrapping
// ErrDropped (and ctx's error if the drain was cut short).
func (w *Writer) Close(ctx context.Context) (Stats, error) {
	w.convMu.Lock()
	if w.closed {
		w.convMu.Unlock()
		<-w.done
		return w.Stats(), ErrClosed
	}
	g := w.gatherer
	w.convMu.Unlock()
	var gerr error
	if g != nil {
		gerr = w.gather(g)
	}
	w.convMu.Lock()
	w.closed = true
	w.convMu.Unlock()

	w.q.close()
	var cut error
	select {
	case <-w.done:
	case <-ctx.Done():
		cut = ctx.Err()
		w.killFunc()
		<-w.done
	}
	w.killFunc()
	s := w.Stats()
	var errs []error
	if gerr != nil {
		errs = append(errs, gerr)
	}
	if d := s.DroppedTotal(); d > 0 {
		err := fmt.Errorf("remote write %s: close: %w: %s", w.display, ErrDropped, s)
		if cut != nil {
			err = fmt.Errorf("remote write %s: close: drain cut short (%w): %w: %s", w.display, cut, ErrDropped, s)
		}
		errs = append(errs, err)
	}
	return s, errors.Join(errs...)
}

// sendLoop is the one sender: it takes batches in queue order and sends each
// until it is delivered or dropped, so per-series order holds across retries.
func (w *Writer) sendLoop() {
	defer close(w.done)
	qc := w.cfg.QueueConfig
	buf := make([]sample, 0, qc.MaxSamplesPerSend)
	for {
		batch, rest, ok := w.q.next(w.kill, buf[:0], qc.MaxSamplesPerSend, time.Duration(qc.BatchSendDeadline))
		if !ok {
			if len(rest) > 0 {
				w.drop(reasonShutdown, len(rest), nil)
				w.q.resolve(len(rest))
			}
			clear(rest)
			return
		}
		w.sendBatch(batch)
		w.q.resolve(len(batch))
		clear(batch)
		buf = batch
	}
}

func (w *Writer) drop(r reason, n int, err error) {
	w.cnt.pending.Add(-int64(n))
	w.cnt.dropped[r].Add(int64(n))
	if err != nil {
		w.log.Warn("remote write samples dropped", "samples", n, "reason", r.String(), "err", err)
	} else {
		w.log.Warn("remote write samples dropped", "samples", n, "reason", r.String())
	}
}

// httpError is a non-2xx reply: status, URL (redacted) and the start of the body.
type httpError struct {
	url        string
	status     int
	body       string
	retryAfter time.Duration // -1: no usable Retry-After
}

func (e *httpError) Error() string {
	return fmt.Sprintf("remote write %s: status %d: %s", e.url, e.status, e.body)
}

func (w *Writer) sendBatch(batch []sample) {
	n := len(batch)
	body, err := w.enc.encode(batch)
	if err != nil {
		w.noteErr(err)
		w.drop(reasonEncode, n, err)
		return
	}
	qc := w.cfg.QueueConfig
	backoff := time.Duration(qc.MinBackoff)
	for attempt := 1; ; attempt++ {
		err := w.post(w.kill, body)
		w.noteErr(err)
		if err == nil {
			w.cnt.pending.Add(-int64(n))
			w.cnt.sent.Add(int64(n))
			return
		}
		if w.kill.Err() != nil {
			w.drop(reasonShutdown, n, err)
			return
		}
		var r reason
		wait := backoff/2 + rand.N(backoff/2+1)
		wait = max(wait, time.Duration(qc.MinBackoff))
		var he *httpError
		var ae *authError
		switch {
		case errors.As(err, &he) && he.status == http.StatusTooManyRequests:
			if !qc.RetryOnRateLimit {
				w.drop(reasonHTTP429, n, err)
				return
			}
			r = reasonHTTP429
			if he.retryAfter >= 0 {
				wait = he.retryAfter
			}
		case errors.As(err, &he) && he.status >= 500:
			r = reasonHTTP5xx
		case errors.As(err, &he) && he.status >= 400:
			w.drop(reasonHTTP4xx, n, err)
			return
		case errors.As(err, &he):
			w.drop(reasonHTTPStatus, n, err)
			return
		case errors.As(err, &ae):
			r = reasonAuth
		case isTimeout(err):
			r = reasonTimeout
		default:
			r = reasonNetwork
		}
		w.cnt.retried[r].Add(int64(n))
		w.log.Debug("remote write failed, retrying", "samples", n, "attempt", attempt, "reason", r.String(), "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-w.kill.Done():
			t.Stop()
			w.drop(reasonShutdown, n, err)
			return
		}
		backoff = min(2*backoff, time.Duration(qc.MaxBackoff))
	}
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// post sends one compressed WriteRequest within remote_timeout.
func (w *Writer) post(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(w.cfg.RemoteTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("remote write %s: new request: %w", w.display, err)
	}
	for k, v := range w.cfg.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.Header.Set("User-Agent", w.userAgent)
	if w.auth != nil {
		if err := w.auth(ctx, req, body); err != nil {
			return &authError{fmt.Errorf("remote write %s: %w", w.display, err)}
		}
	}
	resp, err := w.client.Do(req)
	if err != nil {
		// *url.Error quotes the full URL: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("remote write %s: post: %w", w.display, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return &httpError{
		url:        w.display,
		status:     resp.StatusCode,
		body:       strings.TrimSpace(strings.ToValidUTF8(string(snippet), "?")),
		retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
}

type authError struct{ err error }

func (e *authError) Error() string { return e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

// parseRetryAfter reads delay-seconds or an HTTP date; -1 when absent or bad.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return -1
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		if s < 0 {
			return -1
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return -1
}

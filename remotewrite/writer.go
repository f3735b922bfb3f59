package remotewrite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

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
	gatherer Gatherer
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
func WithGatherer(g Gatherer) Option { return func(o *options) { o.gatherer = g } }

// WithVersion sets the version in the User-Agent "lambdabridge/<version>".
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// WithExternalLabels adds labels to every series that lacks them, like
// Prometheus' global external_labels; the entry's own external_labels
// override them.
func WithExternalLabels(l map[string]string) Option {
	return func(o *options) { o.external = l }
}

// Gatherer is what a Writer sends: the aggregation (a prometheus.Gatherer
// is one).
type Gatherer interface {
	Gather() ([]*dto.MetricFamily, error)
}

// Writer sends gathered metrics to one remote_write receiver. Its methods are
// safe for concurrent use. A Writer implements prometheus.Collector with its
// own accounting (lambdabridge_remote_write_samples_total and the queue
// gauges), labelled remote=<name, or a hash of the whole entry> (Config.RemoteName),
// except in the Lambda extension's build (tag lambdabridge_extension).
type Writer struct {
	cfg       Config
	url       string        // as configured, for requests only
	display   string        // no credentials, no query: for logs and errors
	remote    func() string // Config.RemoteName, computed once when first needed
	log       *slog.Logger
	now       func() time.Time
	interval  time.Duration
	userAgent string
	client    *http.Client
	auth      func(ctx context.Context, req *http.Request, body []byte) error

	convMu   sync.Mutex
	conv     *converter
	scratch  []sample
	gatherer Gatherer
	closed   bool

	q            *queue
	cnt          counters
	flushDropped atomic.Int64 // dropped total reported by the last Flush
	lastErr      atomic.Pointer[string]
	coll         *collector
	senders      sync.WaitGroup
	v2           atomic.Bool // sending Remote Write 2.0 (until a fallback)
	metaSent     uint64      // converter metaGen last sent (under convMu)
	reshardStop  context.CancelFunc
	reshardDone  chan struct{}
	shardUpdate  time.Duration

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
	if err := CheckExternalLabels(o.external); err != nil {
		return nil, fmt.Errorf("new remote writer: external labels: %w", err)
	}
	cfg = cfg.withDefaults()
	u, _ := url.Parse(cfg.URL) // validated
	w := &Writer{
		cfg:       cfg,
		url:       cfg.URL,
		display:   redactURL(u),
		remote:    sync.OnceValue(cfg.RemoteName),
		now:       o.now,
		interval:  o.interval,
		userAgent: "lambdabridge/" + o.version,
		conv:      newConverter(mergeLabels(o.external, cfg.ExternalLabels), cfg.SendNativeHistograms),
		gatherer:  o.gatherer,
		q:         newQueue(cfg.QueueConfig.Capacity, cfg.QueueConfig.MinShards, cfg.QueueConfig.MaxShards),
		done:      make(chan struct{}),
	}
	w.log = slog.New(lazyRemote{o.logger.Handler(), w.remote}).With("url", w.display)
	if w.interval <= 0 {
		w.interval = DefaultInterval
	}
	var err error
	if w.client, err = newHTTPClient(cfg.TLSConfig, *cfg.FollowRedirects, *cfg.EnableHTTP2); err != nil {
		return nil, fmt.Errorf("new remote writer %s: %w", w.display, err)
	}
	if w.auth, err = newAuth(cfg); err != nil {
		return nil, fmt.Errorf("new remote writer %s: %w", w.display, err)
	}
	w.coll = newCollector(&w.cnt, w.q, w.remote, cfg.QueueConfig.Capacity)
	w.v2.Store(cfg.ProtobufMessage == MessageV2)
	w.kill, w.killFunc = context.WithCancel(context.Background())
	w.startSenders()
	if *cfg.MetadataConfig.Send {
		go w.metadataLoop()
	}
	return w, nil
}

// mergeLabels returns global with entry laid over it.
func mergeLabels(global, entry map[string]string) map[string]string {
	out := make(map[string]string, len(global)+len(entry))
	maps.Copy(out, global)
	maps.Copy(out, entry)
	return out
}

// Stats returns the writer's accounting so far.
func (w *Writer) Stats() Stats { return w.cnt.snapshot() }

// Name is the value of the writer's "remote" label: the configured name, or a
// hash of the whole entry (Config.RemoteName).
func (w *Writer) Name() string { return w.remote() }

// lazyRemote adds the writer's remote attribute to each record it
// handles, not when the logger is made: a handler formats With's
// attributes at once (a slog.LogValuer's too), and the name (RemoteName)
// marshals the whole entry, which the extension's cold start, which logs
// little, need not pay for.
type lazyRemote struct {
	slog.Handler
	name func() string
}

func (h lazyRemote) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(slog.String("remote", h.name()))
	return h.Handler.Handle(ctx, r)
}

func (h lazyRemote) WithAttrs(as []slog.Attr) slog.Handler {
	return lazyRemote{h.Handler.WithAttrs(as), h.name}
}

func (h lazyRemote) WithGroup(name string) slog.Handler {
	return lazyRemote{h.Handler.WithGroup(name), h.name}
}

// Run gathers g every interval and queues the result until ctx ends; it
// returns nil then. Sending happens in the background: call Flush to wait for
// delivery and Close to drain at shutdown.
func (w *Writer) Run(ctx context.Context, g Gatherer) error {
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

func (w *Writer) gather(g Gatherer) error {
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
	if n := w.q.push(s, time.Now()); n > 0 {
		w.cnt.pending.Add(-int64(n))
		w.cnt.coalesced.Add(int64(n))
		w.log.Debug("remote write behind: samples coalesced into their series' waiting sample", "samples", n)
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
	w.sendMetadata(ctx, false)
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

	cut := w.drain(ctx)
	if cut == nil {
		w.sendMetadata(ctx, false)
	}
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

func (w *Writer) drop(r reason, n int, err error) {
	w.cnt.pending.Add(-int64(n))
	w.cnt.dropped[r].Add(int64(n))
	if err != nil {
		w.log.Warn("remote write samples dropped", "samples", n, "reason", r.String(), "err", err)
	} else {
		w.log.Warn("remote write samples dropped", "samples", n, "reason", r.String())
	}
}

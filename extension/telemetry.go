package extension

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lambdabridge/lambdabridge/internal/jsonscan"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/pipeline"
	"github.com/lambdabridge/lambdabridge/platform"
)

// receiver takes the Telemetry API's batches: function records go to the
// pipeline as log lines, platform events through the platform parser as
// platform points. It keeps which requests have no report yet, tells the
// extension when the runtime finished a request (platform.runtimeDone),
// and measures the time each invocation lasted after the runtime's answer.
type receiver struct {
	p    *pipeline.Pipeline
	log  *slog.Logger
	base metric.Origin // function and environment
	// post, when set, gets the time an invocation lasted after the
	// runtime's answer (report's durationMs minus runtimeDone's), as the
	// platform measured it.
	post func(time.Duration)
	// batched, when set, is called after each batch (the extension is
	// awake: it reads its polled DogStatsD socket and its kernel drop
	// counters).
	batched func()
	// waits: the extension takes INVOKE events and waits for their
	// runtimeDone (the invocation strategy); otherwise no runtimeDone
	// signal is kept, since nothing would ever forget it.
	waits bool

	// bmu serializes batches; body, events and unquoted are its buffers.
	bmu      sync.Mutex
	body     bytes.Buffer
	events   []teleEvent
	unquoted []byte

	mu       sync.Mutex
	plat     *platform.Parser
	batch    metric.Batch
	reqID    string // the request running (platform.start)
	line     int
	done     map[string]chan struct{} // closed at the request's runtimeDone
	open     map[string]struct{}      // started (or invoked), no report yet
	answered map[string]time.Duration // runtimeDone's durationMs, until the report
	changed  chan struct{}            // closed and replaced at each batch
	last     time.Time                // when the last batch arrived
}

func newReceiver(p *pipeline.Pipeline, base metric.Origin, arch string, log *slog.Logger) *receiver {
	return &receiver{
		p: p, log: log, base: base, plat: platform.NewParser(platform.WithArchitecture(arch)),
		done: map[string]chan struct{}{}, open: map[string]struct{}{}, answered: map[string]time.Duration{},
		changed: make(chan struct{}),
	}
}

// teleEvent is one Telemetry API event (schema 2022-12-13).
type teleEvent struct {
	Time   json.RawMessage `json:"time"` // a JSON string, still quoted: only platform events need it
	Type   string          `json:"type"`
	Record json.RawMessage `json:"record"`
}

// maxKeptBody is the largest batch buffer kept for the next batch.
const maxKeptBody = 1 << 20

// ServeHTTP reads one batch (a JSON array of events), decoded once. The
// platform sends one batch at a time; batches are handled one at a time
// in any case, in the buffers of the last one.
func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.bmu.Lock()
	defer r.bmu.Unlock()
	r.body.Reset()
	_, err := r.body.ReadFrom(http.MaxBytesReader(w, req.Body, 8<<20))
	body := r.body.Bytes()
	batch := r.events[:0]
	if err == nil {
		if batch, err = decodeBatch(batch, body); err != nil {
			batch, err = decodeBatchSlow(batch[:0], body)
		}
	}
	if err == nil {
		for i := range batch {
			r.event(&batch[i])
		}
	}
	clear(batch) // they point into the body
	r.events = batch[:0]
	if r.body.Cap() > maxKeptBody {
		r.body = bytes.Buffer{}
	}
	if r.batched != nil {
		r.batched()
	}
	r.mu.Lock()
	r.last = time.Now()
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
	if err != nil {
		r.log.Warn("telemetry batch is not a JSON array of events", "err", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// event handles one event.
func (r *receiver) event(ev *teleEvent) {
	switch {
	case ev.Type == "function":
		r.functionLine(ev.Record)
	case strings.HasPrefix(ev.Type, "platform."):
		r.platformEvent(ev)
	}
}

// functionLine hands one record of the function's log to the pipeline: a
// text line (a JSON string) or, in the JSON log format or for an EMF line,
// the object itself.
func (r *receiver) functionLine(rec json.RawMessage) {
	line := []byte(rec)
	if len(rec) > 0 && rec[0] == '"' {
		var ok bool
		if r.unquoted, ok = jsonscan.AppendUnquoted(r.unquoted[:0], rec); ok {
			line = r.unquoted
		} else {
			var s string // invalid UTF-8: encoding/json's replacement
			if json.Unmarshal(rec, &s) != nil {
				return
			}
			line = []byte(s)
		}
	}
	r.mu.Lock()
	r.line++
	o := r.base
	o.Source, o.Line, o.RequestID = "telemetry", r.line, r.reqID
	r.mu.Unlock()
	r.p.Line(o, "function", line)
}

// platformEvent turns platform.initReport, platform.start and
// platform.report into platform points, and keeps the requests' state.
func (r *receiver) platformEvent(ev *teleEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batch.Reset()
	o := r.base
	o.Source = "telemetry"
	ts, _ := jsonscan.Unquote(ev.Time)
	info := r.plat.Event(&r.batch, ev.Type, ts, ev.Record, platform.Context{Origin: o, Stream: r.base.Environment})
	id := info.RequestID
	for i := range r.batch.Points {
		r.batch.Points[i].Origin.RequestID = id
		r.p.Platform(&r.batch.Points[i])
	}
	for i := range r.batch.Diags {
		d := &r.batch.Diags[i]
		r.log.Warn("platform event", "rule", d.Rule, "msg", d.Message)
	}
	if id == "" {
		return
	}
	switch ev.Type {
	case "platform.start":
		r.reqID = id
		r.open[id] = struct{}{}
	case "platform.runtimeDone":
		if info.Status == platform.StatusSuccess || info.Status == platform.StatusError {
			r.answered[id] = info.Duration // the runtime answered
		}
		if r.waits {
			closeOnce(r.signal(id))
		}
	case "platform.report":
		if rt, ok := r.answered[id]; ok && r.post != nil && info.Duration >= rt {
			r.post(info.Duration - rt)
		}
		delete(r.answered, id)
		delete(r.open, id)
	}
}

// invoked records a request the extension got an INVOKE event for: it
// has no report yet.
func (r *receiver) invoked(id string) {
	r.mu.Lock()
	r.open[id] = struct{}{}
	r.mu.Unlock()
}

// signal returns the runtimeDone channel of id, creating it. r.mu is held.
func (r *receiver) signal(id string) chan struct{} {
	c, ok := r.done[id]
	if !ok {
		c = make(chan struct{})
		r.done[id] = c
	}
	return c
}

func closeOnce(c chan struct{}) {
	select {
	case <-c:
	default:
		close(c)
	}
}

// waitDone waits until the runtimeDone of id arrived, or ctx ends; it
// reports whether it arrived.
func (r *receiver) waitDone(ctx context.Context, id string) bool {
	r.mu.Lock()
	c := r.signal(id)
	r.mu.Unlock()
	select {
	case <-c:
		return true
	case <-ctx.Done():
		return false
	}
}

// forget drops the runtimeDone signal of id once the extension is done
// with it.
func (r *receiver) forget(id string) {
	r.mu.Lock()
	delete(r.done, id)
	r.mu.Unlock()
}

// settle waits, at SHUTDOWN, for the telemetry still on its way: until
// every request started or invoked has its report and a batch came at
// after or later (the platform sends what it holds when the shutdown phase
// begins; the zero time: any batch), or until ctx ends. It returns the
// number of requests left without a report.
func (r *receiver) settle(ctx context.Context, after time.Time) int {
	for {
		r.mu.Lock()
		left, changed, last := len(r.open), r.changed, r.last
		r.mu.Unlock()
		if left == 0 && !last.Before(after) {
			return 0
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return left
		}
	}
}

// deadline is a context that ends at ms (Unix milliseconds) minus margin.
func deadline(ctx context.Context, ms int64, margin time.Duration) (context.Context, context.CancelFunc) {
	if ms <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, time.UnixMilli(ms).Add(-margin))
}

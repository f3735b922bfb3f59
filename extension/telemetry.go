package extension

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/pipeline"
	"github.com/lambdabridge/lambdabridge/platform"
)

// receiver takes the Telemetry API's batches: function records go to the
// pipeline as log lines, platform events through the platform parser as
// platform points; it tells the extension when the runtime finished a
// request (platform.runtimeDone) and when its report arrived.
type receiver struct {
	p    *pipeline.Pipeline
	log  *slog.Logger
	base metric.Origin // function and environment

	mu       sync.Mutex
	plat     *platform.Parser
	batch    metric.Batch
	reqID    string // the request running (platform.start)
	line     int
	done     map[string]chan struct{} // closed at the request's runtimeDone
	reported map[string]chan struct{} // closed at the request's report
}

func newReceiver(p *pipeline.Pipeline, base metric.Origin, arch string, log *slog.Logger) *receiver {
	return &receiver{
		p: p, log: log, base: base, plat: platform.NewParser(platform.WithArchitecture(arch)),
		done: map[string]chan struct{}{}, reported: map[string]chan struct{}{},
	}
}

// teleEvent is one Telemetry API event (schema 2022-12-13).
type teleEvent struct {
	Time   string          `json:"time"`
	Type   string          `json:"type"`
	Record json.RawMessage `json:"record"`
}

// ServeHTTP reads one batch (a JSON array of events).
func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var batch []json.RawMessage
	if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 8<<20)).Decode(&batch); err != nil {
		r.log.Warn("telemetry batch is not a JSON array", "err", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, raw := range batch {
		r.event(raw)
	}
	w.WriteHeader(http.StatusOK)
}

// event handles one event.
func (r *receiver) event(raw json.RawMessage) {
	var ev teleEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		r.log.Warn("telemetry event is not an object", "err", err)
		return
	}
	switch {
	case ev.Type == "function":
		r.functionLine(ev.Record)
	case strings.HasPrefix(ev.Type, "platform."):
		r.platformEvent(&ev, raw)
	}
}

// functionLine hands one record of the function's log to the pipeline: a
// text line (a JSON string) or, in the JSON log format or for an EMF line,
// the object itself.
func (r *receiver) functionLine(rec json.RawMessage) {
	line := []byte(rec)
	if len(rec) > 0 && rec[0] == '"' {
		var s string
		if json.Unmarshal(rec, &s) != nil {
			return
		}
		line = []byte(s)
	}
	r.mu.Lock()
	r.line++
	o := r.base
	o.Source, o.Line, o.RequestID = "telemetry", r.line, r.reqID
	r.mu.Unlock()
	r.p.Line(o, "function", line)
}

// platformEvent turns platform.initReport, platform.start and
// platform.report into platform points, and signals runtimeDone and report.
func (r *receiver) platformEvent(ev *teleEvent, raw json.RawMessage) {
	var rec struct {
		RequestID string `json:"requestId"`
	}
	_ = json.Unmarshal(ev.Record, &rec)
	r.mu.Lock()
	if ev.Type == "platform.start" {
		r.reqID = rec.RequestID
	}
	r.batch.Reset()
	o := r.base
	o.Source, o.RequestID = "telemetry", rec.RequestID
	r.plat.Line(&r.batch, raw, platform.Context{Origin: o, Stream: r.base.Environment})
	for i := range r.batch.Points {
		r.p.Platform(&r.batch.Points[i])
	}
	for i := range r.batch.Diags {
		d := &r.batch.Diags[i]
		r.log.Warn("platform event", "rule", d.Rule, "msg", d.Message)
	}
	switch ev.Type {
	case "platform.runtimeDone":
		closeOnce(r.signal(r.done, rec.RequestID))
	case "platform.report":
		closeOnce(r.signal(r.reported, rec.RequestID))
	}
	r.mu.Unlock()
}

// signal returns the channel of id in m, creating it. r.mu is held.
func (r *receiver) signal(m map[string]chan struct{}, id string) chan struct{} {
	c, ok := m[id]
	if !ok {
		c = make(chan struct{})
		m[id] = c
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

// wait waits until the runtimeDone (report false) or the report of id
// arrived, or ctx ends; it reports whether it arrived.
func (r *receiver) wait(ctx context.Context, id string, report bool) bool {
	r.mu.Lock()
	m := r.done
	if report {
		m = r.reported
	}
	c := r.signal(m, id)
	r.mu.Unlock()
	select {
	case <-c:
		return true
	case <-ctx.Done():
		return false
	}
}

// forget drops the signals of id once the extension is done with it.
func (r *receiver) forget(id string) {
	r.mu.Lock()
	delete(r.done, id)
	r.mu.Unlock()
}

// deadline is a context that ends at ms (Unix milliseconds) minus margin.
func deadline(ctx context.Context, ms int64, margin time.Duration) (context.Context, context.CancelFunc) {
	if ms <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, time.UnixMilli(ms).Add(-margin))
}

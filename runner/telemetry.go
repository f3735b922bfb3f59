package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Lambda's Telemetry API (2022-07-01): an extension subscribes
// (PUT /2022-07-01/telemetry) to the platform, function and extension
// streams of its environment; events are buffered (maxItems, maxBytes,
// timeoutMs) and POSTed as a JSON array to its HTTP destination (or
// written as newline-delimited JSON to its TCP destination), in the
// event schema 2022-12-13. The destination's host sandbox.localdomain is
// the loopback interface here. Events since the init phase began are
// delivered to a subscription made during the init phase, as on Lambda.

// Telemetry stream types.
const (
	teleTypePlatform = "platform"
	teleFunction     = "function"
	teleExtension    = "extension"
)

// Buffering limits of a subscription (Lambda's).
const (
	teleMinItems, teleMaxItems, teleDefItems = 1000, 10000, 1000
	teleMinBytes, teleMaxBytes, teleDefBytes = 262144, 1048576, 262144
	teleMinMs, teleMaxMs, teleDefMs          = 25, 30000, 1000
	teleHistoryMax                           = 10000 // events kept for subscriptions made during init
)

// telemetry is an environment's Telemetry API state.
type telemetry struct {
	mu      sync.Mutex
	subs    []*teleSub
	history []teleEvent // until the init phase ends
	initEnd bool
}

type teleEvent struct {
	kind string // platform, function, extension
	doc  []byte // {"time","type","record"}
}

// teleSub is one subscription and its delivery loop.
type teleSub struct {
	url      string // http://... or, for TCP, host:port
	tcp      bool
	conn     net.Conn // the TCP connection, owned by run
	types    []string
	maxItems int
	maxBytes int
	timeout  time.Duration
	client   *http.Client
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{}

	mu      sync.Mutex
	buf     [][]byte
	size    int
	kick    chan struct{} // buffered 1: deliver now
	closing bool
	// dropped counts the events of batches that could not be delivered
	// since the last platform.logsDropped event (and their bytes).
	dropped, droppedBytes int
}

// handleSubscribe serves PUT /2022-07-01/telemetry.
func (e *env) handleSubscribe(w http.ResponseWriter, r *http.Request) {
	x := e.exts.byHeader(r)
	if x == nil {
		writeAPIError(w, http.StatusForbidden, "Extension.UnknownExtensionIdentifier", "telemetry: unknown or missing Lambda-Extension-Identifier")
		return
	}
	body, _ := readLimited(r.Body, 1<<16)
	sub, err := parseSubscription(body)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "ValidationError", "telemetry: "+err.Error())
		return
	}
	types := make([]string, len(sub.types))
	for i, t := range sub.types {
		types[i] = strings.ToUpper(t[:1]) + t[1:]
	}
	e.platform(e.reqIDNow(), "TELEMETRY\tName: "+x.name+"\tState: Subscribed\tTypes: ["+strings.Join(types, ", ")+"]")
	e.tele.subscribe(sub)
	e.teleEvent(teleTypePlatform, "platform.telemetrySubscription", map[string]any{"name": x.name, "state": "Subscribed", "types": sub.types})
	w.WriteHeader(http.StatusOK)
	w.Write([]byte("OK"))
}

type validationError string

func (v validationError) Error() string { return string(v) }

// parseSubscription checks a subscription request against the API's rules.
func parseSubscription(body []byte) (*teleSub, error) {
	var req struct {
		SchemaVersion string   `json:"schemaVersion"`
		Types         []string `json:"types"`
		Buffering     struct {
			MaxItems  *int `json:"maxItems"`
			MaxBytes  *int `json:"maxBytes"`
			TimeoutMs *int `json:"timeoutMs"`
		} `json:"buffering"`
		Destination struct {
			Protocol string `json:"protocol"`
			URI      string `json:"URI"`
		} `json:"destination"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, validationError("the body is not a subscription: " + err.Error())
	}
	switch req.SchemaVersion {
	case "2022-07-01", "2022-12-13", "2025-01-29":
	default:
		return nil, validationError("schemaVersion " + strconv.Quote(req.SchemaVersion) + ": want 2022-12-13 (or 2022-07-01, 2025-01-29)")
	}
	if len(req.Types) == 0 {
		return nil, validationError("types: want one or more of platform, function, extension")
	}
	for _, t := range req.Types {
		if t != teleTypePlatform && t != teleFunction && t != teleExtension {
			return nil, validationError("types: " + strconv.Quote(t) + " is not platform, function or extension")
		}
	}
	dest, err := destination(req.Destination.Protocol, req.Destination.URI)
	if err != nil {
		return nil, err
	}
	s := &teleSub{url: dest, tcp: req.Destination.Protocol == "TCP", types: slices.Clone(req.Types), kick: make(chan struct{}, 1), done: make(chan struct{})}
	b := req.Buffering
	if s.maxItems, err = bounded("maxItems", b.MaxItems, teleMinItems, teleMaxItems, teleDefItems); err != nil {
		return nil, err
	}
	if s.maxBytes, err = bounded("maxBytes", b.MaxBytes, teleMinBytes, teleMaxBytes, teleDefBytes); err != nil {
		return nil, err
	}
	ms, err := bounded("timeoutMs", b.TimeoutMs, teleMinMs, teleMaxMs, teleDefMs)
	if err != nil {
		return nil, err
	}
	s.timeout = time.Duration(ms) * time.Millisecond
	return s, nil
}

func bounded(name string, v *int, lo, hi, def int) (int, error) {
	if v == nil {
		return def, nil
	}
	if *v < lo || *v > hi {
		return 0, validationError("buffering." + name + " " + strconv.Itoa(*v) + ": want " + strconv.Itoa(lo) + ".." + strconv.Itoa(hi))
	}
	return *v, nil
}

// subscribe adds s, hands it the events since init began and starts its
// delivery.
func (t *telemetry) subscribe(s *teleSub) {
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.client = &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true}}
	t.mu.Lock()
	t.subs = append(t.subs, s)
	for _, ev := range t.history {
		s.add(ev)
	}
	t.mu.Unlock()
	go s.run()
}

// publish hands one event to the subscriptions of its type.
func (t *telemetry) publish(ev teleEvent) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.initEnd && len(t.history) < teleHistoryMax {
		t.history = append(t.history, ev)
	}
	for _, s := range t.subs {
		s.add(ev)
	}
}

// active reports whether events are wanted (init running, or subscribers).
func (t *telemetry) active() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.initEnd || len(t.subs) > 0
}

// endInit stops keeping events for later subscriptions.
func (t *telemetry) endInit() {
	t.mu.Lock()
	t.initEnd = true
	t.history = nil
	t.mu.Unlock()
}

// flushAll asks every subscription to deliver what it holds now.
func (t *telemetry) flushAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.subs {
		s.flushNow()
	}
}

// close delivers what is buffered (within d) and ends the deliveries.
func (t *telemetry) close(d time.Duration) {
	t.mu.Lock()
	subs := t.subs
	t.subs = nil
	t.initEnd = true
	t.history = nil
	t.mu.Unlock()
	deadline := time.After(max(d, 0))
	for _, s := range subs {
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		s.flushNow()
	}
	for _, s := range subs {
		select {
		case <-s.done:
		case <-deadline:
		}
		s.cancel()
		<-s.done
	}
}

func (s *teleSub) add(ev teleEvent) {
	if !slices.Contains(s.types, ev.kind) {
		return
	}
	s.mu.Lock()
	s.buf = append(s.buf, ev.doc)
	s.size += len(ev.doc)
	full := len(s.buf) >= s.maxItems || s.size >= s.maxBytes
	s.mu.Unlock()
	if full {
		s.flushNow()
	}
}

func (s *teleSub) flushNow() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// run delivers batches: when the buffer is full, timeoutMs after its
// first event, or when asked; it ends once closing and empty, or when
// cancelled.
func (s *teleSub) run() {
	defer close(s.done)
	defer func() {
		if s.conn != nil {
			s.conn.Close()
		}
	}()
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	for {
		select {
		case <-s.kick:
		case <-timer.C:
		case <-s.ctx.Done():
			return
		}
		s.mu.Lock()
		batch, closing := s.buf, s.closing
		s.buf, s.size = nil, 0
		if s.dropped > 0 && len(batch) > 0 && slices.Contains(s.types, teleTypePlatform) {
			batch = append([][]byte{logsDropped(s.dropped, s.droppedBytes)}, batch...)
			s.dropped, s.droppedBytes = 0, 0
		}
		s.mu.Unlock()
		if len(batch) > 0 && !s.deliver(batch) {
			s.mu.Lock()
			for _, ev := range batch {
				s.dropped, s.droppedBytes = s.dropped+1, s.droppedBytes+len(ev)
			}
			s.mu.Unlock()
		}
		if closing {
			s.mu.Lock()
			empty := len(s.buf) == 0
			s.mu.Unlock()
			if empty {
				return
			}
		}
		timer.Reset(s.timeout)
	}
}

// destination checks a subscription's destination and returns where to
// deliver: an http:// URL, or host:port for TCP; sandbox.localdomain is
// the loopback interface.
func destination(protocol, uri string) (string, error) {
	if protocol != "HTTP" && protocol != "TCP" {
		return "", validationError("destination.protocol " + strconv.Quote(protocol) + ": want HTTP or TCP")
	}
	raw := uri
	if protocol == "TCP" && !strings.Contains(raw, "://") {
		raw = "tcp://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Port() == "" || protocol == "HTTP" && u.Scheme != "http" {
		return "", validationError("destination.URI " + strconv.Quote(uri) + ": want http://sandbox.localdomain:PORT/... (HTTP) or sandbox.localdomain:PORT (TCP)")
	}
	switch u.Hostname() {
	case "sandbox.localdomain", "sandbox", "localhost", "127.0.0.1":
		u.Host = net.JoinHostPort("127.0.0.1", u.Port())
	default:
		return "", validationError("destination.URI host " + u.Hostname() + ": want sandbox.localdomain (the extension's own environment)")
	}
	if protocol == "TCP" {
		return u.Host, nil
	}
	return u.String(), nil
}

// deliverTCP writes one batch as newline-delimited JSON events on the
// subscription's TCP connection (made, or made again, as needed).
func (s *teleSub) deliverTCP(batch [][]byte) bool {
	for attempt := range 3 {
		if s.conn == nil {
			var d net.Dialer
			c, err := d.DialContext(s.ctx, "tcp", s.url)
			if err != nil {
				if s.ctx.Err() != nil {
					return false
				}
				time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
				continue
			}
			s.conn = c
		}
		var buf bytes.Buffer
		for _, ev := range batch {
			buf.Write(ev)
			buf.WriteByte('\n')
		}
		if _, err := s.conn.Write(buf.Bytes()); err == nil {
			return true
		}
		s.conn.Close()
		s.conn = nil
	}
	return false
}

// deliver POSTs one batch, trying three times.
func (s *teleSub) deliver(batch [][]byte) bool {
	if s.tcp {
		return s.deliverTCP(batch)
	}
	body := append([]byte{'['}, bytes.Join(batch, []byte{','})...)
	body = append(body, ']')
	for attempt := range 3 {
		req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.url, bytes.NewReader(body))
		if err != nil {
			return false
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 300 {
				return true
			}
		}
		if s.ctx.Err() != nil {
			return false
		}
		time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
	}
	return false
}

// logsDropped is the platform.logsDropped event for n events (size bytes)
// that could not be delivered.
func logsDropped(n, size int) []byte {
	doc, _ := json.Marshal(map[string]any{"time": time.Now().UTC().Format(teleTime), "type": "platform.logsDropped",
		"record": map[string]any{"reason": "the extension's destination did not accept the events", "droppedRecords": n, "droppedBytes": size}})
	return doc
}

// teleTime is the events' time format.
const teleTime = "2006-01-02T15:04:05.000Z"

// teleEvent publishes one event of the environment.
func (e *env) teleEvent(kind, typ string, record any) {
	logged := kind == teleTypePlatform && e.f.jsonLogs() && e.f.systemLevelOK(typ)
	if !logged && !e.tele.active() {
		return
	}
	doc, err := json.Marshal(struct {
		Time   string `json:"time"`
		Type   string `json:"type"`
		Record any    `json:"record"`
	}{time.Now().UTC().Format(teleTime), typ, record})
	if err != nil {
		return
	}
	if logged {
		e.writePlatform(e.reqIDNow(), string(doc))
	}
	if e.tele.active() {
		e.tele.publish(teleEvent{kind: kind, doc: doc})
	}
}

// teleLine publishes one output line of the function (kind function) or
// of an extension: a JSON object when the line is one, else the text.
func (e *env) teleLine(kind string, line []byte) {
	if kind == "" {
		kind = teleFunction
	}
	if !e.tele.active() {
		return
	}
	var rec any = string(line)
	if t := bytes.TrimSpace(line); len(t) > 1 && t[0] == '{' && json.Valid(t) {
		rec = json.RawMessage(t)
	}
	e.teleEvent(kind, kind, rec)
}

// teleInitStart writes INIT_START and publishes platform.initStart (once).
func (e *env) teleInitStart() {
	e.teleInitOnce.Do(func() {
		phase := "init"
		if e.suppressed {
			phase = "invoke"
		} else {
			e.platform("", e.initStartLine())
		}
		e.teleEvent(teleTypePlatform, "platform.initStart", map[string]any{
			"initializationType": "on-demand", "phase": phase, "runtimeVersion": e.f.def.Runtime,
			"functionName": e.f.def.Name, "functionVersion": "$LATEST", "instanceId": e.logStream,
			"instanceMaxMemory": e.f.def.MemoryMB << 20,
		})
	})
}

// teleInitDone publishes platform.initRuntimeDone and platform.initReport.
func (e *env) teleInitDone(d time.Duration, errType string) {
	status, phase := "success", "init"
	if e.suppressed {
		phase = "invoke"
	}
	rec := map[string]any{"initializationType": "on-demand", "phase": phase, "status": status}
	if errType != "" {
		rec["status"], rec["errorType"] = statusOf(errType), errType
	}
	e.teleEvent(teleTypePlatform, "platform.initRuntimeDone", rec)
	rep := map[string]any{"initializationType": "on-demand", "phase": phase, "status": rec["status"], "metrics": map[string]any{"durationMs": msf(d)}}
	if errType != "" {
		rep["errorType"] = errType
	}
	e.teleEvent(teleTypePlatform, "platform.initReport", rep)
	e.tele.endInit()
}

// teleReport publishes platform.report for res.
func (e *env) teleReport(res *Result) {
	m := map[string]any{"durationMs": msf(res.Duration), "billedDurationMs": res.BilledDuration.Milliseconds(),
		"memorySizeMB": res.MemorySizeMB, "maxMemoryUsedMB": res.MaxMemoryUsedMB()}
	if res.ColdStart && res.InitDuration > 0 {
		m["initDurationMs"] = msf(res.InitDuration)
	}
	rec := map[string]any{"requestId": res.RequestID, "status": resultStatus(res), "metrics": m}
	if res.ErrorType != "" && res.FunctionError != "" || res.TimedOut {
		rec["errorType"] = res.ErrorType
	}
	e.teleEvent(teleTypePlatform, "platform.report", rec)
}

// msf is a duration in milliseconds with three decimals.
func msf(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// statusOf is the telemetry status of an error type.
func statusOf(errType string) string {
	if errType == "Sandbox.Timedout" {
		return "timeout"
	}
	return "error"
}

// resultStatus is the status of an invocation: success, error, timeout.
func resultStatus(res *Result) string {
	switch {
	case res.TimedOut:
		return "timeout"
	case res.Failed():
		return "error"
	}
	return "success"
}

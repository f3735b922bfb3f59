package remotewrite

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/prompb"
	"google.golang.org/protobuf/proto"
)

// receiver is a remote_write endpoint for tests: it checks every request the
// way a strict receiver would, and records the series of the requests it
// accepted. respond decides the reply to the nth request (from 1); nil means 204.
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	requests int
	accepted []prompb.TimeSeries
	metadata []prompb.MetricMetadata
	problems []string
	respond  func(n int, w http.ResponseWriter, r *http.Request) bool // true: handled (not accepted)
	check    func(r *http.Request, body []byte) error
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) url() string { return rc.srv.URL + "/api/v1/write" }

func (rc *receiver) problem(format string, args ...any) {
	rc.mu.Lock()
	rc.problems = append(rc.problems, fmt.Sprintf(format, args...))
	rc.mu.Unlock()
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.requests++
	n, respond, check := rc.requests, rc.respond, rc.check
	rc.mu.Unlock()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // client gave up
	}
	if respond != nil && respond(n, w, r) {
		return
	}
	for h, want := range map[string]string{
		"Content-Encoding":                  "snappy",
		"Content-Type":                      "application/x-protobuf",
		"X-Prometheus-Remote-Write-Version": "0.1.0",
		"User-Agent":                        "lambdabridge/test",
	} {
		if got := r.Header.Get(h); got != want {
			rc.problem("request %d: header %s = %q, want %q", n, h, got, want)
		}
	}
	if r.Method != http.MethodPost {
		rc.problem("request %d: method %s", n, r.Method)
	}
	if check != nil {
		if err := check(r, body); err != nil {
			rc.problem("request %d: %v", n, err)
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
	}
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		rc.problem("request %d: snappy block decode: %v", n, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req prompb.WriteRequest
	if err := req.Unmarshal(raw); err != nil {
		rc.problem("request %d: unmarshal: %v", n, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, ts := range req.Timeseries {
		if err := checkSeries(ts); err != nil {
			rc.problem("request %d: %v", n, err)
		}
	}
	rc.mu.Lock()
	rc.accepted = append(rc.accepted, req.Timeseries...)
	rc.metadata = append(rc.metadata, req.Metadata...)
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// checkSeries applies the remote_write 1.0 label rules.
func checkSeries(ts prompb.TimeSeries) error {
	hasName := false
	for i, l := range ts.Labels {
		if l.Name == "" || l.Value == "" {
			return fmt.Errorf("empty label in %v", ts.Labels)
		}
		if i > 0 && ts.Labels[i-1].Name >= l.Name {
			return fmt.Errorf("labels not sorted or repeated: %v", ts.Labels)
		}
		if l.Name == "__name__" {
			hasName = true
			if !validMetricName(l.Value) {
				return fmt.Errorf("invalid metric name %q", l.Value)
			}
		} else if !validLabelName(l.Name) {
			return fmt.Errorf("invalid label name %q", l.Name)
		}
	}
	if !hasName {
		return fmt.Errorf("no __name__ in %v", ts.Labels)
	}
	if len(ts.Samples)+len(ts.Histograms) == 0 {
		return fmt.Errorf("no samples in %v", ts.Labels)
	}
	return nil
}

// point is one received sample, keyed by its series.
type point struct {
	Series string
	T      int64
	V      float64
	Stale  bool
}

func seriesKey(ls []prompb.Label) string {
	var b strings.Builder
	for i, l := range ls {
		if l.Name == "__name__" {
			b.WriteString(l.Value)
			continue
		}
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(l.Name + "=" + l.Value)
	}
	return b.String()
}

// points returns the accepted samples in arrival order; it fails the test
// when a receiver check failed, a series' timestamps did not strictly increase,
// or a sample arrived twice.
func (rc *receiver) points() []point {
	rc.t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, p := range rc.problems {
		rc.t.Error(p)
	}
	var out []point
	last := map[string]int64{}
	for _, ts := range rc.accepted {
		k := seriesKey(ts.Labels)
		add := func(t int64, v float64) {
			if l, ok := last[k]; ok && t <= l {
				rc.t.Errorf("series %s: timestamp %d after %d", k, t, l)
			}
			last[k] = t
			out = append(out, point{Series: k, T: t, V: v, Stale: math.Float64bits(v) == 0x7ff0000000000002})
		}
		for _, s := range ts.Samples {
			add(s.Timestamp, s.Value)
		}
		for _, h := range ts.Histograms {
			add(h.Timestamp, h.Sum)
		}
	}
	return out
}

func (rc *receiver) count() int { return len(rc.points()) }

func (rc *receiver) nRequests() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.requests
}

// checkAccounting asserts emitted = sent + coalesced + dropped (+ pending), and that the
// receiver holds exactly the samples counted as sent.
func checkAccounting(t *testing.T, w *Writer, rc *receiver, closed bool) Stats {
	t.Helper()
	s := w.Stats()
	if s.Emitted != s.Sent+s.Coalesced+s.DroppedTotal()+s.Pending {
		t.Errorf("emitted %d != sent %d + coalesced %d + dropped %d + pending %d (%s)", s.Emitted, s.Sent, s.Coalesced, s.DroppedTotal(), s.Pending, s)
	}
	if closed && s.Pending != 0 {
		t.Errorf("pending %d after Close", s.Pending)
	}
	if rc != nil {
		if got := int64(rc.count()); got != s.Sent {
			t.Errorf("receiver holds %d samples, writer counts %d sent", got, s.Sent)
		}
	}
	return s
}

// testConfig is a Config for rc with fast timings, without metadata.
func testConfig(url string) Config {
	c := DefaultConfig()
	c.URL = url
	c.QueueConfig.BatchSendDeadline = mdur(20 * time.Millisecond)
	c.QueueConfig.MinBackoff = mdur(5 * time.Millisecond)
	c.QueueConfig.MaxBackoff = mdur(50 * time.Millisecond)
	c.RemoteTimeout = mdur(5 * time.Second)
	c.MetadataConfig.Send = boolPtr(false) // TestMetadata turns it on
	return c
}

// fakeClock returns a clock that advances 1s at each call.
func fakeClock() func() time.Time {
	var mu sync.Mutex
	t := time.Unix(1700000000, 0)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func newTestWriter(t *testing.T, cfg Config, opts ...Option) *Writer {
	t.Helper()
	opts = append([]Option{WithVersion("test"), WithClock(fakeClock())}, opts...)
	w, err := New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = w.Close(ctx)
	})
	return w
}

// gauges builds one gauge family "g" with n series (label i) holding v.
func gauges(n int, v float64) []*dto.MetricFamily {
	f := &dto.MetricFamily{Name: proto.String("g"), Type: dto.MetricType_GAUGE.Enum()}
	for i := range n {
		f.Metric = append(f.Metric, &dto.Metric{
			Label: []*dto.LabelPair{{Name: proto.String("i"), Value: proto.String(fmt.Sprint(i))}},
			Gauge: &dto.Gauge{Value: proto.Float64(v)},
		})
	}
	return []*dto.MetricFamily{f}
}

func sortedPoints(ps []point) []point {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Series != ps[j].Series {
			return ps[i].Series < ps[j].Series
		}
		return ps[i].T < ps[j].T
	})
	return ps
}

func flush(t *testing.T, w *Writer) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return w.Flush(ctx)
}

package remotewrite

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/prompb"
	"google.golang.org/protobuf/proto"
)

func mdur(d time.Duration) model.Duration { return model.Duration(d) }

func TestHeadersBodyAndGatherer(t *testing.T) {
	rc := newReceiver(t)
	cfg := testConfig(rc.url())
	cfg.Headers = map[string]string{"X-Scope-OrgID": "tenant-1"}
	rc.check = func(r *http.Request, _ []byte) error {
		if got := r.Header.Get("X-Scope-OrgID"); got != "tenant-1" {
			return fmt.Errorf("X-Scope-OrgID = %q", got)
		}
		return nil
	}
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "invocations_total", Help: "h"}, []string{"function"})
	reg.MustRegister(c)
	c.WithLabelValues("fn").Add(3)
	w := newTestWriter(t, cfg, WithGatherer(reg), WithExternalLabels(map[string]string{"env": "local", "function": "ignored"}))
	if err := flush(t, w); err != nil {
		t.Fatal(err)
	}
	got := rc.points()
	// client_golang's counter has a created timestamp (now, on the fake
	// clock's second): the new series starts from zero 1 ms before its first sample.
	want := []point{
		{Series: "invocations_total,env=local,function=fn", T: 1700000000999, V: 0},
		{Series: "invocations_total,env=local,function=fn", T: 1700000001000, V: 3},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("received (-want +got):\n%s", diff)
	}
	checkAccounting(t, w, rc, false)
}

func TestRetry500ThenSuccess(t *testing.T) {
	rc := newReceiver(t)
	rc.respond = func(n int, w http.ResponseWriter, _ *http.Request) bool {
		if n <= 2 {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	w := newTestWriter(t, testConfig(rc.url()))
	if err := w.Append(gauges(10, 1), time.UnixMilli(1000)); err != nil {
		t.Fatal(err)
	}
	if err := flush(t, w); err != nil {
		t.Fatal(err)
	}
	if got := rc.count(); got != 10 {
		t.Errorf("received %d samples, want the batch of 10 exactly once", got)
	}
	s := checkAccounting(t, w, rc, false)
	if s.Retried["http_5xx"] != 20 {
		t.Errorf("retried = %v, want http_5xx 20", s.Retried)
	}
	if rc.nRequests() != 3 {
		t.Errorf("%d requests, want 3", rc.nRequests())
	}
}

func TestBadRequestDroppedLaterBatchesFlow(t *testing.T) {
	rc := newReceiver(t)
	rc.respond = func(n int, w http.ResponseWriter, _ *http.Request) bool {
		if n == 1 {
			http.Error(w, "out of bounds", http.StatusBadRequest)
			return true
		}
		return false
	}
	var logs bytes.Buffer
	w := newTestWriter(t, testConfig(rc.url()), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	_ = w.Append(gauges(4, 1), time.UnixMilli(1000))
	if err := flush(t, w); !errors.Is(err, ErrDropped) {
		t.Errorf("Flush = %v, want ErrDropped", err)
	}
	_ = w.Append(gauges(4, 2), time.UnixMilli(2000))
	if err := flush(t, w); err != nil {
		t.Fatal(err)
	}
	s := checkAccounting(t, w, rc, false)
	if s.Dropped["http_4xx"] != 4 || s.Sent != 4 || rc.nRequests() != 2 {
		t.Errorf("stats %s after %d requests, want 4 dropped http_4xx, 4 sent, 2 requests", s, rc.nRequests())
	}
	if !strings.Contains(logs.String(), "status 400: out of bounds") {
		t.Errorf("log lacks status and body:\n%s", logs.String())
	}
}

func TestTooManyRequests(t *testing.T) {
	for _, tc := range []struct {
		name       string
		retry      bool
		retryAfter func() string
		wantWait   time.Duration
	}{
		{"retry-after seconds", true, func() string { return "1" }, time.Second},
		{"retry-after date", true, func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) }, time.Second},
		{"no retry", false, func() string { return "1" }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t)
			var first atomic.Int64
			rc.respond = func(n int, w http.ResponseWriter, _ *http.Request) bool {
				if n == 1 {
					first.Store(time.Now().UnixNano())
					w.Header().Set("Retry-After", tc.retryAfter())
					http.Error(w, "slow down", http.StatusTooManyRequests)
					return true
				}
				if d := time.Since(time.Unix(0, first.Load())); d < tc.wantWait {
					rc.problem("retried after %v, Retry-After asked for %v", d, tc.wantWait)
				}
				return false
			}
			cfg := testConfig(rc.url())
			cfg.QueueConfig.RetryOnRateLimit = tc.retry
			w := newTestWriter(t, cfg)
			_ = w.Append(gauges(3, 1), time.UnixMilli(1000))
			err := flush(t, w)
			s := checkAccounting(t, w, rc, false)
			if tc.retry {
				if err != nil || s.Sent != 3 || s.Retried["http_429"] != 3 {
					t.Errorf("Flush = %v, stats %s retried %v; want all sent after one 429", err, s, s.Retried)
				}
			} else if !errors.Is(err, ErrDropped) || s.Dropped["http_429"] != 3 || rc.nRequests() != 1 {
				t.Errorf("Flush = %v, stats %s, %d requests; want 3 dropped http_429, no retry", err, s, rc.nRequests())
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              -1,
		"3":                             3 * time.Second,
		" 0 ":                           0,
		"-5":                            -1,
		"soon":                          -1,
		"Thu, 01 Jan 2026 00:00:10 GMT": 10 * time.Second,
		"Wed, 31 Dec 2025 00:00:10 GMT": 0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestHangingReceiverTimesOut(t *testing.T) {
	rc := newReceiver(t)
	release := make(chan struct{})
	defer close(release)
	rc.respond = func(n int, _ http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			select { // hang until the client gives up
			case <-r.Context().Done():
			case <-release:
			}
			return true
		}
		return false
	}
	cfg := testConfig(rc.url())
	cfg.RemoteTimeout = mdur(200 * time.Millisecond)
	w := newTestWriter(t, cfg)
	_ = w.Append(gauges(5, 1), time.UnixMilli(1000))
	start := time.Now()
	if err := flush(t, w); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("delivered after %v, before remote_timeout", d)
	}
	s := checkAccounting(t, w, rc, false)
	if s.Retried["timeout"] != 5 || s.Sent != 5 {
		t.Errorf("stats %s retried %v, want 5 sent after a timeout", s, s.Retried)
	}
}

// hangingReceiver holds every request until release is called (then
// accepts it) or the request ends (then answers 503). received gets a value at each request.
func hangingReceiver(t *testing.T) (rc *receiver, releaseFunc func(), received chan struct{}) {
	rc = newReceiver(t)
	release, received := make(chan struct{}), make(chan struct{}, 1)
	var once sync.Once
	releaseFunc = func() { once.Do(func() { close(release) }) }
	rc.respond = func(_ int, w http.ResponseWriter, r *http.Request) bool {
		select {
		case received <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
			http.Error(w, "down", http.StatusServiceUnavailable)
			return true
		case <-release:
			return false // accept
		}
	}
	t.Cleanup(releaseFunc)
	return rc, releaseFunc, received
}

// TestQueueGaugeWithinCapacity: the queue gauge reads the queue alone, the
// batch being sent has its own gauge, and the two add up to
// Stats().Pending; a receiver that is behind makes the queue coalesce, not
// grow beyond capacity plus one sample per series.
func TestQueueGaugeWithinCapacity(t *testing.T) {
	rc, release, received := hangingReceiver(t)
	cfg := testConfig(rc.url())
	cfg.Name = "q"
	cfg.QueueConfig.Capacity = 100
	cfg.QueueConfig.MaxSamplesPerSend = 10
	cfg.QueueConfig.MaxShards = 1
	w := newTestWriter(t, cfg)
	_ = w.Append(gauges(300, 1), time.UnixMilli(1000))
	<-received // the sender took a batch of 10
	for i := range 5 {
		_ = w.Append(gauges(300, float64(2+i)), time.UnixMilli(int64(2000+1000*i)))
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(w)
	want := `
# HELP lambdabridge_remote_write_in_flight_samples Samples a remote_write sink took from its queue and has not yet sent or dropped (the batch being sent or retried).
# TYPE lambdabridge_remote_write_in_flight_samples gauge
lambdabridge_remote_write_in_flight_samples{remote="q"} 10
# HELP lambdabridge_remote_write_queue_capacity_samples Capacity of a remote_write sink's queue.
# TYPE lambdabridge_remote_write_queue_capacity_samples gauge
lambdabridge_remote_write_queue_capacity_samples{remote="q"} 100
# HELP lambdabridge_remote_write_queue_samples Samples waiting in a remote_write sink's queue (at most its capacity plus one per series; the batches being sent are in lambdabridge_remote_write_in_flight_samples).
# TYPE lambdabridge_remote_write_queue_samples gauge
lambdabridge_remote_write_queue_samples{remote="q"} 590
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "lambdabridge_remote_write_queue_samples",
		"lambdabridge_remote_write_in_flight_samples", "lambdabridge_remote_write_queue_capacity_samples"); err != nil {
		t.Error(err)
	}
	// 300 first samples (never coalesced) + 300 of the second gather wait;
	// the next 4 gathers replace the second gather's samples
	s := checkAccounting(t, w, rc, false)
	if s.Emitted != 1800 || s.Pending != 600 || s.Coalesced != 1200 || s.DroppedTotal() != 0 {
		t.Errorf("stats %s, want 1800 emitted, 600 pending (590 queued + 10 in flight), 1200 coalesced", s)
	}
	release()
	if err := flush(t, w); err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, w, rc, false)
	last := map[string]float64{}
	for _, p := range rc.points() {
		last[p.Series] = p.V
	}
	for k, v := range last {
		if v != 6 {
			t.Errorf("series %s: last value %v, want 6", k, v)
		}
	}
	if len(last) != 300 {
		t.Errorf("%d series delivered, want 300", len(last))
	}
}

// TestQueueNeverDropsTheLastValue: a tail of many series with the default
// capacity (10,000) and a receiver that is behind: the queue dropped the
// newest samples (queue_full), final values included; now every series'
// last value arrives, intermediate ones are counted as coalesced.
func TestQueueNeverDropsTheLastValue(t *testing.T) {
	rc, release, received := hangingReceiver(t)
	cfg := testConfig(rc.url())
	w := newTestWriter(t, cfg)
	const series = 30000
	_ = w.Append(gauges(series, 1), time.UnixMilli(1000))
	<-received
	for i := 2; i <= 6; i++ {
		_ = w.Append(gauges(series, float64(i)), time.UnixMilli(int64(1000*i)))
	}
	release()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := w.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, w, rc, true)
	last := map[string]float64{}
	for _, p := range rc.points() {
		if !p.Stale {
			last[p.Series] = p.V
		}
	}
	bad := 0
	for _, v := range last {
		if v != 6 {
			bad++
		}
	}
	if len(last) != series || bad != 0 {
		t.Errorf("%d series delivered (want %d), %d without their last value; stats %s", len(last), series, bad, s)
	}
	if s.Coalesced == 0 || s.DroppedTotal() != 0 {
		t.Errorf("stats %s: want coalesced samples and no drops", s)
	}
}

func TestShutdownDropsWhatIsLeft(t *testing.T) {
	rc := newReceiver(t)
	rc.respond = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		http.Error(w, "down", http.StatusBadGateway)
		return true
	}
	cfg := testConfig(rc.url())
	cfg.QueueConfig.Capacity = 100
	cfg.QueueConfig.MaxSamplesPerSend = 10
	w, err := New(cfg, WithClock(fakeClock()))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 10 {
		if err := w.Append(gauges(50, float64(i)), time.UnixMilli(int64(1000*(i+1)))); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Append blocked %v on a failing receiver", d)
	}
	s := checkAccounting(t, w, rc, false)
	if s.DroppedTotal() != 0 || s.Coalesced == 0 {
		t.Errorf("stats %s, want coalesced samples and no drops", s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	s, err = w.Close(ctx)
	if !errors.Is(err, ErrDropped) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want ErrDropped and the deadline", err)
	}
	checkAccounting(t, w, rc, true)
	if s.Sent != 0 || s.Dropped["shutdown"] == 0 {
		t.Errorf("stats %s, want shutdown drops", s)
	}
	if !strings.Contains(err.Error(), "shutdown") {
		t.Errorf("Close error %q does not report drops by reason", err)
	}
}

func TestReceiverDown20s(t *testing.T) {
	if testing.Short() {
		t.Skip("20 s outage; skipped with -short")
	}
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down: connections are refused
	rc := &receiver{t: t}
	cfg := testConfig("http://" + addr + "/api/v1/write")
	cfg.QueueConfig.Capacity = 10000
	cfg.QueueConfig.MaxBackoff = mdur(time.Second)
	w := newTestWriter(t, cfg)
	const gathers, perGather = 20, 100
	for i := range gathers {
		_ = w.Append(gauges(perGather, float64(i)), time.UnixMilli(int64(1000*(i+1))))
		time.Sleep(time.Second)
	}
	// back up after 20 s, on the same address
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("could not listen again on %s: %v", addr, err)
	}
	rc.srv = httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	rc.srv.Listener = ln
	rc.srv.Start()
	defer rc.srv.Close()
	if err := flush(t, w); err != nil {
		t.Fatal(err)
	}
	s := checkAccounting(t, w, rc, false)
	if s.Sent != gathers*perGather || s.DroppedTotal() != 0 || s.Retried["network"] == 0 {
		t.Errorf("stats %s retried %v, want all %d sent after network retries", s, s.Retried, gathers*perGather)
	}
}

func TestOrderingAcrossRetries(t *testing.T) {
	rc := newReceiver(t)
	rc.respond = func(n int, w http.ResponseWriter, _ *http.Request) bool {
		if n%3 != 0 { // two failures out of three
			http.Error(w, "flaky", http.StatusInternalServerError)
			return true
		}
		return false
	}
	cfg := testConfig(rc.url())
	cfg.QueueConfig.MaxSamplesPerSend = 7
	cfg.QueueConfig.MinBackoff = mdur(time.Millisecond)
	cfg.QueueConfig.MaxBackoff = mdur(2 * time.Millisecond)
	w := newTestWriter(t, cfg)
	for i := range 20 {
		_ = w.Append(gauges(5, float64(i)), time.UnixMilli(int64(1000*(i+1))))
	}
	if err := flush(t, w); err != nil {
		t.Fatal(err)
	}
	got := rc.points() // fails on any series going back in time or a repeat
	if len(got) != 100 {
		t.Errorf("received %d samples, want 100", len(got))
	}
	checkAccounting(t, w, rc, false)
}

func TestSameMillisecondNotSentTwice(t *testing.T) {
	rc := newReceiver(t)
	w := newTestWriter(t, testConfig(rc.url()))
	ts := time.UnixMilli(5000)
	_ = w.Append(gauges(2, 1), ts)
	_ = w.Append(gauges(2, 1), ts)                   // same sample again: skipped, not emitted
	_ = w.Append(gauges(2, 2), ts)                   // changed at the same ms: out of order
	_ = w.Append(gauges(2, 3), ts.Add(-time.Second)) // older: out of order
	if err := flush(t, w); !errors.Is(err, ErrDropped) {
		t.Errorf("Flush = %v, want ErrDropped", err)
	}
	s := checkAccounting(t, w, rc, false)
	if s.Emitted != 6 || s.Sent != 2 || s.Dropped["out_of_order"] != 4 {
		t.Errorf("stats %s, want 6 emitted, 2 sent, 4 out_of_order", s)
	}
}

func TestStaleMarkers(t *testing.T) {
	rc := newReceiver(t)
	w := newTestWriter(t, testConfig(rc.url()))
	_ = w.Append(gauges(3, 1), time.UnixMilli(1000))
	_ = w.Append(gauges(2, 1), time.UnixMilli(2000)) // g{i="2"} disappears
	if err := flush(t, w); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	got := sortedPoints(rc.points())
	// g{i="2"} ended while the others went on: a stale marker. Close ends
	// nothing: the series of a finite run stay queryable after it.
	want := []point{
		{Series: "g,i=0", T: 1000, V: 1}, {Series: "g,i=0", T: 2000, V: 1},
		{Series: "g,i=1", T: 1000, V: 1}, {Series: "g,i=1", T: 2000, V: 1},
		{Series: "g,i=2", T: 1000, V: 1}, {Series: "g,i=2", T: 2000, V: staleNaN, Stale: true},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b float64) bool {
		return math.Float64bits(a) == math.Float64bits(b)
	})); diff != "" {
		t.Errorf("received (-want +got):\n%s", diff)
	}
	checkAccounting(t, w, rc, true)
}

func TestClosedWriter(t *testing.T) {
	rc := newReceiver(t)
	w := newTestWriter(t, testConfig(rc.url()))
	ctx := context.Background()
	if _, err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(gauges(1, 1), time.Now()); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v", err)
	}
	if err := w.Flush(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close = %v", err)
	}
	if err := w.Run(ctx, prometheus.NewRegistry()); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close = %v", err)
	}
	if _, err := w.Close(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v", err)
	}
}

func TestRunGathersEveryInterval(t *testing.T) {
	rc := newReceiver(t)
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "temperature", Help: "h"})
	reg.MustRegister(g)
	w := newTestWriter(t, testConfig(rc.url()), WithInterval(10*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx, reg) }()
	deadline := time.Now().Add(5 * time.Second)
	for w.Stats().Emitted < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if err := flush(t, w); err != nil { // Flush gathers with Run's gatherer
		t.Fatal(err)
	}
	if got := rc.count(); got < 4 {
		t.Errorf("received %d samples, want >= 4", got)
	}
	checkAccounting(t, w, rc, false)
}

func TestBatchSendDeadline(t *testing.T) {
	rc := newReceiver(t)
	cfg := testConfig(rc.url())
	cfg.QueueConfig.BatchSendDeadline = mdur(50 * time.Millisecond)
	w := newTestWriter(t, cfg)
	_ = w.Append(gauges(3, 1), time.UnixMilli(1000)) // far below max_samples_per_send
	// The receiver counts a request when it arrives and its samples once
	// decoded: wait for the samples.
	deadline := time.Now().Add(5 * time.Second)
	for rc.count() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := rc.count(); n != 3 {
		t.Errorf("partial batch not sent after batch_send_deadline: %d of 3 samples received", n)
	}
}

func TestMetricsExported(t *testing.T) {
	rc := newReceiver(t)
	rc.respond = func(n int, w http.ResponseWriter, _ *http.Request) bool {
		switch n {
		case 1:
			http.Error(w, "", http.StatusInternalServerError)
		case 2:
			http.Error(w, "", http.StatusBadRequest)
		default:
			return false
		}
		return true
	}
	cfg := testConfig(rc.url())
	cfg.Name = "amp"
	cfg.QueueConfig.MaxSamplesPerSend = 2
	w := newTestWriter(t, cfg)
	bad := &dto.MetricFamily{Name: proto.String("bad-name"), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(1)}}}}
	_ = w.Append(append(gauges(4, 1), bad), time.UnixMilli(1000))
	_ = flush(t, w)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(w)
	want := `
# HELP lambdabridge_remote_write_queue_capacity_samples Capacity of a remote_write sink's queue.
# TYPE lambdabridge_remote_write_queue_capacity_samples gauge
lambdabridge_remote_write_queue_capacity_samples{remote="amp"} 10000
# HELP lambdabridge_remote_write_in_flight_samples Samples a remote_write sink took from its queue and has not yet sent or dropped (the batch being sent or retried).
# TYPE lambdabridge_remote_write_in_flight_samples gauge
lambdabridge_remote_write_in_flight_samples{remote="amp"} 0
# HELP lambdabridge_remote_write_metadata_total Metadata entries (type, help and unit of one family) a remote_write sink sent with Remote Write 1.0, by outcome (sent, failed).
# TYPE lambdabridge_remote_write_metadata_total counter
lambdabridge_remote_write_metadata_total{outcome="failed",remote="amp"} 0
lambdabridge_remote_write_metadata_total{outcome="sent",remote="amp"} 0
# HELP lambdabridge_remote_write_queue_samples Samples waiting in a remote_write sink's queue (at most its capacity plus one per series; the batches being sent are in lambdabridge_remote_write_in_flight_samples).
# TYPE lambdabridge_remote_write_queue_samples gauge
lambdabridge_remote_write_queue_samples{remote="amp"} 0
# HELP lambdabridge_remote_write_samples_total Samples handled by a remote_write sink, by outcome (sent, coalesced: replaced while waiting by a newer sample of their series, retried, dropped) and reason.
# TYPE lambdabridge_remote_write_samples_total counter
lambdabridge_remote_write_samples_total{outcome="coalesced",reason="",remote="amp"} 0
lambdabridge_remote_write_samples_total{outcome="dropped",reason="http_4xx_after_retry",remote="amp"} 2
lambdabridge_remote_write_samples_total{outcome="dropped",reason="invalid_metric_name",remote="amp"} 1
lambdabridge_remote_write_samples_total{outcome="retried",reason="http_5xx",remote="amp"} 2
lambdabridge_remote_write_samples_total{outcome="sent",reason="",remote="amp"} 2
# HELP lambdabridge_remote_write_shards Shards (parallel senders) of a remote_write sink, between min_shards and max_shards.
# TYPE lambdabridge_remote_write_shards gauge
lambdabridge_remote_write_shards{remote="amp"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
	checkAccounting(t, w, rc, false)
	// two writers register side by side
	w2 := newTestWriter(t, testConfig(rc.url()))
	if err := reg.Register(w2); err != nil {
		t.Errorf("second writer: %v", err)
	}
}

func TestNoSecretsInLogsErrorsOrLabels(t *testing.T) {
	rc := newReceiver(t)
	rc.respond = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		http.Error(w, "denied", http.StatusUnauthorized)
		return true
	}
	var logs bytes.Buffer
	u := strings.Replace(rc.url(), "http://", "http://user:urlpass@", 1) + "?token=querysecret"
	cfg := testConfig(u)
	cfg.Headers = nil
	cfg.BasicAuth = &BasicAuth{Username: "u", Password: "basicsecret"}
	w := newTestWriter(t, cfg, WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	_ = w.Append(gauges(1, 1), time.UnixMilli(1000))
	ferr := flush(t, w)
	reg := prometheus.NewRegistry()
	reg.MustRegister(w)
	mfs, _ := reg.Gather()
	all := logs.String() + fmt.Sprint(ferr) + fmt.Sprint(mfs) + fmt.Sprintf("%v %+v", cfg.BasicAuth, *cfg.BasicAuth)
	for _, secret := range []string{"urlpass", "querysecret", "basicsecret"} {
		if strings.Contains(all, secret) {
			t.Errorf("%q leaked:\n%s", secret, all)
		}
	}
	if !strings.Contains(logs.String(), "status 401") {
		t.Errorf("log lacks the status:\n%s", logs.String())
	}
	// a network error too (url.Error would quote the URL)
	cfg.URL = "http://user:urlpass@127.0.0.1:1/x?token=querysecret"
	w2 := newTestWriter(t, cfg)
	_ = w2.Append(gauges(1, 1), time.UnixMilli(1000))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := w2.Flush(ctx)
	_, cerr := w2.Close(ctx)
	for _, e := range []error{err, cerr} {
		if e != nil && (strings.Contains(e.Error(), "urlpass") || strings.Contains(e.Error(), "querysecret")) {
			t.Errorf("error leaks the URL's secrets: %v", e)
		}
	}
}

func TestAuthHeaders(t *testing.T) {
	dir := t.TempDir()
	tokenFile := writeFile(t, dir, "token", "filetoken\n")
	for _, tc := range []struct {
		name string
		set  func(*Config)
		want string
	}{
		{"basic", func(c *Config) { c.BasicAuth = &BasicAuth{Username: "u", Password: "p"} }, "Basic dTpw"},
		{"basic file", func(c *Config) { c.BasicAuth = &BasicAuth{Username: "u", PasswordFile: writeFile(t, dir, "pw", "p\n")} }, "Basic dTpw"},
		{"bearer", func(c *Config) { c.BearerToken = "tok" }, "Bearer tok"},
		{"bearer file", func(c *Config) { c.BearerTokenFile = tokenFile }, "Bearer filetoken"},
		{"authorization", func(c *Config) { c.Authorization = &Authorization{Credentials: "tok"} }, "Bearer tok"},
		{"authorization type", func(c *Config) { c.Authorization = &Authorization{Type: "Token", CredentialsFile: tokenFile} }, "Token filetoken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t)
			rc.check = func(r *http.Request, _ []byte) error {
				if got := r.Header.Get("Authorization"); got != tc.want {
					return fmt.Errorf("Authorization = %q, want %q", got, tc.want)
				}
				return nil
			}
			cfg := testConfig(rc.url())
			tc.set(&cfg)
			w := newTestWriter(t, cfg)
			_ = w.Append(gauges(1, 1), time.UnixMilli(1000))
			if err := flush(t, w); err != nil {
				t.Error(err)
			}
			checkAccounting(t, w, rc, false)
		})
	}
}

func TestGathersInOneMillisecond(t *testing.T) {
	rc := newReceiver(t)
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "g", Help: "h"})
	reg.MustRegister(g)
	g.Set(1)
	frozen := time.UnixMilli(7000)
	w := newTestWriter(t, testConfig(rc.url()), WithGatherer(reg), WithClock(func() time.Time { return frozen }))
	for range 2 { // the second gather repeats the sample: skipped
		if err := flush(t, w); err != nil {
			t.Fatal(err)
		}
	}
	g.Set(2) // changed within the millisecond: sent 1 ms later, not lost
	if err := flush(t, w); err != nil {
		t.Fatal(err)
	}
	want := []point{{Series: "g", T: 7000, V: 1}, {Series: "g", T: 7001, V: 2}}
	if diff := cmp.Diff(want, rc.points()); diff != "" {
		t.Errorf("received (-want +got):\n%s", diff)
	}
	if s := checkAccounting(t, w, rc, false); s.Emitted != 2 {
		t.Errorf("stats %s, want 2 emitted", s)
	}
}

func TestTLSConfig(t *testing.T) {
	rc := &receiver{t: t}
	rc.srv = httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	rc.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	rc.srv.StartTLS()
	defer rc.srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rc.srv.Certificate().Raw})
	caFile := writeFile(t, t.TempDir(), "ca.pem", string(ca))
	for _, tc := range []struct {
		name string
		tls  TLSConfig
	}{
		{"ca_file", TLSConfig{CAFile: caFile}},
		{"insecure_skip_verify", TLSConfig{InsecureSkipVerify: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(rc.url())
			cfg.TLSConfig = tc.tls
			w := newTestWriter(t, cfg)
			_ = w.Append(gauges(1, 1), time.UnixMilli(1000))
			if err := flush(t, w); err != nil {
				t.Fatal(err)
			}
		})
	}
	// an unknown CA is a network error, retried, never delivered
	w := newTestWriter(t, testConfig(rc.url()))
	_ = w.Append(gauges(1, 1), time.UnixMilli(1000))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for w.Stats().Retried["network"] == 0 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	if s := w.Stats(); s.Retried["network"] == 0 || s.Sent != 0 {
		t.Errorf("stats %s retried %v, want network retries", s, s.Retried)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelShort()
	if s, err := w.Close(short); !errors.Is(err, ErrDropped) || s.Dropped["shutdown"] != 1 { // the sample (Close adds no stale marker)
		t.Errorf("Close = %v, stats %s", err, s)
	}
	if _, err := New(Config{URL: rc.url(), TLSConfig: TLSConfig{CAFile: filepath.Join(t.TempDir(), "missing.pem")}}); err == nil {
		t.Errorf("New accepted a missing ca_file")
	}
}

// TestMetadata: metadata_config {send: true} sends each family's type, help
// and unit in 1.0 metadata requests (accepted and ignored before); a flush
// sends new families at once, the interval sends all again.
func TestMetadata(t *testing.T) {
	rc := newReceiver(t)
	cfg := testConfig(rc.url())
	cfg.MetadataConfig = MetadataConfig{Send: boolPtr(true), SendInterval: mdur(300 * time.Millisecond), MaxSamplesPerSend: 1}
	w := newTestWriter(t, cfg)
	fams := append(gauges(2, 1), &dto.MetricFamily{Name: proto.String("requests_total"), Help: proto.String("Requests."),
		Unit: proto.String("requests"), Type: dto.MetricType_COUNTER.Enum(),
		Metric: []*dto.Metric{{Counter: &dto.Counter{Value: proto.Float64(3)}}}})
	_ = w.Append(fams, time.UnixMilli(1000))
	if err := flush(t, w); err != nil {
		t.Fatal(err)
	}
	want := []prompb.MetricMetadata{
		{Type: prompb.MetricMetadata_GAUGE, MetricFamilyName: "g"},
		{Type: prompb.MetricMetadata_COUNTER, MetricFamilyName: "requests_total", Help: "Requests.", Unit: "requests"},
	}
	rc.mu.Lock()
	got := slices.Clone(rc.metadata)
	rc.mu.Unlock()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metadata after a flush (-want +got):\n%s", diff)
	}
	testenvEventually(t, 5*time.Second, func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return len(rc.metadata) >= 4
	})
	if s := w.Stats(); s.Sent != 3 {
		t.Errorf("stats %s", s)
	}
}

func testenvEventually(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLogNamesRemote: the writer's log records carry its remote name and
// URL, the name added as each record is written (lazyRemote), in a
// logger's groups too.
func TestLogNamesRemote(t *testing.T) {
	var buf bytes.Buffer
	cfg := Config{URL: "http://127.0.0.1:1/api/v1/write"}
	w, err := New(cfg, WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	defer w.Close(ctx)
	w.log.Warn("first", "n", 1)
	w.log.WithGroup("g").Warn("second")
	want := "remote=" + cfg.RemoteName()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `msg=first url=http://127.0.0.1:1/api/v1/write n=1 `+want) || !strings.Contains(lines[1], "g."+want) {
		t.Errorf("log:\n%s\nwant both records with %s", buf.String(), want)
	}
}

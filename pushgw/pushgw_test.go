package pushgw

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

func TestNewConfig(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // substring; "" means ok
	}{
		{name: "minimal", cfg: Config{URL: "http://127.0.0.1:9091", Job: "j"}},
		{name: "post", cfg: Config{URL: "http://127.0.0.1:9091", Job: "j", Method: MethodPost}},
		{name: "password file", cfg: Config{URL: "http://h:1", Job: "j", BasicAuth: &BasicAuth{Username: "u", PasswordFile: pwFile}}},
		{name: "no job", cfg: Config{URL: "http://127.0.0.1:9091"}, wantErr: "job is required"},
		{name: "bad method", cfg: Config{URL: "http://h:1", Job: "j", Method: "patch"}, wantErr: `method "patch"`},
		{name: "job in grouping", cfg: Config{URL: "http://h:1", Job: "j", Grouping: map[string]string{"job": "x"}}, wantErr: `grouping label "job"`},
		{name: "bad label", cfg: Config{URL: "http://h:1", Job: "j", Grouping: map[string]string{"a-b": "x"}}, wantErr: `"a-b" is invalid`},
		{name: "no scheme", cfg: Config{URL: "127.0.0.1:9091", Job: "j"}, wantErr: "want http(s)"},
		{name: "credentials not echoed", cfg: Config{URL: "ftp://u:hunter2@h:1", Job: "j"}, wantErr: "xxxxx"},
		{name: "negative interval", cfg: Config{URL: "http://h:1", Job: "j", Interval: -time.Second}, wantErr: "negative"},
		{name: "missing password file", cfg: Config{URL: "http://h:1", Job: "j", BasicAuth: &BasicAuth{PasswordFile: filepath.Join(dir, "nope")}}, wantErr: "password_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("New = %v, want error containing %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
}

// gateway is a fake Pushgateway recording requests.
type gateway struct {
	mu       sync.Mutex
	requests []request
	status   int    // reply status; 0 means 200 (202 for DELETE)
	reply    string // reply body
}

type request struct {
	Method, Path, User, Password string
	Families                     map[string]*dto.MetricFamily
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u, p, _ := r.BasicAuth()
	req := request{Method: r.Method, Path: r.URL.Path, User: u, Password: p, Families: map[string]*dto.MetricFamily{}}
	if r.Method != http.MethodDelete {
		dec := expfmt.NewDecoder(r.Body, expfmt.ResponseFormat(http.Header{"Content-Type": {r.Header.Get("Content-Type")}}))
		for {
			mf := &dto.MetricFamily{}
			if err := dec.Decode(mf); err != nil {
				break
			}
			req.Families[mf.GetName()] = mf
		}
	}
	g.mu.Lock()
	g.requests = append(g.requests, req)
	status, reply := g.status, g.reply
	g.mu.Unlock()
	switch {
	case status != 0:
	case r.Method == http.MethodDelete:
		status = http.StatusAccepted
	default:
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, reply)
}

func (g *gateway) last(t *testing.T) request {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.requests) == 0 {
		t.Fatal("no request")
	}
	return g.requests[len(g.requests)-1]
}

func registry(t testing.TB, value float64) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lb_invocations_total", Help: "Invocations."}, []string{"function"})
	c.WithLabelValues("a").Add(value)
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "lb_duration_seconds", Help: "Duration.", Buckets: []float64{1}})
	h.Observe(0.5)
	reg.MustRegister(c, h)
	return reg
}

func TestPushRequest(t *testing.T) {
	gw := &gateway{}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	for _, tt := range []struct {
		method     Method
		wantMethod string
	}{{"", http.MethodPut}, {MethodPut, http.MethodPut}, {MethodPost, http.MethodPost}} {
		s, err := New(Config{
			URL: strings.Replace(srv.URL, "http://", "http://user:pw@", 1), Job: "lambdabridge",
			Grouping: map[string]string{"instance": "env/1"}, Method: tt.method,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Push(context.Background(), registry(t, 5)); err != nil {
			t.Fatal(err)
		}
		got := gw.last(t)
		// push encodes a value with '/' in base64.
		if got.Method != tt.wantMethod || got.Path != "/metrics/job/lambdabridge/instance@base64/ZW52LzE" {
			t.Errorf("method %q: request %s %s", tt.method, got.Method, got.Path)
		}
		if got.User != "user" || got.Password != "pw" {
			t.Errorf("basic auth %q/%q, want user/pw from the URL", got.User, got.Password)
		}
		if v := got.Families["lb_invocations_total"].GetMetric()[0].GetCounter().GetValue(); v != 5 {
			t.Errorf("pushed counter %g, want 5", v)
		}
		if s.GroupURL() != srv.URL+"/metrics/job/lambdabridge/instance/env%2F1" {
			t.Errorf("GroupURL = %q", s.GroupURL())
		}
	}
}

// TestTimestampsStripped: a metric with a timestamp is pushed without it
// (the Pushgateway answers 400 to timestamps); the gatherer's families are
// not modified.
func TestTimestampsStripped(t *testing.T) {
	gw := &gateway{}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	ts := time.UnixMilli(1700000000000)
	mfs := []*dto.MetricFamily{{
		Name: new("lb_last_value"), Help: new("Last."), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: new(4.0)}, TimestampMs: new(ts.UnixMilli())}},
	}}
	g := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return mfs, nil })
	s, err := New(Config{URL: srv.URL, Job: "j"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Push(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	m := gw.last(t).Families["lb_last_value"].GetMetric()[0]
	if m.TimestampMs != nil || m.GetGauge().GetValue() != 4 {
		t.Errorf("pushed %v, want value 4 and no timestamp", m)
	}
	if mfs[0].Metric[0].TimestampMs == nil {
		t.Error("the gatherer's family was modified")
	}
}

func TestFailuresCounted(t *testing.T) {
	gw := &gateway{}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer hang.Close()
	defer close(stop)

	s, err := New(Config{URL: srv.URL, Job: "j"})
	if err != nil {
		t.Fatal(err)
	}
	reg := registry(t, 1) // 1 counter + histogram (1 bucket, +Inf, sum, count) = 5 samples
	ctx := context.Background()

	// 400 with a long body: StatusError with status, URL and 512 bytes.
	gw.set(http.StatusBadRequest, "pushed metrics are invalid "+strings.Repeat("x", 2000))
	err = s.Push(ctx, reg)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 400 || se.Method != http.MethodPut || len(se.Body) != 512 ||
		se.URL != srv.URL+"/metrics/job/j" {
		t.Fatalf("push answered 400: err = %v, want a StatusError with 512 bytes of body", err)
	}
	gw.set(http.StatusInternalServerError, "boom")
	if err := s.Push(ctx, reg); err == nil || !strings.Contains(err.Error(), "status 500: boom") {
		t.Fatalf("push answered 500: err = %v", err)
	}
	gw.set(0, "")
	if err := s.Push(ctx, reg); err != nil {
		t.Fatal(err)
	}
	// A metric carrying the job label is refused before sending.
	bad := prometheus.NewRegistry()
	bad.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "g", Help: "h", ConstLabels: prometheus.Labels{"job": "x"}}, func() float64 { return 1 }))
	if err := s.Push(ctx, bad); err == nil {
		t.Fatal("push of a metric with a job label succeeded")
	}
	// A failing gatherer.
	failing := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return nil, errors.New("broken") })
	if err := s.Push(ctx, failing); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("push of a failing gatherer: %v", err)
	}
	// Nobody listening.
	down, err := New(Config{URL: closedURL, Job: "j"})
	if err != nil {
		t.Fatal(err)
	}
	if err := down.Push(ctx, reg); err == nil {
		t.Fatal("push to a closed port succeeded")
	}
	// A hanging gateway: the timeout.
	slow, err := New(Config{URL: hang.URL, Job: "j", Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := slow.Push(ctx, reg); err == nil {
		t.Fatal("push to a hanging gateway succeeded")
	}
	// Canceled.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Push(cctx, reg); err == nil {
		t.Fatal("push with a canceled ctx succeeded")
	}

	want := Stats{
		Pushes: 1, SamplesPushed: 5,
		Failures:      map[string]uint64{"http_4xx": 1, "http_5xx": 1, "invalid": 1, "gather": 1, "canceled": 1},
		SamplesFailed: map[string]uint64{"http_4xx": 5, "http_5xx": 5, "invalid": 1, "gather": 0, "canceled": 5},
		Deletes:       map[string]uint64{},
	}
	if diff := cmp.Diff(want, s.Stats()); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	if got := down.Stats().Failures; got["network"] != 1 {
		t.Errorf("closed port: failures %v, want network 1", got)
	}
	if got := slow.Stats().Failures; got["timeout"] != 1 {
		t.Errorf("hanging gateway: failures %v, want timeout 1", got)
	}

	self := prometheus.NewPedanticRegistry()
	self.MustRegister(s.Collector())
	exp := `
# HELP lambdabridge_pushgateway_push_failures_total Failed pushes to the Pushgateway, by reason.
# TYPE lambdabridge_pushgateway_push_failures_total counter
lambdabridge_pushgateway_push_failures_total{gateway="` + srv.URL + `",group="job/j",reason="canceled"} 1
lambdabridge_pushgateway_push_failures_total{gateway="` + srv.URL + `",group="job/j",reason="gather"} 1
lambdabridge_pushgateway_push_failures_total{gateway="` + srv.URL + `",group="job/j",reason="http_4xx"} 1
lambdabridge_pushgateway_push_failures_total{gateway="` + srv.URL + `",group="job/j",reason="http_5xx"} 1
lambdabridge_pushgateway_push_failures_total{gateway="` + srv.URL + `",group="job/j",reason="invalid"} 1
# HELP lambdabridge_pushgateway_pushes_total Successful pushes to the Pushgateway, by method.
# TYPE lambdabridge_pushgateway_pushes_total counter
lambdabridge_pushgateway_pushes_total{gateway="` + srv.URL + `",group="job/j",method="put"} 1
# HELP lambdabridge_pushgateway_samples_pushed_total Samples in successful pushes to the Pushgateway.
# TYPE lambdabridge_pushgateway_samples_pushed_total counter
lambdabridge_pushgateway_samples_pushed_total{gateway="` + srv.URL + `",group="job/j"} 5
`
	if err := testutil.GatherAndCompare(self, strings.NewReader(exp),
		"lambdabridge_pushgateway_push_failures_total", "lambdabridge_pushgateway_pushes_total",
		"lambdabridge_pushgateway_samples_pushed_total"); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.GatherAndLint(self); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
}

// TestNoSecretsInMetricsOrErrors: credentials never reach the accounting
// metrics, errors or logs.
func TestNoSecretsInMetricsOrErrors(t *testing.T) {
	gw := &gateway{status: http.StatusUnauthorized, reply: "unauthorized"}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	var logBuf bytes.Buffer
	s, err := New(Config{URL: strings.Replace(srv.URL, "http://", "http://admin:hunter2@", 1), Job: "j",
		BasicAuth: &BasicAuth{Username: "admin", Password: "hunter3"}},
		WithLogger(slogTo(&logBuf)))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Push(context.Background(), registry(t, 1))
	if err == nil {
		t.Fatal("want 401")
	}
	if got := gw.last(t); got.User != "admin" || got.Password != "hunter3" {
		t.Errorf("basic auth %q/%q: the basic_auth block should win over the URL", got.User, got.Password)
	}
	self := prometheus.NewRegistry()
	self.MustRegister(s.Collector())
	mfs, _ := self.Gather()
	var text bytes.Buffer
	for _, mf := range mfs {
		_, _ = expfmt.MetricFamilyToText(&text, mf)
	}
	for _, where := range []string{err.Error(), logBuf.String(), text.String()} {
		if strings.Contains(where, "hunter") {
			t.Errorf("secret leaked: %s", where)
		}
	}
}

func TestRunIntervalAndFinish(t *testing.T) {
	gw := &gateway{}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	for _, del := range []bool{false, true} {
		gw.mu.Lock()
		gw.requests = nil
		gw.mu.Unlock()
		s, err := New(Config{URL: srv.URL, Job: "j", Interval: 20 * time.Millisecond, DeleteOnEnd: del})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx, registry(t, 1)) }()
		time.Sleep(150 * time.Millisecond)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		st := s.Stats()
		if st.Pushes < 3 {
			t.Errorf("delete=%v: %d pushes in 150ms at 20ms interval", del, st.Pushes)
		}
		last := gw.last(t).Method
		if del && (last != http.MethodDelete || st.Deletes["ok"] != 1) {
			t.Errorf("DeleteOnEnd: last request %s, deletes %v", last, st.Deletes)
		}
		if !del && last != http.MethodPut {
			t.Errorf("no DeleteOnEnd: last request %s, want a final PUT", last)
		}
	}
}

func TestSamplesCount(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		prometheus.NewCounter(prometheus.CounterOpts{Name: "c_total", Help: "h"}),
		prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h", Help: "h", Buckets: []float64{1, 2}}),
		prometheus.NewHistogram(prometheus.HistogramOpts{Name: "n", Help: "h", NativeHistogramBucketFactor: 1.1}),
		prometheus.NewSummary(prometheus.SummaryOpts{Name: "s", Help: "h", Objectives: map[float64]float64{0.5: 0.05}}),
	)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	// 1 + (2 buckets + Inf + sum + count) + 3 + (1 quantile + sum + count)
	if got := countSamples(mfs); got != 1+5+3+3 {
		t.Errorf("countSamples = %d, want 12", got)
	}
}

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (g *gateway) set(status int, reply string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.status, g.reply = status, reply
}

// TestSinksOfOneGatewayRegisterTogether: two sinks to one Pushgateway (two
// jobs, or one job with other grouping labels) had the same gateway label
// and failed with "duplicate metrics collector registration" in one
// registry; the group label now tells them apart.
func TestSinksOfOneGatewayRegisterTogether(t *testing.T) {
	self := prometheus.NewPedanticRegistry()
	for _, cfg := range []Config{
		{URL: "http://127.0.0.1:9091", Job: "orders"},
		{URL: "http://127.0.0.1:9091", Job: "payments"},
		{URL: "http://127.0.0.1:9091", Job: "orders", Grouping: map[string]string{"instance": "env/1"}},
	} {
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := self.Register(s.Collector()); err != nil {
			t.Errorf("register sink of %s: %v", s.GroupURL(), err)
		}
	}
	exp := `
# HELP lambdabridge_pushgateway_samples_pushed_total Samples in successful pushes to the Pushgateway.
# TYPE lambdabridge_pushgateway_samples_pushed_total counter
lambdabridge_pushgateway_samples_pushed_total{gateway="http://127.0.0.1:9091",group="job/orders"} 0
lambdabridge_pushgateway_samples_pushed_total{gateway="http://127.0.0.1:9091",group="job/orders/instance/env%2F1"} 0
lambdabridge_pushgateway_samples_pushed_total{gateway="http://127.0.0.1:9091",group="job/payments"} 0
`
	if err := testutil.GatherAndCompare(self, strings.NewReader(exp), "lambdabridge_pushgateway_samples_pushed_total"); err != nil {
		t.Error(err)
	}
}

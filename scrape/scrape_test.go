package scrape

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/lambdabridge/lambdabridge/internal/testenv"
)

// fixture is a registry with one family of each kind, with known values.
func fixture(t testing.TB) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	inv := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lb_test_invocations_total", Help: "Invocations.",
	}, []string{"function"})
	inv.WithLabelValues("a").Add(5)
	inv.WithLabelValues("b").Add(3)
	mem := prometheus.NewGauge(prometheus.GaugeOpts{Name: "lb_test_memory_bytes", Help: "Memory."})
	mem.Set(2.5)
	classic := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "lb_test_duration_seconds", Help: "Duration.", Buckets: []float64{0.1, 1},
	})
	native := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "lb_test_native_seconds", Help: "Native.", NativeHistogramBucketFactor: 1.1,
	})
	for _, v := range []float64{0.05, 0.5, 0.5, 2} {
		classic.Observe(v)
		native.Observe(v)
	}
	reg.MustRegister(inv, mem, classic, native)
	return reg
}

func newServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := New("127.0.0.1:0", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewListenAddress(t *testing.T) {
	tests := []struct {
		addr    string
		remote  bool
		wantErr error // nil: ok; errAny: some error
	}{
		{addr: ""},
		{addr: "127.0.0.1:9464"},
		{addr: "127.0.0.2:0"},
		{addr: "[::1]:9464"},
		{addr: "localhost:9464"},
		{addr: ":9464", wantErr: ErrNotLoopback},
		{addr: "0.0.0.0:9464", wantErr: ErrNotLoopback},
		{addr: "192.0.2.1:9464", wantErr: ErrNotLoopback},
		{addr: "0.0.0.0:9464", remote: true},
		{addr: ":9464", remote: true},
		{addr: "no-port", wantErr: errAny},
	}
	for _, tt := range tests {
		var opts []Option
		if tt.remote {
			opts = append(opts, WithAllowRemote())
		}
		s, err := New(tt.addr, opts...)
		switch {
		case tt.wantErr == nil && err != nil:
			t.Errorf("New(%q, remote=%v): %v", tt.addr, tt.remote, err)
		case tt.wantErr == errAny && err == nil,
			tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
			t.Errorf("New(%q, remote=%v) = %v, want %v", tt.addr, tt.remote, err, tt.wantErr)
		}
		if tt.addr == "" && err == nil && s.Addr() != DefaultAddr {
			t.Errorf("New(\"\").Addr() = %q, want %q", s.Addr(), DefaultAddr)
		}
	}
}

var errAny = errors.New("any error")

func get(t *testing.T, h http.Handler, path, accept string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Host = "127.0.0.1:9464" // httptest's example.com is another site
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestContentNegotiation(t *testing.T) {
	s := newServer(t, WithGatherers(fixture(t)))
	tests := []struct {
		name, accept, wantType string
		check                  func(t *testing.T, body []byte)
	}{
		{
			name: "no accept header: text", accept: "", wantType: "text/plain; version=0.0.4",
			check: func(t *testing.T, body []byte) {
				mustContain(t, body, `lb_test_invocations_total{function="a"} 5`, "lb_test_memory_bytes 2.5",
					`lb_test_duration_seconds_bucket{le="1"} 3`, "lb_test_native_seconds_count 4")
			},
		},
		{
			name: "text", accept: "text/plain;version=0.0.4", wantType: "text/plain; version=0.0.4",
			check: func(t *testing.T, body []byte) {
				mustContain(t, body, "# TYPE lb_test_invocations_total counter")
			},
		},
		{
			name:     "openmetrics (as Prometheus asks)",
			accept:   "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
			wantType: "application/openmetrics-text; version=1.0.0",
			check: func(t *testing.T, body []byte) {
				mustContain(t, body, "# TYPE lb_test_invocations counter", `lb_test_invocations_total{function="a"} 5.0`,
					`lb_test_duration_seconds_bucket{le="1.0"} 3`)
				if !bytes.HasSuffix(body, []byte("# EOF\n")) {
					t.Errorf("openmetrics body does not end with # EOF")
				}
			},
		},
		{
			name:     "protobuf delimited (native histograms)",
			accept:   "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3",
			wantType: "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
			check: func(t *testing.T, body []byte) {
				fams := decodeProto(t, body)
				h := fams["lb_test_native_seconds"].GetMetric()[0].GetHistogram()
				if h.GetSchema() == 0 && len(h.GetPositiveSpan()) == 0 {
					t.Errorf("native histogram has no native buckets: %v", h)
				}
				if h.GetSampleCount() != 4 || h.GetSampleSum() != 3.05 {
					t.Errorf("native histogram count/sum = %d/%g, want 4/3.05", h.GetSampleCount(), h.GetSampleSum())
				}
				if got := fams["lb_test_memory_bytes"].GetMetric()[0].GetGauge().GetValue(); got != 2.5 {
					t.Errorf("gauge = %g, want 2.5", got)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, s.Handler(), "/metrics", tt.accept)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, tt.wantType) {
				t.Fatalf("Content-Type = %q, want prefix %q", got, tt.wantType)
			}
			tt.check(t, body)
		})
	}
}

func decodeProto(t *testing.T, body []byte) map[string]*dto.MetricFamily {
	t.Helper()
	dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.NewFormat(expfmt.TypeProtoDelim))
	fams := map[string]*dto.MetricFamily{}
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode protobuf: %v", err)
		}
		fams[mf.GetName()] = mf
	}
	return fams
}

func mustContain(t *testing.T, body []byte, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !bytes.Contains(body, []byte(s)) {
			t.Errorf("body lacks %q:\n%s", s, body)
		}
	}
}

// TestGathererErrorContinues: one failing gatherer does not hide the others;
// the error is logged and counted.
func TestGathererErrorContinues(t *testing.T) {
	var logBuf bytes.Buffer
	self := prometheus.NewRegistry()
	failing := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		return nil, errors.New("aggregator broke")
	})
	s := newServer(t,
		WithGatherers(fixture(t), failing, self),
		WithRegisterer(self),
		WithLogger(slog.New(slog.NewTextHandler(&logBuf, nil))),
	)
	resp := get(t, s.Handler(), "/metrics", "")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	mustContain(t, body, `lb_test_invocations_total{function="a"} 5`)
	if !strings.Contains(logBuf.String(), "aggregator broke") {
		t.Errorf("log lacks the gather error: %q", logBuf.String())
	}
	want := `
# HELP promhttp_metric_handler_errors_total Total number of internal errors encountered by the promhttp metric handler.
# TYPE promhttp_metric_handler_errors_total counter
promhttp_metric_handler_errors_total{cause="encoding"} 0
promhttp_metric_handler_errors_total{cause="gathering"} 1
`
	if err := testutil.GatherAndCompare(self, strings.NewReader(want), "promhttp_metric_handler_errors_total"); err != nil {
		t.Error(err)
	}
}

func TestIndexAndHealth(t *testing.T) {
	s := newServer(t)
	for _, tt := range []struct {
		path       string
		wantStatus int
		want       string
	}{
		{"/", http.StatusOK, `<a href="/metrics">`},
		{"/-/healthy", http.StatusOK, "OK"},
		{"/nope", http.StatusNotFound, ""},
	} {
		resp := get(t, s.Handler(), tt.path, "")
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.want) {
			t.Errorf("GET %s = %d %q, want %d containing %q", tt.path, resp.StatusCode, body, tt.wantStatus, tt.want)
		}
	}
}

// TestPromtoolCheckMetrics: the served text passes `promtool check metrics`
// (the linter Prometheus ships).
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := testenv.LookPath(t, "prometheus", "promtool", "/usr/bin/promtool")
	self := prometheus.NewRegistry()
	s := newServer(t, WithGatherers(fixture(t), self), WithRegisterer(self))
	resp := get(t, s.Handler(), "/metrics", "text/plain;version=0.0.4")
	body, _ := io.ReadAll(resp.Body)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s\ninput:\n%s", err, out, body)
	}
}

// serveLoopback serves s on a free loopback port until cancel is called;
// done then yields what ServeListener returned.
func serveLoopback(t *testing.T, s *Server) (addr string, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.ServeListener(ctx, ln) }()
	return ln.Addr().String(), cancel, errc
}

func TestServeStopsWithContext(t *testing.T) {
	s := newServer(t, WithGatherers(fixture(t)))
	addr, cancel, done := serveLoopback(t, s)
	resp, err := http.Get("http://" + addr + "/-/healthy")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ServeListener after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeListener did not return after ctx ended")
	}
	if _, err := http.Get("http://" + addr + "/-/healthy"); err == nil {
		t.Fatal("still serving after ctx ended")
	}
}

func TestServeListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, err := New(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(context.Background()); err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Fatalf("Serve on a taken port = %v, want a listen error", err)
	}
}

// TestRealPrometheusScrapes: a real Prometheus scrapes the sink and the
// values are read back through PromQL, once with the protobuf format and
// native histograms (feature flag) and once with OpenMetrics (its default).
func TestRealPrometheusScrapes(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	begin := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	s := newServer(t, WithGatherers(fixture(t)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeListener(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	target := ln.Addr().String()

	common := testenv.Vector{
		`lb_test_invocations_total{function="a", instance="` + target + `", job="lambdabridge"}`: 5,
		`lb_test_invocations_total{function="b", instance="` + target + `", job="lambdabridge"}`: 3,
	}
	t.Run("protobuf+native", func(t *testing.T) {
		prom := testenv.StartPrometheus(t,
			testenv.WithScrape(testenv.ScrapeConfig{Job: "lambdabridge", Targets: []string{target}}),
			testenv.WithPrometheusArgs("--enable-feature=native-histograms"))
		prom.WaitTargetsUp(t, "lambdabridge", 1, 30*time.Second)
		testenv.EventuallyVector(t, prom, "lb_test_invocations_total", common, 10*time.Second)
		testenv.EventuallyValue(t, prom, "lb_test_memory_bytes", 2.5, 5*time.Second)
		testenv.EventuallyValue(t, prom, "histogram_count(lb_test_native_seconds)", 4, 5*time.Second)
		testenv.EventuallyValue(t, prom, "histogram_sum(lb_test_native_seconds)", 3.05, 5*time.Second)
		// Prometheus 2.42 names the bucket le="1.0" when it parses protobuf,
		// as with OpenMetrics (the text format would give le="1").
		testenv.EventuallyValue(t, prom, `lb_test_duration_seconds_bucket{le="1.0"}`, 3, 5*time.Second)
		t.Logf("done after %v", time.Since(begin))
	})
	t.Run("openmetrics", func(t *testing.T) {
		prom := testenv.StartPrometheus(t,
			testenv.WithScrape(testenv.ScrapeConfig{Job: "lambdabridge", Targets: []string{target}}))
		prom.WaitTargetsUp(t, "lambdabridge", 1, 30*time.Second)
		testenv.EventuallyVector(t, prom, "lb_test_invocations_total", common, 10*time.Second)
		testenv.EventuallyValue(t, prom, "lb_test_memory_bytes", 2.5, 5*time.Second)
		testenv.EventuallyValue(t, prom, "lb_test_duration_seconds_count", 4, 5*time.Second)
		testenv.EventuallyValue(t, prom, "lb_test_duration_seconds_sum", 3.05, 5*time.Second)
		// OpenMetrics writes le="1.0"; Prometheus stores it as scraped.
		testenv.EventuallyValue(t, prom, `lb_test_duration_seconds_bucket{le="1.0"}`, 3, 5*time.Second)
		testenv.EventuallyValue(t, prom, "lb_test_native_seconds_count", 4, 5*time.Second)
		t.Logf("done after %v", time.Since(begin))
	})
}

// TestCreatedTimestamps: the protobuf format carries every counter's and
// histogram's created timestamp; the OpenMetrics text adds _created samples
// only with WithCreatedSamples (Prometheus before 2.50 would store them as
// series of their own).
func TestCreatedTimestamps(t *testing.T) {
	const (
		protoAccept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
		omAccept    = "application/openmetrics-text;version=1.0.0"
	)
	for _, tc := range []struct {
		name        string
		opts        []Option
		wantCreated bool
	}{
		{"default", nil, false},
		{"with created samples", []Option{WithCreatedSamples()}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, append([]Option{WithGatherers(fixture(t))}, tc.opts...)...)
			body, _ := io.ReadAll(get(t, s.Handler(), "/metrics", protoAccept).Body)
			fams := decodeProto(t, body)
			if ct := fams["lb_test_invocations_total"].GetMetric()[0].GetCounter().GetCreatedTimestamp(); ct == nil || ct.AsTime().IsZero() {
				t.Errorf("protobuf counter has no created timestamp")
			}
			if ct := fams["lb_test_duration_seconds"].GetMetric()[0].GetHistogram().GetCreatedTimestamp(); ct == nil {
				t.Errorf("protobuf histogram has no created timestamp")
			}
			body, _ = io.ReadAll(get(t, s.Handler(), "/metrics", omAccept).Body)
			if got := bytes.Contains(body, []byte(`lb_test_invocations_created{function="a"}`)); got != tc.wantCreated {
				t.Errorf("OpenMetrics has _created: %v, want %v:\n%s", got, tc.wantCreated, body)
			}
		})
	}
}

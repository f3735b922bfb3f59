package remotewrite

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/prometheus/prompb"

	"github.com/lambdabridge/lambdabridge/internal/testenv"
)

// delayProxy forwards remote-write requests to a real receiver after a
// fixed delay (a remote workspace's round trip), counting the samples each
// sender (by User-Agent prefix) got accepted.
type delayProxy struct {
	delay             time.Duration
	next              *httputil.ReverseProxy
	lambdabridge, agt atomic.Int64
}

func newDelayProxy(t testing.TB, target string, delay time.Duration) (*delayProxy, string) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &delayProxy{delay: delay, next: httputil.NewSingleHostReverseProxy(u)}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

func (p *delayProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	time.Sleep(p.delay)
	n := countSamples(body)
	rec := &statusRecorder{ResponseWriter: w}
	r.Body = io.NopCloser(bytes.NewReader(body))
	p.next.ServeHTTP(rec, r)
	if rec.status/100 != 2 {
		return
	}
	if strings.HasPrefix(r.UserAgent(), "lambdabridge/") {
		p.lambdabridge.Add(n)
	} else {
		p.agt.Add(n)
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func countSamples(body []byte) int64 {
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		return 0
	}
	var req prompb.WriteRequest
	if err := req.Unmarshal(raw); err != nil {
		return 0
	}
	var n int64
	for _, ts := range req.Timeseries {
		n += int64(len(ts.Samples) + len(ts.Histograms))
	}
	return n
}

// startAgent starts Prometheus 2.42 in agent mode scraping target every
// interval and remote-writing to rwURL with Prometheus' default queue.
func startAgent(b *testing.B, target, rwURL string, interval time.Duration) {
	bin := testenv.LookPath(b, "prometheus", "prometheus", "/usr/bin/prometheus")
	dir := b.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: %s
  scrape_timeout: %s
scrape_configs:
  - job_name: bench
    static_configs: [{targets: [%q]}]
remote_write:
  - url: %s
`, interval, interval, target, rwURL)
	path := filepath.Join(dir, "agent.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	startProcess(b, "prometheus-agent", bin, dir, func(port int) []string {
		return []string{"--enable-feature=agent", "--config.file=" + path, "--storage.agent.path=" + filepath.Join(dir, "wal"),
			"--web.listen-address=127.0.0.1:" + strconv.Itoa(port)}
	})
}

// BenchmarkSendThrough50msVersusPrometheusAgent: the same registry of
// `series` gauges, changing every interval, is sent through a loopback
// proxy adding 50 ms per request to a real Prometheus by a Writer (default
// queue_config: resharding 1..50 shards) and by a Prometheus agent
// scraping it (its own default queue_config), side by side in one run. It
// reports the samples per second each got accepted.
func BenchmarkSendThrough50msVersusPrometheusAgent(b *testing.B) {
	const series, interval, run = 50_000, time.Second, 30 * time.Second
	prom := testenv.StartPrometheus(b)
	proxy, proxyURL := newDelayProxy(b, prom.URL, 50*time.Millisecond)
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bench_value", Help: "h"}, []string{"i"})
	reg.MustRegister(g)
	gauges := make([]prometheus.Gauge, series)
	for i := range gauges {
		gauges[i] = g.WithLabelValues(strconv.Itoa(i))
	}
	metrics := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	b.Cleanup(metrics.Close)
	for b.Loop() {
		proxy.lambdabridge.Store(0)
		proxy.agt.Store(0)
		cfg := DefaultConfig()
		cfg.URL = proxyURL + "/api/v1/write"
		cfg.MetadataConfig.Send = boolPtr(false) // the agent's metadata requests are not counted either
		w, err := New(cfg, WithInterval(interval), WithVersion("bench"))
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), run)
		go func() { _ = w.Run(ctx, reg) }()
		startAgent(b, metrics.Listener.Addr().String(), proxyURL+"/api/v1/write", interval)
		stop := time.Now().Add(run)
		for v := 0.0; time.Now().Before(stop); v++ {
			for _, x := range gauges {
				x.Set(v)
			}
			time.Sleep(interval)
		}
		cancel()
		lb, agent := float64(proxy.lambdabridge.Load()), float64(proxy.agt.Load())
		dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
		s, _ := w.Close(dctx)
		dcancel()
		b.ReportMetric(lb/run.Seconds(), "lambdabridge-samples/s")
		b.ReportMetric(agent/run.Seconds(), "prometheus-agent-samples/s")
		b.Logf("in %v: lambdabridge %.0f samples accepted (%s), shards at the end %d; Prometheus agent %.0f", run, lb, s, w.q.numShards(), agent)
	}
}

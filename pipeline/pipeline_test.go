package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"

	"github.com/lambdabridge/lambdabridge/logline"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/pushgw"
	"github.com/lambdabridge/lambdabridge/remotewrite"
)

var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func emfLine(name, unit string, v int) []byte {
	return fmt.Appendf(nil, `{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"%s","Unit":"%s"}]}]},"Service":"checkout","%s":%d}`,
		testNow.UnixMilli(), name, unit, name, v)
}

// memSink is an in-process sink: it counts the invocation signals it got
// and keeps what the aggregation held when it was shut down.
type memSink struct {
	name        string
	hang        bool // Shutdown blocks until its ctx ends
	invocations chan struct{}

	mu       sync.Mutex
	final    []*dto.MetricFamily
	shutdown error
}

func (s *memSink) Name() string { return s.name }

func (s *memSink) Run(ctx context.Context, env *Env) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-env.Invocations:
			s.invocations <- struct{}{}
		}
	}
}

func (s *memSink) Shutdown(ctx context.Context, g Gatherer) error {
	if s.hang {
		<-ctx.Done()
		return ctx.Err()
	}
	if err := ctx.Err(); err != nil { // a real sink's request would fail now
		return err
	}
	mfs, err := g.Gather()
	s.mu.Lock()
	s.final, s.shutdown = mfs, err
	s.mu.Unlock()
	return err
}

func value(mfs []*dto.MetricFamily, name string) (float64, bool) {
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		var v float64
		for _, m := range mf.GetMetric() {
			v += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
		return v, true
	}
	return 0, false
}

// Every source of the pipeline (function lines, platform points, DogStatsD
// datagrams) reaches the handlers, the aggregation, the scrape endpoint on
// loopback and an in-process sink; Finish adds the diagnostics that need
// the whole input; Run drains the sinks when ctx ends.
func TestSources(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mem := &memSink{name: "mem", invocations: make(chan struct{}, 10)}
	var mu sync.Mutex
	var lines, rules []string
	var points int
	p, err := New(WithScrape(ln), WithSink(mem),
		WithParserOptions(logline.WithClock(func() time.Time { return testNow })),
		WithLineHandler(func(o metric.Origin, stream string, line []byte, f metric.Format) {
			mu.Lock()
			lines = append(lines, fmt.Sprintf("%s %s:%d %s", stream, o.Source, o.Line, f))
			mu.Unlock()
		}),
		WithDiagnosticHandler(func(d *metric.Diagnostic) { rules = append(rules, d.Rule) }),
		WithPointHandler(func(*metric.Point) { points++ }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	fn := metric.Origin{Source: "fn", Function: "fn", Environment: "env-1"}
	fn.Line = 1
	p.Line(fn, "stdout", emfLine("Orders", "Count", 3))
	fn.Line = 2
	p.Line(fn, "stdout", []byte("just a log line"))
	fn.Line = 3
	p.Line(fn, "stdout", emfLine("Orders", "Milliseconds", 4)) // unit drift: a Finish warning
	p.Platform(&metric.Point{Format: metric.FormatPlatform, Name: "lambda_invocations_total", Kind: metric.Counter,
		Labels: []metric.Label{{Name: "function_name", Value: "fn"}}, Values: []float64{1}, Origin: fn})
	p.Datagram([]byte("shop.hits:2|c|#env:prod\nshop.hits:5|c|#env:prod"), netip.MustParseAddrPort("127.0.0.1:40000"))
	p.DatagramFunc("fn")([]byte("shop.hits:1|c|#env:prod"), netip.MustParseAddrPort("127.0.0.1:40000"))

	select {
	case <-mem.invocations:
	case <-time.After(10 * time.Second):
		t.Fatal("the sink got no invocation signal")
	}
	body := httpGet(t, "http://"+ln.Addr().String()+"/metrics")
	for _, want := range []string{`lambda_invocations_total{function_name="fn"} 1`, "shop_hits_total", "lambdabridge_log_lines_total", "lambdabridge_dogstatsd_datagrams_total 2"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	p.Finish()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if diff := cmp.Diff([]string{"stdout fn:1 emf", "stdout fn:2 unknown", "stdout fn:3 emf"}, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"emf/unit-drift"}, rules); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if hits, _ := value(mem.final, "shop_hits_total"); hits != 8 {
		t.Errorf("shop_hits_total at shutdown = %v, want 8", hits)
	}
	if _, ok := value(mem.final, "lambda_invocations_total"); !ok {
		t.Error("the sink's last gather lacks the platform point")
	}
	in := p.Input()
	if in.Lines != 3 || in.Datagrams != 2 || in.Points != points || in.Warnings != 1 {
		t.Errorf("Input = %+v, want 3 lines, 2 datagrams, %d points, 1 warning", in, points)
	}
}

// Shutdown gives each sink the whole drain timeout, at once: a sink that
// hangs until its deadline does not keep the others from delivering.
func TestDrainInParallel(t *testing.T) {
	hanging := &memSink{name: "hanging", hang: true}
	ok := &memSink{name: "ok"}
	p, err := New(WithSink(hanging), WithSink(ok), WithDrainTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	p.Line(metric.Origin{Source: "t", Line: 1}, "log", emfLine("Orders", "Count", 1))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = p.Run(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "sink hanging") {
		t.Errorf("Run = %v, want the hanging sink's deadline error", err)
	}
	if ok.shutdown != nil || len(ok.final) == 0 {
		t.Errorf("the other sink did not deliver: %v, %d families", ok.shutdown, len(ok.final))
	}
	st := p.SinkStatus()
	if len(st) != 2 || st[0].Err == nil || st[1].Err != nil {
		t.Errorf("SinkStatus = %+v, want the hanging sink's error only", st)
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Each sink says where it delivers (without credentials), what it sent and
// dropped, and its last error; a Pushgateway's failed last push counts its
// samples as lost.
func TestSinkStatus(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	rc, err := remotewrite.URLConfig("http://user:secret@"+dead+"/api/v1/write", "")
	if err != nil {
		t.Fatal(err)
	}
	rc.QueueConfig.MinBackoff = model.Duration(5 * time.Millisecond)
	rc.QueueConfig.MaxBackoff = model.Duration(20 * time.Millisecond)
	w, err := remotewrite.New(rc)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := pushgw.New(pushgw.Config{URL: "http://user:secret@" + dead, Job: "j", Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(WithSink(RemoteWrite(w)), WithSink(Pushgateway(pg, true)), WithDrainTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	p.Line(metric.Origin{Source: "t", Line: 1}, "log", emfLine("Orders", "Count", 1))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Run(ctx); err == nil {
		t.Error("Run = nil with every sink failing")
	}
	st := p.SinkStatus()
	if len(st) != 2 {
		t.Fatalf("%d statuses, want 2", len(st))
	}
	for _, s := range st {
		if strings.Contains(s.URL, "secret") || s.LastError != "connection refused" || s.DroppedTotal() == 0 || s.Err == nil {
			t.Errorf("%s status %+v: want a URL without credentials, samples dropped, last error connection refused", s.Kind, s)
		}
	}
	if st[1].Dropped["final_push"] == 0 {
		t.Errorf("pushgateway dropped %v, want final_push", st[1].Dropped)
	}
}

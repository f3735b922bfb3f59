package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/dogstatsd"
	"github.com/lambdabridge/lambdabridge/emf"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/pushgw"
	"github.com/lambdabridge/lambdabridge/remotewrite"
	"github.com/lambdabridge/lambdabridge/scrape"
)

// invocations is how many invocations the simulated function runs.
const invocations = 20

// emitLines is what invocation i (1-based) writes: an EMF event and a
// DogStatsD datagram.
func emitLines(i int) (emfLine, datagram string) {
	emfLine = fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"shop","Dimensions":[["service"]],`+
		`"Metrics":[{"Name":"Orders","Unit":"Count"},{"Name":"Latency","Unit":"Milliseconds"},{"Name":"QueueDepth","Unit":"None"}]}]},`+
		`"service":"checkout","Orders":%d,"Latency":%d,"QueueDepth":%d}`, time.Now().UnixMilli(), i, 10*i, 100+i)
	datagram = fmt.Sprintf("cart.items:%d|c|#env:dev\ncart.size:%d|g", i, i)
	return emfLine, datagram
}

// expected is what the function emitted over all invocations, computed from
// the inputs, not from lambdabridge: query suffix (labels) -> value.
func expected() map[string]float64 {
	var orders, latencyMs float64
	for i := 1; i <= invocations; i++ {
		orders += float64(i)
		latencyMs += float64(10 * i)
	}
	return map[string]float64{
		`shop_orders_total{service="checkout"}`:                     orders,           // counter: summed
		`shop_latency_seconds_count{service="checkout"}`:            invocations,      // histogram count
		`shop_latency_seconds_sum{service="checkout"}`:              latencyMs / 1000, // histogram sum, ms -> s
		`shop_latency_seconds_bucket{service="checkout",le="0.1"}`:  10,               // 10..100 ms
		`shop_latency_seconds_bucket{service="checkout",le="+Inf"}`: invocations,
		`shop_queue_depth{service="checkout"}`:                      100 + invocations, // gauge: last value
		`cart_items_total{env="dev"}`:                               orders,
		`cart_size`:                                                 invocations,
	}
}

// TestEndToEnd runs the simulated function through every sink at once and
// checks every route through PromQL:
//
//	scrape:       /metrics <- Prometheus scrape           {job="lambdabridge"}
//	remote_write: remotewrite -> Prometheus receiver      {route="remote_write"}
//	remote_write: remotewrite -> VictoriaMetrics
//	pushgateway:  pushgw -> Pushgateway <- Prometheus     {job="lambdabridge-push", instance="e2e"}
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real Prometheus, VictoriaMetrics and Pushgateway; skipped with -short")
	}
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Backends.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pg := testenv.StartPushgateway(t)
	vm := testenv.StartVictoriaMetrics(t)
	prom := testenv.StartPrometheus(t, testenv.WithScrape(
		testenv.ScrapeConfig{Job: "lambdabridge", Targets: []string{ln.Addr().String()}},
		testenv.ScrapeConfig{Job: "pushgateway", Targets: []string{pg.Addr}, HonorLabels: true},
	))
	t.Logf("backends ready after %.1fs", time.Since(begin).Seconds())

	// lambdabridge: aggregation and sinks.
	agg := aggregate.New()
	self := prometheus.NewRegistry()
	srv, err := scrape.New(ln.Addr().String(), scrape.WithGatherers(agg, self), scrape.WithRegisterer(self))
	if err != nil {
		t.Fatal(err)
	}
	serveCtx, stopServe := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.ServeListener(serveCtx, ln) }()
	defer func() {
		stopServe()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()

	newWriter := func(url string, labels map[string]string) *remotewrite.Writer {
		cfg := remotewrite.DefaultConfig()
		cfg.URL = url
		w, err := remotewrite.New(cfg, remotewrite.WithGatherer(agg), remotewrite.WithExternalLabels(labels))
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	rwProm := newWriter(prom.RemoteWriteURL(), map[string]string{"route": "remote_write"})
	rwVM := newWriter(vm.RemoteWriteURL(), map[string]string{"route": "remote_write"})
	push, err := pushgw.New(pushgw.Config{URL: pg.URL, Job: "lambdabridge-push",
		Grouping: map[string]string{"instance": "e2e"}, DeleteOnEnd: true})
	if err != nil {
		t.Fatal(err)
	}
	self.MustRegister(push.Collector())

	// The function: each invocation's lines are parsed and aggregated, then
	// the per-invocation sinks deliver.
	ep, dp := emf.NewParser(), dogstatsd.NewParser()
	var b metric.Batch
	for i := 1; i <= invocations; i++ {
		b.Reset()
		emfLine, datagram := emitLines(i)
		origin := metric.Origin{Function: "checkout", Source: "e2e", Line: i}
		if !ep.Parse(&b, []byte(emfLine), origin) {
			t.Fatalf("invocation %d: EMF line not recognised", i)
		}
		dp.Datagram(&b, []byte(datagram), origin)
		for _, d := range b.Diags {
			t.Errorf("invocation %d: diagnostic %+v", i, d)
		}
		for j := range b.Points {
			agg.Add(&b.Points[j])
		}
		if err := rwProm.Flush(ctx); err != nil {
			t.Fatalf("invocation %d: remote write to prometheus: %v", i, err)
		}
		if err := rwVM.Flush(ctx); err != nil {
			t.Fatalf("invocation %d: remote write to victoria-metrics: %v", i, err)
		}
		if err := push.Push(ctx, agg); err != nil {
			t.Fatalf("invocation %d: push: %v", i, err)
		}
	}
	t.Logf("%d invocations delivered after %.1fs", invocations, time.Since(begin).Seconds())

	// Every route shows exactly what the function emitted.
	routes := []struct {
		name     string
		q        testenv.Querier
		selector string // labels added to every query
	}{
		{"prometheus remote_write", prom, `route="remote_write"`},
		{"victoria-metrics remote_write", vm, `route="remote_write"`},
		{"pushgateway", prom, `job="lambdabridge-push",instance="e2e"`},
		{"scrape", prom, `job="lambdabridge"`},
	}
	const timeout = 20 * time.Second
	for _, r := range routes {
		t.Run(r.name, func(t *testing.T) {
			for series, want := range expected() {
				testenv.EventuallyValue(t, r.q, withLabels(series, r.selector), want, timeout)
			}
		})
	}
	// The /metrics output (aggregation and self metrics) passes promtool.
	promtoolCheck(t, "http://"+ln.Addr().String()+"/metrics")
	// lambdabridge's own accounting reached Prometheus through /metrics.
	testenv.EventuallyValue(t, prom, `lambdabridge_pushgateway_pushes_total{job="lambdabridge",method="put"}`, invocations, timeout)

	// Accounting: everything emitted was delivered.
	for name, w := range map[string]*remotewrite.Writer{"prometheus": rwProm, "victoria-metrics": rwVM} {
		st, err := w.Close(ctx)
		if err != nil {
			t.Errorf("remote write to %s: close: %v", name, err)
		}
		if st.Emitted != st.Sent || st.Pending != 0 || st.DroppedTotal() != 0 {
			t.Errorf("remote write to %s: %s; want everything sent", name, st)
		}
		t.Logf("remote write to %s: %s", name, st)
	}
	if err := push.Finish(ctx, agg); err != nil { // DeleteOnEnd: the group goes
		t.Fatal(err)
	}
	st := push.Stats()
	if st.Pushes != invocations || len(st.Failures) != 0 || st.Deletes["ok"] != 1 {
		t.Errorf("pushgateway stats %+v: want %d pushes, no failure, one delete", st, invocations)
	}
	left, err := pg.Samples(ctx, "shop_orders_total")
	if err != nil || len(left) != 0 {
		t.Errorf("pushgateway after delete: %v %v, want no series", left, err)
	}
	t.Logf("end-to-end test took %.1fs", time.Since(begin).Seconds())
}

// promtoolCheck runs `promtool check metrics` on the text served at url.
func promtoolCheck(t *testing.T, url string) {
	t.Helper()
	promtool := testenv.LookPath(t, "prometheus", "promtool", "/usr/bin/promtool")
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics on %s: %v\n%s", url, err, out)
	}
}

// withLabels adds selector labels to a series written as name{labels}.
func withLabels(series, selector string) string {
	if n := len(series); n > 0 && series[n-1] == '}' {
		return series[:n-1] + "," + selector + "}"
	}
	return series + "{" + selector + "}"
}

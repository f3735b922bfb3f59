package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/internal/testenv"
	"github.com/lambdabridge/lambdabridge/logline"
	"github.com/lambdabridge/lambdabridge/pushgw"
	"github.com/lambdabridge/lambdabridge/remotewrite"
)

// testLog writes n invocations' worth of metric lines the way a function
// would (EMF with a counter, a latency histogram and a gauge, a MONITORING
// count and an ordinary log line), and returns the totals they add up to.
func testLog(n int, now time.Time) (log []byte, orders, latencySum, lastQueue, ddCount float64) {
	var b bytes.Buffer
	ts := now.UnixMilli()
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "2026-11-23T10:00:00.000Z\treq-%d\tINFO\thandling order %d\n", i, i)
		fmt.Fprintf(&b, `{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Orders","Unit":"Count"},{"Name":"Latency","Unit":"Milliseconds"},{"Name":"QueueDepth","Unit":"None"}]}]},"Service":"checkout","Orders":%d,"Latency":[%d,%d],"QueueDepth":%d}`+"\n",
			ts, i, 10*i, 20*i, i%7)
		fmt.Fprintf(&b, "MONITORING|%d|2|count|shop.dd.orders|#service:checkout\n", now.Unix())
		orders += float64(i)
		latencySum += float64(30*i) / 1000
		lastQueue = float64(i % 7)
		ddCount += 2
	}
	return b.Bytes(), orders, latencySum, lastQueue, ddCount
}

// TestRealBackends runs metric lines through the pipeline into a real
// Prometheus (remote_write and scraping /metrics), a real VictoriaMetrics
// (remote_write) and a real Pushgateway (scraped by that Prometheus), and
// checks through PromQL that the counts, sums and last values arrived.
func TestRealBackends(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus, VictoriaMetrics and Pushgateway")
	}
	pg := testenv.StartPushgateway(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	prom := testenv.StartPrometheus(t, testenv.WithScrapeInterval(500*time.Millisecond), testenv.WithScrape(
		testenv.ScrapeConfig{Job: "lambdabridge", Targets: []string{ln.Addr().String()}},
		testenv.ScrapeConfig{Job: "pushgateway", Targets: []string{strings.TrimPrefix(pg.URL, "http://")}, HonorLabels: true},
	))
	vm := testenv.StartVictoriaMetrics(t)

	var writers []*remotewrite.Writer
	var opts []Option
	for _, url := range []string{prom.RemoteWriteURL(), vm.RemoteWriteURL()} {
		cfg, err := remotewrite.URLConfig(url, "")
		if err != nil {
			t.Fatal(err)
		}
		w, err := remotewrite.New(cfg, remotewrite.WithInterval(200*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		writers = append(writers, w)
		opts = append(opts, WithSink(RemoteWrite(w)))
	}
	push, err := pushgw.New(pushgw.Config{URL: pg.URL, Job: "orders-fn"})
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, WithSink(Pushgateway(push, false)), WithScrape(ln),
		WithParserOptions(logline.WithClock(time.Now)))
	p, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	log, orders, latSum, lastQueue, dd := testLog(200, time.Now())
	if err := p.ReadLog(ctx, "fn.log", bytes.NewReader(log)); err != nil {
		t.Fatal(err)
	}
	p.Finish()
	p.InvocationDone() // the Pushgateway sink pushes after invocations

	checks := []struct {
		query string
		want  float64
	}{
		{`shop_orders_total{service="checkout"}`, orders},
		{`shop_latency_seconds_count{service="checkout"}`, 400},
		{`shop_latency_seconds_sum{service="checkout"}`, latSum},
		{`shop_queue_depth{service="checkout"}`, lastQueue},
		{`shop_dd_orders_total{service="checkout"}`, dd},
	}
	for _, c := range checks {
		// remote_write into Prometheus: series without a job label.
		testenv.EventuallyValue(t, prom, `sum(`+strings.Replace(c.query, "{", `{job="",`, 1)+`)`, c.want, 60*time.Second)
		// Prometheus scraping lambdabridge's /metrics.
		testenv.EventuallyValue(t, prom, `sum(`+strings.Replace(c.query, "{", `{job="lambdabridge",`, 1)+`)`, c.want, 60*time.Second)
		// Pushgateway, scraped with honor_labels: the pushed job label.
		testenv.EventuallyValue(t, prom, `sum(`+strings.Replace(c.query, "{", `{job="orders-fn",`, 1)+`)`, c.want, 60*time.Second)
		// remote_write into VictoriaMetrics.
		testenv.EventuallyValue(t, vm, `sum(`+c.query+`)`, c.want, 60*time.Second)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("pipeline shutdown: %v", err)
	}
	for _, w := range writers {
		st := w.Stats()
		if st.Emitted != st.Sent+st.DroppedTotal()+st.Pending || st.DroppedTotal() != 0 {
			t.Errorf("remote_write %s: %s: want every sample sent", w.Name(), st)
		}
	}
	if st := p.Aggregator().Stats(); st.DroppedTotal != 0 {
		t.Errorf("aggregator dropped %d values: %+v", st.DroppedTotal, st.Dropped)
	}
}

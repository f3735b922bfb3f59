package pushgw

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lambdabridge/lambdabridge/internal/testenv"
)

func counterRegistry(t testing.TB, name string, value float64) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: "Invocations."}, []string{"function"})
	c.WithLabelValues("a").Add(value)
	reg.MustRegister(c)
	return reg
}

func newSink(t testing.TB, cfg Config) *Sink {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func samples(t *testing.T, pg *testenv.Pushgateway, name string) testenv.Vector {
	t.Helper()
	v, err := pg.Samples(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func wantSamples(t *testing.T, pg *testenv.Pushgateway, name string, want testenv.Vector) {
	t.Helper()
	if got := samples(t, pg, name); got.String() != want.String() {
		t.Errorf("%s on the Pushgateway:\n%s\nwant:\n%s", name, got, want)
	}
}

// TestRealPushgatewayThroughPrometheus: values pushed to a real Pushgateway
// are on its /metrics with the grouping labels, and a real Prometheus
// scraping it with honor_labels: true reads them through PromQL.
func TestRealPushgatewayThroughPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	begin := time.Now()
	ctx := context.Background()
	pg := testenv.StartPushgateway(t)
	prom := testenv.StartPrometheus(t, testenv.WithScrape(testenv.ScrapeConfig{
		Job: "pushgateway", Targets: []string{pg.Addr}, HonorLabels: true,
	}))

	reg := prometheus.NewRegistry()
	inv := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lb_invocations_total", Help: "Invocations."}, []string{"function"})
	mem := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "lb_memory_bytes", Help: "Memory."}, []string{"function"})
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "lb_duration_seconds", Help: "Duration.", Buckets: []float64{0.1, 1}}, []string{"function"})
	reg.MustRegister(inv, mem, dur)
	inv.WithLabelValues("a").Add(7)
	mem.WithLabelValues("a").Set(1024)
	for _, v := range []float64{0.05, 0.5, 2} {
		dur.WithLabelValues("a").Observe(v)
	}

	s := newSink(t, Config{URL: pg.URL, Job: "lambdabridge", Grouping: map[string]string{"instance": "env-1"}})
	if err := s.Push(ctx, reg); err != nil {
		t.Fatal(err)
	}
	wantSamples(t, pg, "lb_invocations_total", testenv.Vector{`lb_invocations_total{function="a", instance="env-1", job="lambdabridge"}`: 7})
	wantSamples(t, pg, "lb_duration_seconds", testenv.Vector{
		`lb_duration_seconds_count{function="a", instance="env-1", job="lambdabridge"}`: 3,
		`lb_duration_seconds_sum{function="a", instance="env-1", job="lambdabridge"}`:   2.55,
	})

	prom.WaitTargetsUp(t, "pushgateway", 1, 30*time.Second)
	sel := `{job="lambdabridge", instance="env-1", function="a"}`
	testenv.EventuallyValue(t, prom, "lb_invocations_total"+sel, 7, 10*time.Second)
	testenv.EventuallyValue(t, prom, "lb_memory_bytes"+sel, 1024, 5*time.Second)
	testenv.EventuallyValue(t, prom, "lb_duration_seconds_count"+sel, 3, 5*time.Second)
	testenv.EventuallyValue(t, prom, "lb_duration_seconds_sum"+sel, 2.55, 5*time.Second)
	testenv.EventuallyValue(t, prom, `lb_duration_seconds_bucket{job="lambdabridge", le="1"}`, 2, 5*time.Second)

	// A later push is seen too (last value wins for the gauge).
	inv.WithLabelValues("a").Add(3)
	mem.WithLabelValues("a").Set(2048)
	if err := s.Push(ctx, reg); err != nil {
		t.Fatal(err)
	}
	testenv.EventuallyValue(t, prom, "lb_invocations_total"+sel, 10, 10*time.Second)
	testenv.EventuallyValue(t, prom, "lb_memory_bytes"+sel, 2048, 5*time.Second)

	// The pitfall through PromQL: two environments with their own instance
	// label both survive and sum; a third pusher without one does not add.
	other := newSink(t, Config{URL: pg.URL, Job: "lambdabridge", Grouping: map[string]string{"instance": "env-2"}})
	if err := other.Push(ctx, counterRegistry(t, "lb_invocations_total", 5)); err != nil {
		t.Fatal(err)
	}
	testenv.EventuallyValue(t, prom, `sum(lb_invocations_total{job="lambdabridge"})`, 15, 10*time.Second)
	t.Logf("pushgateway + prometheus integration took %.1fs", time.Since(begin).Seconds())
}

// TestRealPushgatewayPutVsPost: PUT replaces the whole group, POST only the
// families pushed.
func TestRealPushgatewayPutVsPost(t *testing.T) {
	ctx := context.Background()
	pg := testenv.StartPushgateway(t)
	both := prometheus.NewRegistry()
	x := prometheus.NewCounter(prometheus.CounterOpts{Name: "x_total", Help: "x"})
	y := prometheus.NewGauge(prometheus.GaugeOpts{Name: "y", Help: "y"})
	both.MustRegister(x, y)
	x.Add(1)
	y.Set(1)
	onlyX := counterRegistry(t, "x_total", 2)

	put := newSink(t, Config{URL: pg.URL, Job: "j", Method: MethodPut})
	post := newSink(t, Config{URL: pg.URL, Job: "j", Method: MethodPost})
	if err := put.Push(ctx, both); err != nil {
		t.Fatal(err)
	}
	wantSamples(t, pg, "y", testenv.Vector{`y{instance="", job="j"}`: 1})

	// POST with only x_total: x replaced, y stays.
	if err := post.Push(ctx, onlyX); err != nil {
		t.Fatal(err)
	}
	wantSamples(t, pg, "x_total", testenv.Vector{`x_total{function="a", instance="", job="j"}`: 2})
	wantSamples(t, pg, "y", testenv.Vector{`y{instance="", job="j"}`: 1})

	// PUT with only x_total: y is gone.
	if err := put.Push(ctx, onlyX); err != nil {
		t.Fatal(err)
	}
	wantSamples(t, pg, "x_total", testenv.Vector{`x_total{function="a", instance="", job="j"}`: 2})
	wantSamples(t, pg, "y", testenv.Vector{})
}

// TestRealPushgatewayDeleteAtEnd: Run pushes every interval and, with
// DeleteOnEnd, removes the group when ctx ends; without it, it pushes the
// final state.
func TestRealPushgatewayDeleteAtEnd(t *testing.T) {
	pg := testenv.StartPushgateway(t)
	for _, del := range []bool{true, false} {
		reg := prometheus.NewRegistry()
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: "runs_total", Help: "h"})
		reg.MustRegister(c)
		c.Add(1)
		s := newSink(t, Config{URL: pg.URL, Job: "j", Grouping: map[string]string{"instance": "env-1"},
			Interval: 50 * time.Millisecond, DeleteOnEnd: del})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx, reg) }()
		key := `runs_total{instance="env-1", job="j"}`
		testenv.Eventually(t, 5*time.Second, func() bool { return samples(t, pg, "runs_total")[key] == 1 }, "first push")
		c.Add(1) // after the last tick, before the end
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if del {
			wantSamples(t, pg, "runs_total", testenv.Vector{})
			if _, ok := samples(t, pg, "push_time_seconds")[`push_time_seconds{instance="env-1", job="j"}`]; ok {
				t.Error("the group's push_time_seconds is still there after delete")
			}
		} else {
			wantSamples(t, pg, "runs_total", testenv.Vector{key: 2})
		}
	}
}

// TestRealPushgatewayConcurrentPushersOverwrite shows the documented
// pitfall: the Pushgateway keeps the last push per grouping key, it does not
// add. Pusher A pushes a counter of 5, pusher B 3 with the same key: 3 is
// visible, not 8. With an instance label each, both groups survive (8 in
// sum).
func TestRealPushgatewayConcurrentPushersOverwrite(t *testing.T) {
	ctx := context.Background()
	pg := testenv.StartPushgateway(t)

	a := newSink(t, Config{URL: pg.URL, Job: "shared"})
	b := newSink(t, Config{URL: pg.URL, Job: "shared"})
	if err := a.Push(ctx, counterRegistry(t, "lb_invocations_total", 5)); err != nil {
		t.Fatal(err)
	}
	if err := b.Push(ctx, counterRegistry(t, "lb_invocations_total", 3)); err != nil {
		t.Fatal(err)
	}
	got := samples(t, pg, "lb_invocations_total")
	wantLost := testenv.Vector{`lb_invocations_total{function="a", instance="", job="shared"}`: 3}
	if got.String() != wantLost.String() {
		t.Fatalf("same grouping key: got\n%swant (B overwrote A)\n%s", got, wantLost)
	}
	t.Logf("same grouping key: A pushed 5, B pushed 3, the Pushgateway shows %v (5 lost)", got[`lb_invocations_total{function="a", instance="", job="shared"}`])

	a = newSink(t, Config{URL: pg.URL, Job: "separate", Grouping: map[string]string{"instance": "A"}})
	b = newSink(t, Config{URL: pg.URL, Job: "separate", Grouping: map[string]string{"instance": "B"}})
	if err := a.Push(ctx, counterRegistry(t, "lb_invocations_total", 5)); err != nil {
		t.Fatal(err)
	}
	if err := b.Push(ctx, counterRegistry(t, "lb_invocations_total", 3)); err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for k, v := range samples(t, pg, "lb_invocations_total") {
		if k != `lb_invocations_total{function="a", instance="", job="shared"}` {
			sum += v
		}
	}
	wantSamples(t, pg, "lb_invocations_total", testenv.Vector{
		`lb_invocations_total{function="a", instance="", job="shared"}`:    3,
		`lb_invocations_total{function="a", instance="A", job="separate"}`: 5,
		`lb_invocations_total{function="a", instance="B", job="separate"}`: 3,
	})
	if sum != 8 {
		t.Errorf("distinct instance labels: sum %g, want 8", sum)
	}
}

// TestRealPushgatewayRejectsTimestamps: the reason Push strips them. A
// registry with a timestamped sample pushes fine through the sink.
func TestRealPushgatewayRejectsTimestamps(t *testing.T) {
	ctx := context.Background()
	pg := testenv.StartPushgateway(t)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, pg.URL+"/metrics/job/raw", strings.NewReader("lb_last_value 4 1700000000000\n"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("raw push with a timestamp: status %d, want 400", resp.StatusCode)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(timestamped{})
	s := newSink(t, Config{URL: pg.URL, Job: "j"})
	if err := s.Push(ctx, reg); err != nil {
		t.Fatalf("push of a timestamped sample: %v", err)
	}
	wantSamples(t, pg, "lb_last_value", testenv.Vector{`lb_last_value{instance="", job="j"}`: 4})
}

type timestamped struct{}

var tsDesc = prometheus.NewDesc("lb_last_value", "Last value.", nil, nil)

func (timestamped) Describe(ch chan<- *prometheus.Desc) { ch <- tsDesc }
func (timestamped) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.NewMetricWithTimestamp(time.Now(), prometheus.MustNewConstMetric(tsDesc, prometheus.GaugeValue, 4))
}

// TestRealPushgatewayGroupingValues: grouping values with a slash, a space
// and a plus reach a real Pushgateway as the labels they are, and a delete
// finds the same group.
func TestRealPushgatewayGroupingValues(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	pg := testenv.StartPushgateway(t)
	s := newSink(t, Config{URL: pg.URL, Job: "a/job", Grouping: map[string]string{"instance": "env/1", "stage": "blue green+1"}})
	if err := s.Push(t.Context(), counterRegistry(t, "lb_grouped_total", 4)); err != nil {
		t.Fatal(err)
	}
	wantSamples(t, pg, "lb_grouped_total", testenv.Vector{`lb_grouped_total{function="a", instance="env/1", job="a/job", stage="blue green+1"}`: 4})
	if err := s.Delete(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantSamples(t, pg, "lb_grouped_total", testenv.Vector{})
}

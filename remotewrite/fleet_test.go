package remotewrite

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/lambdabridge/lambdabridge/compare/backend"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
)

// bridge is one lambdabridge of a fleet: its own aggregation (here a
// registry holding one function's counter and gauge) and its Writer, with
// an external label telling it apart.
type bridge struct {
	name   string
	reg    *prometheus.Registry
	orders prometheus.Counter
	w      *Writer
	adds   int
	stats  Stats // at Close
}

// runFleet runs n bridges of one function (same series apart from the
// external label bridge=bN, unless unlabelled) into url(i) while mid runs (a
// receiver killed and restarted, or nothing), then closes them; bridge i
// adds i+1 per step. Each gathers every 100 ms (remote_write_interval).
func runFleet(t *testing.T, n int, url func(i int) string, mid func(), opts ...fleetOption) []*bridge {
	var o fleetOptions
	for _, f := range opts {
		f(&o)
	}
	t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	bridges := make([]*bridge, n)
	for i := range bridges {
		reg := prometheus.NewRegistry()
		orders := prometheus.NewCounter(prometheus.CounterOpts{Name: "fleet_orders_total", Help: "Orders.",
			ConstLabels: prometheus.Labels{"function_name": "orders"}})
		reg.MustRegister(orders)
		cfg := DefaultConfig()
		cfg.URL = url(i)
		cfg.QueueConfig.MaxBackoff = model.Duration(500 * time.Millisecond)
		cfg.QueueConfig.BatchSendDeadline = model.Duration(50 * time.Millisecond)
		cfg.RemoteTimeout = model.Duration(5 * time.Second)
		labels := map[string]string{"bridge": fmt.Sprint("b", i+1)}
		if o.unlabelled {
			labels = nil
		}
		cfg.Headers = o.headers
		w, err := New(cfg, WithGatherer(reg), WithInterval(100*time.Millisecond), WithExternalLabels(labels))
		if err != nil {
			t.Fatal(err)
		}
		b := &bridge{name: fmt.Sprint("b", i+1), reg: reg, orders: orders, w: w}
		bridges[i] = b
		ctx, cancel := context.WithCancel(context.Background())
		wg.Add(2)
		go func() { defer wg.Done(); _ = w.Run(ctx, reg) }()
		go func() {
			defer wg.Done()
			defer cancel()
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					orders.Add(float64(i + 1))
					b.adds++
				}
			}
		}()
	}
	mid()
	close(stop)
	wg.Wait()
	for _, b := range bridges {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		s, err := b.w.Close(ctx)
		cancel()
		b.stats = s
		if (err != nil || s.DroppedTotal() != 0 || s.Pending != 0) && !o.unlabelled {
			t.Errorf("bridge %s: close: %v; stats %s", b.name, err, s)
		}
		t.Logf("bridge %s: %d steps; %s (retried %v)", b.name, b.adds, s, s.Retried)
	}
	return bridges
}

type fleetOptions struct {
	unlabelled bool              // no external label: the bridges write one series
	headers    map[string]string // sent with every request
}

type fleetOption func(*fleetOptions)

// checkFleet reads every bridge's last value and the sum from q: exact.
// last_over_time skips the stale markers that end the series at Close.
func checkFleet(t *testing.T, q testenv.Querier, bridges []*bridge) {
	t.Helper()
	total := 0.0
	for i, b := range bridges {
		want := float64(b.adds * (i + 1))
		total += want
		testenv.EventuallyValue(t, q, fmt.Sprintf(`last_over_time(fleet_orders_total{function_name="orders",bridge=%q}[10m])`, b.name), want, 30*time.Second)
	}
	testenv.EventuallyValue(t, q, `sum(last_over_time(fleet_orders_total{function_name="orders"}[10m]))`, total, 30*time.Second)
}

func pause(d time.Duration) func() { return func() { time.Sleep(d) } }

// TestFleet: three bridges of one function, told apart by an external
// label, into one backend give exact per-bridge and summed values (before,
// 14 of 17 values were wrong: out-of-order rejects, interleaved resets).
func TestFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real backends; skipped with -short")
	}
	t.Run("prometheus", func(t *testing.T) {
		p := testenv.StartPrometheus(t)
		checkFleet(t, p, runFleet(t, 3, func(int) string { return p.RemoteWriteURL() }, pause(2*time.Second)))
	})
	t.Run("prometheus-without-external-labels", func(t *testing.T) {
		// the control: one series for three bridges, refused as out of order
		p := testenv.StartPrometheus(t)
		dropped := int64(0)
		for _, b := range runFleet(t, 3, func(int) string { return p.RemoteWriteURL() }, pause(2*time.Second), func(o *fleetOptions) { o.unlabelled = true }) {
			dropped += b.stats.DroppedTotal()
		}
		if dropped == 0 {
			t.Errorf("three bridges without external labels: nothing refused; the labelled case proves nothing")
		}
	})
	t.Run("victoria-metrics", func(t *testing.T) {
		v := testenv.StartVictoriaMetrics(t)
		checkFleet(t, v, runFleet(t, 3, func(int) string { return v.RemoteWriteURL() }, pause(2*time.Second)))
	})
	t.Run("thanos-receive-hashring", func(t *testing.T) {
		h := startThanosHashring(t)
		tenant := func(o *fleetOptions) { o.headers = map[string]string{"THANOS-TENANT": "team-a"} }
		checkFleet(t, h.query, runFleet(t, 3, h.RemoteWriteURL, pause(3*time.Second), tenant))
		// the tenant header (--remote-write-header, headers:) reached Thanos
		testenv.EventuallyValue(t, h.query, `count(last_over_time(fleet_orders_total{tenant_id="team-a"}[10m]))`, 3, 30*time.Second)
	})
}

// TestReceiverRestartLosesNothing: a receiver killed and restarted mid-run
// (on its data directory) loses nothing: the writers retry until it is back
// and deliver every final value, no sample dropped.
func TestReceiverRestartLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real backends; skipped with -short")
	}
	t.Run("prometheus", func(t *testing.T) {
		dir := t.TempDir()
		start := func() *backend.Prometheus {
			p, err := backend.StartPrometheus(context.Background(), backend.WithDir(dir), backend.WithScrapeInterval(time.Second))
			if err != nil {
				t.Skipf("prometheus: %v", err)
			}
			t.Cleanup(p.Stop)
			return p
		}
		p := start()
		fw := newForwarder(t)
		fw.set(p.Addr())
		bridges := runFleet(t, 3, func(int) string { return fw.URL("/api/v1/write") }, func() {
			time.Sleep(time.Second)
			p.Stop()
			fw.set("")
			time.Sleep(2 * time.Second)
			p = start()
			fw.set(p.Addr())
			time.Sleep(time.Second)
		})
		q, err := testenv.NewPromQL(p.URL)
		if err != nil {
			t.Fatal(err)
		}
		checkFleet(t, q, bridges)
	})
	t.Run("victoria-metrics", func(t *testing.T) {
		dir := t.TempDir()
		start := func() *backend.VictoriaMetrics {
			v, err := backend.StartVictoriaMetrics(context.Background(), backend.WithDir(dir))
			if err != nil {
				t.Skipf("victoria-metrics: %v", err)
			}
			t.Cleanup(v.Stop)
			return v
		}
		v := start()
		fw := newForwarder(t)
		fw.set(v.Addr())
		bridges := runFleet(t, 3, func(int) string { return fw.URL("/api/v1/write") }, func() {
			time.Sleep(time.Second)
			v.Stop()
			fw.set("")
			time.Sleep(2 * time.Second)
			v = start()
			fw.set(v.Addr())
			time.Sleep(time.Second)
		})
		checkFleet(t, flushingQuerier{v}, bridges)
	})
	t.Run("thanos-receive-hashring", func(t *testing.T) {
		h := startThanosHashring(t)
		bridges := runFleet(t, 3, func(int) string { return h.RemoteWriteURL(0) }, func() {
			time.Sleep(2 * time.Second)
			h.stop(0) // the receiver the bridges write to
			time.Sleep(2 * time.Second)
			h.start(0)
			time.Sleep(2 * time.Second)
		})
		checkFleet(t, h.query, bridges)
	})
}

// flushingQuerier makes VictoriaMetrics' recent samples searchable before
// each query.
type flushingQuerier struct{ v *backend.VictoriaMetrics }

func (q flushingQuerier) Query(ctx context.Context, query string) (testenv.Vector, error) {
	if err := q.v.Flush(ctx); err != nil {
		return nil, err
	}
	p, err := testenv.NewPromQL(q.v.URL)
	if err != nil {
		return nil, err
	}
	return p.Query(ctx, query)
}

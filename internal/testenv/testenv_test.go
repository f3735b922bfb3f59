package testenv

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"
)

func TestPrometheusRemoteWriteAndFileSD(t *testing.T) {
	begin := time.Now()
	prom := StartPrometheus(t, WithScrape(ScrapeConfig{Job: "app", FileSD: true}))
	t.Logf("prometheus started in %v", time.Since(begin))
	ctx := context.Background()

	// Remote write: exact values, readable at once.
	err := WriteSamples(ctx, prom.RemoteWriteURL(), Series{
		Labels:  map[string]string{"__name__": "rw_total", "fn": "a"},
		Samples: []prompb.Sample{{Value: 42}},
	})
	if err != nil {
		t.Fatal(err)
	}
	EventuallyValue(t, prom, `rw_total{fn="a"}`, 42, 10*time.Second)

	// file_sd: a target added after start is scraped.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "# TYPE app_value gauge\napp_value 7")
	}))
	defer srv.Close()
	prom.SetTargets(t, "app", strings.TrimPrefix(srv.URL, "http://"))
	prom.WaitTargetsUp(t, "app", 1, 20*time.Second)
	EventuallyVector(t, prom, `app_value`, Vector{
		`app_value{instance="` + strings.TrimPrefix(srv.URL, "http://") + `", job="app"}`: 7,
	}, 10*time.Second)

	m, err := prom.QueryRange(ctx, `rw_total`, time.Now().Add(-time.Minute), time.Now(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 {
		t.Fatalf("query_range: want 1 series, got %v", m)
	}
	t.Logf("total %v", time.Since(begin))
}

func TestVictoriaMetricsRemoteWrite(t *testing.T) {
	begin := time.Now()
	vm := StartVictoriaMetrics(t)
	t.Logf("victoria-metrics started in %v", time.Since(begin))
	ctx := context.Background()
	err := WriteSamples(ctx, vm.RemoteWriteURL(), Series{
		Labels:  map[string]string{"__name__": "rw_total", "fn": "a"},
		Samples: []prompb.Sample{{Value: 42}},
	})
	if err != nil {
		t.Fatal(err)
	}
	EventuallyValue(t, vm, `rw_total{fn="a"}`, 42, 10*time.Second)
	t.Logf("total %v", time.Since(begin))
}

func TestPushgateway(t *testing.T) {
	pg := StartPushgateway(t)
	ctx := context.Background()
	if _, err := do(ctx, http.MethodPut, pg.URL+"/metrics/job/j/instance/i", []byte("# TYPE x_total counter\nx_total 3\n")); err != nil {
		t.Fatal(err)
	}
	got, err := pg.Samples(ctx, "x_total")
	if err != nil {
		t.Fatal(err)
	}
	want := Vector{`x_total{instance="i", job="j"}`: 3}
	if got.String() != want.String() {
		t.Fatalf("got %v want %v", got, want)
	}
	// Timestamps are rejected.
	_, err = do(ctx, http.MethodPut, pg.URL+"/metrics/job/j", []byte("x_total 3 1700000000000\n"))
	if !IsStatus(err, http.StatusBadRequest) {
		t.Fatalf("push with timestamp: want 400, got %v", err)
	}
}

// TestStopKillsProcessGroup checks that a stopped backend is gone.
func TestStopKillsProcessGroup(t *testing.T) {
	var pid int
	t.Run("inner", func(t *testing.T) {
		pg := StartPushgateway(t)
		// The process with this address on its command line is the
		// pushgateway this subtest started.
		if pids := ProcessesWith(pg.Addr); len(pids) == 1 {
			pid = pids[0]
		}
	})
	if pid == 0 {
		t.Skip("could not find the process")
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("process %d still alive after cleanup", pid)
	}
}

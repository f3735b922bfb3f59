package backend

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// need skips (fails under CI) when a backend's binary is missing.
func need(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, ErrNotFound) {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v; CI is set, so a missing backend is a failure", err)
		}
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestPrometheusScrapesFileSDTargetsAndStops(t *testing.T) {
	ctx := context.Background()
	prom, err := StartPrometheus(ctx, WithScrapeInterval(time.Second),
		WithScrape(ScrapeConfig{Job: "test", FileSD: true, HonorLabels: true}))
	need(t, err)
	defer prom.Stop()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("# TYPE x_total counter\nx_total{strategy=\"test\"} 42\n"))
	}))
	defer target.Close()
	if err := prom.SetTargets("test", Target{Addr: target.Listener.Addr().String()}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		v, err := prom.Instant(ctx, `x_total{job="test",strategy="test"}`, time.Now())
		if err == nil && len(v) == 1 && v[0].Value == 42 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("x_total not scraped: %v %v", v, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	raw, err := prom.RangeVector(ctx, `x_total{strategy="test"}[1m]`, time.Now())
	if err != nil || len(raw) != 1 || len(raw[0].Values) == 0 || raw[0].Metric["__name__"] != "x_total" {
		t.Errorf("RangeVector: %+v, %v", raw, err)
	}
	rng, err := prom.Range(ctx, `x_total`, v1.Range{Start: time.Now().Add(-10 * time.Second), End: time.Now(), Step: time.Second})
	if err != nil || len(rng) != 1 {
		t.Errorf("Range: %+v, %v", rng, err)
	}
	if _, err := prom.RangeVector(ctx, `x_total`, time.Now()); err == nil {
		t.Errorf("RangeVector of an instant vector: no error")
	}
	if _, err := prom.Instant(ctx, `x_total[`, time.Now()); err == nil {
		t.Errorf("Instant of a bad query: no error")
	}
	if err := prom.Reload(ctx); err != nil {
		t.Errorf("Reload: %v", err)
	}
	dir := prom.Dir
	prom.Stop()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("directory %s left behind (%v)", dir, err)
	}
	if _, err := http.Get(prom.URL + "/-/ready"); err == nil {
		t.Errorf("prometheus still answers after Stop")
	}
}

func TestPushgatewayInGivenDirStartsAndStops(t *testing.T) {
	dir := t.TempDir()
	pg, err := StartPushgateway(context.Background(), WithDir(dir))
	need(t, err)
	resp, err := http.Get(pg.URL + "/-/ready")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("not ready: %v", err)
	}
	resp.Body.Close()
	pg.Stop()
	pg.Stop() // idempotent
	if _, err := os.Stat(pg.LogPath); err != nil {
		t.Errorf("a directory given with WithDir must stay: %v", err)
	}
	if _, err := http.Get(pg.URL + "/-/ready"); err == nil {
		t.Errorf("pushgateway still answers after Stop")
	}
}

func TestWriteTargets(t *testing.T) {
	p := filepath.Join(t.TempDir(), "t.json")
	if err := WriteTargets(p, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "[]" {
		t.Errorf("empty targets: %s", b)
	}
	if err := WriteTargets(p, []Target{{Addr: "127.0.0.1:1", Labels: map[string]string{"a": "b"}}}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != `[{"labels":{"a":"b"},"targets":["127.0.0.1:1"]}]` {
		t.Errorf("targets: %s", b)
	}
}

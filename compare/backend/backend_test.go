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
)

// need starts a backend or skips (fails under CI) when its binary is missing.
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
	prom, err := StartPrometheus(ctx, PrometheusConfig{ScrapeInterval: time.Second})
	need(t, err)
	defer prom.Stop()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("# TYPE x_total counter\nx_total{strategy=\"test\"} 42\n"))
	}))
	defer target.Close()
	if err := WriteTargets(prom.FileSD, []Target{{Addr: target.Listener.Addr().String()}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		v, err := prom.QueryScalar(ctx, `x_total{strategy="test"}`, time.Now())
		if err == nil && v == 42 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("x_total not scraped: %v %v", v, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	raw, err := prom.QuerySeries(ctx, `x_total{strategy="test"}[1m]`, time.Now())
	if err != nil || len(raw) != 1 || len(raw[0].Points) == 0 || raw[0].Labels["__name__"] != "x_total" {
		t.Errorf("QuerySeries: %+v, %v", raw, err)
	}
	rng, err := prom.QueryRange(ctx, `x_total`, time.Now().Add(-10*time.Second), time.Now(), time.Second)
	if err != nil || len(rng) != 1 {
		t.Errorf("QueryRange: %+v, %v", rng, err)
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

func TestPushgatewayStartsAndStops(t *testing.T) {
	pg, err := StartPushgateway(context.Background(), nil)
	need(t, err)
	resp, err := http.Get(pg.URL + "/-/ready")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("not ready: %v", err)
	}
	resp.Body.Close()
	pg.Stop()
	pg.Stop() // idempotent
	if _, err := os.Stat(pg.Dir); !os.IsNotExist(err) {
		t.Errorf("directory left behind")
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

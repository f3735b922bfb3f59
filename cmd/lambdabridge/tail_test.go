package main

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
)

// rwReceiver is a remote_write endpoint that keeps the last value of every
// series it received, by its name and labels.
type rwReceiver struct {
	mu      sync.Mutex
	last    map[string]float64
	headers http.Header // of the last request
}

func newRWReceiver(t *testing.T) (*rwReceiver, string) {
	rw := &rwReceiver{last: map[string]float64{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		raw, err := snappy.Decode(nil, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var req prompb.WriteRequest
		if err := req.Unmarshal(raw); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rw.mu.Lock()
		rw.headers = r.Header.Clone()
		for _, ts := range req.Timeseries {
			var key []string
			for _, l := range ts.Labels {
				key = append(key, l.Name+"="+l.Value)
			}
			for _, s := range ts.Samples {
				if !math.IsNaN(s.Value) { // a stale marker ends a series that vanished
					rw.last[strings.Join(key, ",")] = s.Value
				}
			}
		}
		rw.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return rw, srv.URL
}

func (rw *rwReceiver) value(key string) (float64, bool) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	v, ok := rw.last[key]
	return v, ok
}

func TestTailFileToRemoteWriteAndCatalog(t *testing.T) {
	rw, url := newRWReceiver(t)
	cat := filepath.Join(t.TempDir(), "catalog.json")
	_, stderr, code := runCmd(t, "", "tail", "--listen", "none", "--now", goldenNow,
		"--remote-write", url, "--catalog", cat, "testdata/golden/mixed.log")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "errors, ") || !strings.Contains(stderr, "[emf/unit]") {
		t.Errorf("stderr lacks the input problems:\n%s", stderr)
	}
	c := readCatalog(t, cat)
	if _, ok := c.Family("shop_orders_total"); !ok {
		t.Errorf("catalog lacks shop_orders_total: %v", c.Families())
	}
	if len(rw.last) == 0 {
		t.Fatal("remote_write received nothing")
	}
	if v, ok := rw.value(`__name__=shop_dd_orders_total,env=prod,service=checkout`); v != 3 {
		t.Errorf("remote_write shop_dd_orders_total = %v (present %v), want 3: %v", v, ok, rw.last)
	}
	if v, _ := rw.value(`__name__=shop_latency_seconds_count,service=checkout`); v != 3 {
		t.Errorf("remote_write shop_latency_seconds_count{service} = %v, want 3", v)
	}
}

// TestTailNameLabelsAndHeaders: tail --name gives the series a
// function_name as run does, --external-label adds labels (HA
// __replica__ included) and --remote-write-header a tenant header, so
// several bridges can share one backend.
func TestTailNameLabelsAndHeaders(t *testing.T) {
	rw, url := newRWReceiver(t)
	_, stderr, code := runCmd(t, "", "tail", "--listen", "none", "--now", goldenNow, "--quiet",
		"--remote-write", url, "--name", "checkout-fn", "--external-label", "bridge=b1", "--external-label", "__replica__=a",
		"--remote-write-header", "X-Scope-OrgID: tenant-1", "testdata/golden/mixed.log")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	key := `__name__=shop_dd_orders_total,__replica__=a,bridge=b1,env=prod,function_name=checkout-fn,service=checkout`
	if v, ok := rw.value(key); v != 3 {
		t.Errorf("remote_write %s = %v (present %v), want 3: %v", key, v, ok, rw.last)
	}
	rw.mu.Lock()
	org := rw.headers.Get("X-Scope-OrgID")
	rw.mu.Unlock()
	if org != "tenant-1" {
		t.Errorf("X-Scope-OrgID = %q, want tenant-1", org)
	}
	for _, tc := range []struct{ flag, value, want string }{
		{"--external-label", "__name__=x", "names starting with __ are reserved"},
		{"--external-label", "novalue", "want NAME=VALUE"},
		{"--remote-write-header", "Content-Type: x", "reserved"},
	} {
		_, stderr, code := runCmd(t, "", "tail", "--listen", "none", "--remote-write", url, tc.flag, tc.value, "testdata/golden/mixed.log")
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s %s: exit %d, stderr %q, want %q", tc.flag, tc.value, code, stderr, tc.want)
		}
	}
}

func TestTailFollowStopsOnCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fn.log")
	if err := os.WriteFile(path, []byte("MONITORING|1795428000|1|count|a.b|#x:y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var errb syncBuffer
	go func() {
		m := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &errb, Getenv: func(string) string { return "" }}
		done <- m.Exit(m.Run(ctx, []string{"tail", "--follow", "--listen", "none", path}))
	}()
	time.Sleep(300 * time.Millisecond)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("MONITORING|1795428000|x|count|a.b|#x:y\n") // broken: reported while following
	f.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errb.String(), "[monitoring/bad-value]") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d:\n%s", code, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("tail --follow did not stop after cancel")
	}
	if !strings.Contains(errb.String(), "[monitoring/bad-value]") || !strings.Contains(errb.String(), "1 series in 1 family") {
		t.Errorf("stderr:\n%s", errb.String())
	}
}

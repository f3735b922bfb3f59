package remotewrite

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A summary shows the URL without credentials and the last failure in a few
// words.
func TestStatus(t *testing.T) {
	rc := newReceiver(t)
	rc.respond = func(n int, w http.ResponseWriter, _ *http.Request) bool {
		if n == 1 {
			http.Error(w, "out of order sample", http.StatusBadRequest)
			return true
		}
		return false
	}
	w := newTestWriter(t, testConfig(rc.url()))
	if got := w.LastError(); got != "" {
		t.Errorf("LastError before any send = %q", got)
	}
	_ = w.Append(gauges(2, 1), time.UnixMilli(1000))
	_ = flush(t, w)
	if got, want := w.LastError(), "HTTP 400: out of order sample"; got != want {
		t.Errorf("LastError = %q, want %q", got, want)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://user:secret@" + ln.Addr().String() + "/api/v1/write?token=x"
	ln.Close()
	cfg := testConfig(closed)
	cfg.QueueConfig.MaxBackoff = cfg.QueueConfig.MinBackoff
	w = newTestWriter(t, cfg)
	_ = w.Append(gauges(1, 1), time.UnixMilli(1000))
	deadline := time.Now().Add(5 * time.Second)
	for w.LastError() == "" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got, want := w.LastError(), "connection refused"; got != want {
		t.Errorf("LastError = %q, want %q", got, want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _ = w.Close(ctx) // the receiver never comes: drop what is queued
	if u := w.URL(); strings.Contains(u, "secret") || strings.Contains(u, "token") || !strings.HasSuffix(u, "/api/v1/write") {
		t.Errorf("URL() = %q, want the endpoint without credentials or query", u)
	}
}

package extension

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSubscribeAnswers: the Telemetry API subscription succeeds only on an
// answer without an error, whatever its status: the Runtime Interface
// Emulator answers 202 with Telemetry.NotSupported.
func TestSubscribeAnswers(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr string
	}{
		{"Lambda", http.StatusOK, "OK", ""},
		{"empty", http.StatusOK, "", ""},
		{"RIE", http.StatusAccepted, `{"errorMessage":"Telemetry API is not supported","errorType":"Telemetry.NotSupported"}`,
			"telemetry subscribe: Telemetry.NotSupported: Telemetry API is not supported"},
		{"not found", http.StatusNotFound, "404 page not found", "HTTP 404: 404 page not found"},
		{"refused", http.StatusBadRequest, `{"errorMessage":"bad URI","errorType":"ValidationError"}`, "HTTP 400"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPut || r.URL.Path != "/2022-07-01/telemetry" || r.Header.Get("Lambda-Extension-Identifier") != "id-1" {
					t.Errorf("%s %s (identifier %q)", r.Method, r.URL.Path, r.Header.Get("Lambda-Extension-Identifier"))
				}
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c := newClient(strings.TrimPrefix(srv.URL, "http://"), "x")
			c.id = "id-1"
			err := c.subscribe(context.Background(), 1234, 25)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("subscribe: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("subscribe: %v, want an error holding %q", err, tc.wantErr)
			}
		})
	}
}

// TestClientConnection: the client keeps one connection for its requests,
// reads answers with a length or chunked, sends a request again on a new
// connection when the server had closed the idle one, follows
// "Connection: close", and a context's end ends a wait for next at once.
func TestClientConnection(t *testing.T) {
	var conns atomic.Int64
	var closeIdle atomic.Bool
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/2020-01-01/extension/register":
			if b, _ := io.ReadAll(r.Body); string(b) != `{"events":["INVOKE","SHUTDOWN"]}` || r.Header.Get("Lambda-Extension-Name") != "x" {
				t.Errorf("register: %q, name %q", b, r.Header.Get("Lambda-Extension-Name"))
			}
			w.Header().Set("Lambda-Extension-Identifier", "id-1")
			w.Write([]byte(`{"functionName":"f"}`))
		case "/2020-01-01/extension/event/next":
			if r.Header.Get("Lambda-Extension-Identifier") != "id-1" {
				t.Errorf("next without the identifier: %v", r.Header)
			}
			// The answer is chunked: flushed before its end.
			if closeIdle.Load() {
				w.Header().Set("Connection", "close")
			}
			if r.Header.Get("X-Wait") != "" {
				<-release
			}
			w.Write([]byte(`{"eventType":"INVOKE",`))
			w.(http.Flusher).Flush()
			w.Write([]byte(`"requestId":"r-1","deadlineMs":1}`))
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	defer close(release)
	c := newClient(strings.TrimPrefix(srv.URL, "http://"), "x")
	ctx := context.Background()
	if err := c.register(ctx, []string{"INVOKE", "SHUTDOWN"}); err != nil || c.id != "id-1" {
		t.Fatalf("register: %v (identifier %q)", err, c.id)
	}
	for i := range 3 {
		ev, err := c.next(ctx)
		if err != nil || ev.EventType != "INVOKE" || ev.RequestID != "r-1" {
			t.Fatalf("next %d: %+v, %v", i, ev, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 4 requests, want 1", n)
	}
	// The server ends the idle connection: the next request goes on a new one.
	srv.CloseClientConnections()
	if _, err := c.next(ctx); err != nil {
		t.Fatalf("next after the server closed the connection: %v", err)
	}
	// An answer with Connection: close ends the connection.
	closeIdle.Store(true)
	if _, err := c.next(ctx); err != nil {
		t.Fatal(err)
	}
	closeIdle.Store(false)
	if _, err := c.next(ctx); err != nil {
		t.Fatal(err)
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections, want 3 (the first, after the server's close, after Connection: close)", n)
	}
	// A wait for next ends with its context.
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := c.do(wctx, http.MethodGet, "/2020-01-01/extension/event/next", nil, map[string]string{"X-Wait": "1"})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("next past its context: %v after %v", err, time.Since(start))
	}
}
